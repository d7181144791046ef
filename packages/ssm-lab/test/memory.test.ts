/**
 * Memory bounds through the `ssm-lab` command: sizes too large for the memory budget exit 2 within seconds with
 * a MemoryError naming the option and the bytes (before, --T 10000000 was OOM-killed after 9 s at 6.3 GB,
 * --d 3000000 gave an untyped "Invalid typed array length"); the budget is SSM_MEMORY_BUDGET.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemoryError, ready, resetFlags, setFlag } from 'ssm-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Opts } from '../src/cli/args.js';
import { jobFromArgs } from '../src/cli/mapping.js';
import { checkJobMemory, JOB_FIELD_NAMES } from '../src/index.js';

beforeAll(async () => {
  await ready();
});

const bin = fileURLToPath(new URL('../bin/ssm-lab.js', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
};

describe('ssm-lab train sizes beyond the memory budget', () => {
  it('exit 2 within seconds, naming the option, its value and the bytes the run needs', () => {
    // default sizes: keep-nth T 50 |V| 128, mamba+pe d 32 N 8 (no conv, no gate), batch 16, 201000 rows
    const cases: [string[], RegExp][] = [
      [
        ['--T', '10000000'],
        /^ssm-lab: --T: expected a size whose memory fits in .*, got 10000000 \(the run needs at least 14\.6 TiB; datasets \(201000 rows × T 10000000, int32 inputs and targets\) 14\.6 TiB/,
      ],
      [
        ['--N', '100000000'],
        /^ssm-lab: --N: expected .*, got 100000000 \(the run needs at least 9\.5 TiB; .*a training step \(16 rows\) 9\.3 TiB; lower --N/,
      ],
      [
        ['--batch', '2000000'],
        /^ssm-lab: --batch: expected .*, got 2000000 \(the run needs at least 167\.0 GiB; .*a training step \(2000000 rows\) 166\.9 GiB; lower --batch/,
      ],
      [
        ['--d', '3000000'],
        /^ssm-lab: --d: expected .*, got 3000000 \(the run needs at least 16\.7 TiB; .*weights, gradients and Adam state 16\.4 TiB/,
      ],
    ];
    for (const [opts, msg] of cases) {
      const r = run(['train', 'keep-nth', ...opts]);
      expect(r.status, `${opts.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim()).toMatch(msg);
      expect(r.stderr).toContain('(flag MEMORY_BUDGET: the available memory; env SSM_MEMORY_BUDGET)');
      expect(r.seconds).toBeLessThan(10);
    }
  });

  it('SSM_MEMORY_BUDGET sets the budget; a run inside it trains as before', () => {
    const small = ['train', 'keep-nth', '--T', '10', '--n', '3', '--vocab', '16', '--d', '16', '--N', '4'];
    const opts = [...small, '--epochs', '1', '--steps-per-epoch', '2', '--train-samples', '64', '--val-samples', '16'];
    const tight = run([...opts, '--test-samples', '10000000'], { SSM_MEMORY_BUDGET: '64MiB' });
    expect(tight.status).toBe(2);
    expect(tight.stderr).toMatch(
      /--test-samples: expected a size whose memory fits in 64\.0 MiB \(env SSM_MEMORY_BUDGET\), got 10000000/,
    );
    const ok = run([...opts, '--test-samples', '64'], { SSM_MEMORY_BUDGET: '64MiB' });
    expect(ok.status, ok.stderr).toBe(0);
    const bad = run(opts, { SSM_MEMORY_BUDGET: 'plenty' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/SSM_MEMORY_BUDGET: expected a positive number of bytes/);
  });
});

describe('checkJobMemory', () => {
  it("names the job's fields outside the CLI, and counts data, weights with Adam state and the largest pass", () => {
    const job = jobFromArgs('keep-nth', new Opts({ T: '1000' }));
    const vocab = { vocabSize: 128, numClasses: 128 };
    try {
      // datasets 8 B × 201000 rows × T 1000; weights, gradients, Adam's m and v 16 B × the parameters of Mamba+PE
      // at d 32, N 8, |V| 128: embedding 128·31, x_proj (2 + 2·8)·32, dt_proj 32·2 + 32, A_log 32·8, D 32, lm_head
      // 128·32 + 128;
      // the larger pass: evaluation, 256 rows × T 1000 × (2·32 + 128) floats, over a training step's
      // 16 rows × T 1000 × (2·32 + 128 + 32·8) floats
      const data = 8 * 201000 * 1000;
      const passes = 4 * 256 * 1000 * 192;
      setFlag('MEMORY_BUDGET', data + passes); // just under: the weights tip it over
      let err: unknown;
      try {
        checkJobMemory(job, vocab, JOB_FIELD_NAMES);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MemoryError);
      const e = err as MemoryError;
      expect(e.argument).toBe('job.samples.train'); // the datasets need the most; the largest of their sizes
      expect(e.bytes - data - passes).toBe(16 * (128 * 31 + 18 * 32 + 96 + 256 + 32 + 128 * 33));
      setFlag('MEMORY_BUDGET', e.bytes);
      checkJobMemory(job, vocab, JOB_FIELD_NAMES);
    } finally {
      resetFlags();
    }
  });
});
