/**
 * SIGKILL at random points, repeated: of `ssm-lab train` (each restart with --resume) and of `ssm-lab sweep run`
 * (the coordinator, and a worker process). After every kill nothing committed may be lost (a saved checkpoint
 * never goes back, finished result lines stay), temporary files a kill leaves are gone once the next run has
 * started, and the run that finally completes equals an uninterrupted one: the same weights bit for bit, the
 * same metrics, the same result per sweep cell. The kill points come from SSM_RELIABILITY_SEED (else the clock)
 * and are printed, so a failure can be replayed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from 'ssm-core';
import {
  childrenOf,
  cli,
  describeOutcome,
  record,
  rng,
  runSeed,
  sleep,
  successVerdict,
  tempBytes,
  tempFiles,
  tmp,
  trainArgs,
} from './harness.js';

const seed = runSeed();
const rand = rng(seed);

/** The trainer epoch stored in a checkpoint (−1: no checkpoint; NaN: unreadable). */
function checkpointEpoch(dir: string): number {
  const p = join(dir, 'checkpoint.safetensors');
  if (!existsSync(p)) return -1;
  try {
    return JSON.parse(decodeSafetensors(readFileSync(p)).metadata.trainer).epoch as number;
  } catch {
    return NaN;
  }
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
/** Metrics lines without the wall-clock field. */
const metrics = (dir: string) =>
  lines(join(dir, 'metrics.jsonl')).map((l) => {
    const { seconds: _s, ...m } = JSON.parse(l);
    return JSON.stringify(m);
  });
const tensors = (file: string) =>
  Object.fromEntries(
    Object.entries(decodeSafetensors(readFileSync(file)).tensors).map(([k, v]) => [k, Buffer.from(v.data.buffer)]),
  );

// The two run side by side (their kill points are random anyway): half the wall-clock time.
describe.concurrent('SIGKILL of ssm-lab train, repeated at random points', () => {
  it('each resume continues from the last checkpoint and the end equals an uninterrupted run', async () => {
    const EPOCHS = 60;
    console.log(`train kill points: seed ${seed} (set SSM_RELIABILITY_SEED=${seed} to replay)`);
    const ref = tmp('train-ref');
    const refRun = await cli([...trainArgs(ref, EPOCHS), '--json']).done;
    expect(refRun.status, describeOutcome(refRun)).toBe(0);
    const d = tmp('train-kill');
    let kills = 0,
      tmpSeenAfterKill = 0;
    for (let attempt = 0; attempt < 12 && kills < 6; attempt++) {
      const epochBefore = checkpointEpoch(d);
      const metricsBefore = metrics(d);
      const run = cli([...trainArgs(d, EPOCHS), '--resume'], { timeoutMs: 30_000 });
      const delay = 400 + rand() * 1000;
      await sleep(delay);
      run.child.kill('SIGKILL');
      const r = await run.done;
      if (r.signal !== 'SIGKILL') {
        expect(r.status, describeOutcome(r)).toBe(0); // it finished before the kill
        break;
      }
      kills++;
      tmpSeenAfterKill += tempFiles(d).length;
      const epochAfter = checkpointEpoch(d);
      const metricsAfter = metrics(d);
      const ckptBytes = existsSync(join(d, 'checkpoint.safetensors'))
        ? readFileSync(join(d, 'checkpoint.safetensors')).length
        : 0;
      // committed state never goes back: the checkpoint is readable and not older, metrics keep their prefix
      const lostCkpt = Number.isNaN(epochAfter) || epochAfter < epochBefore ? ckptBytes : 0;
      const lostMetrics = metricsBefore
        .filter((l, i) => metricsAfter[i] !== l)
        .reduce((a, l) => a + Buffer.byteLength(l) + 1, 0);
      const ok = lostCkpt === 0 && lostMetrics === 0;
      record({
        group: 'SIGKILL train',
        name: `kill ${kills} after ${delay.toFixed(0)} ms (epoch ${epochBefore} → ${epochAfter})`,
        verdict: ok ? 'correct' : 'wrong',
        seconds: r.seconds,
        bytesLost: lostCkpt + lostMetrics,
      });
      expect(lostCkpt, 'checkpoint went back or became unreadable').toBe(0);
      expect(lostMetrics, 'metrics lines lost').toBe(0);
    }
    expect(kills, 'no kill landed before the run ended').toBeGreaterThanOrEqual(3);
    const last = await cli([...trainArgs(d, EPOCHS), '--resume', '--json'], { timeoutMs: 60_000 }).done;
    const a = tensors(join(ref, 'model.safetensors')),
      b = existsSync(join(d, 'model.safetensors')) ? tensors(join(d, 'model.safetensors')) : {};
    const sameWeights =
      Object.keys(a).length > 0 && Object.keys(a).every((k) => b[k] !== undefined && a[k].equals(b[k]));
    const pick = (s: string) => {
      try {
        const { accuracy, loss, steps, epochs, stopReason, params } = JSON.parse(s);
        return JSON.stringify({ accuracy, loss, steps, epochs, stopReason, params });
      } catch {
        return s;
      }
    };
    const sameResult = pick(last.stdout) === pick(refRun.stdout);
    const sameMetrics = JSON.stringify(metrics(d)) === JSON.stringify(metrics(ref));
    const left = tempBytes(d);
    const verdict = successVerdict(last, sameWeights && sameResult && sameMetrics && left === 0);
    record({
      group: 'SIGKILL train',
      name: `resume after ${kills} kills = uninterrupted run`,
      verdict,
      seconds: last.seconds,
      tmpBytesLeft: left,
      note: `${tmpSeenAfterKill} temporary file(s) seen right after a kill, all removed by the next start`,
    });
    console.log(
      `train: ${kills} kills; temporary files seen right after a kill: ${tmpSeenAfterKill}; left at the end: ${left} bytes`,
    );
    expect(last.status, describeOutcome(last)).toBe(0);
    expect(sameWeights, 'weights differ from the uninterrupted run').toBe(true);
    expect(sameResult, `${pick(last.stdout)} vs ${pick(refRun.stdout)}`).toBe(true);
    expect(sameMetrics, 'metrics differ from the uninterrupted run').toBe(true);
    expect(left).toBe(0);
  }, 120_000);
});

describe.concurrent('SIGKILL of ssm-lab sweep (coordinator and workers), repeated at random points', () => {
  const spec = {
    name: 'kill',
    task: { kind: 'mqar', T: 12, vocabSize: 4 },
    architectures: [
      { model: 'mamba-conv', N: '2*size' },
      { model: 'mamba2', N: 2 },
    ],
    sizes: [2],
    d: [4, 8],
    seeds: [0, 1, 2],
    train: { epochs: 3, stepsPerEpoch: 30, batchSize: 8, lr: 0.01, lrMin: 0.001 },
    samples: { train: 64, val: 16, test: 32 },
  };
  type Rec = { type: string; id: string; result?: Record<string, unknown> };
  const records = (file: string): Rec[] =>
    lines(file).flatMap((l) => {
      try {
        return [JSON.parse(l) as Rec];
      } catch {
        return [];
      }
    });
  const outcome = (r: Rec) => {
    const { accuracy, loss, steps, epochs, stopReason, params } = r.result!;
    return JSON.stringify({ accuracy, loss, steps, epochs, stopReason, params });
  };

  it('finished cells are never lost or rerun, and the results equal an uninterrupted sweep', async () => {
    console.log(`sweep kill points: seed ${seed} (set SSM_RELIABILITY_SEED=${seed} to replay)`);
    const dir = tmp('sweep-kill');
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const refOut = join(dir, 'ref.jsonl');
    const ref = await cli(['sweep', 'run', specFile, '--out', refOut, '--workers', '2'], { timeoutMs: 90_000 }).done;
    expect(ref.status, describeOutcome(ref)).toBe(0);
    const want = new Map(
      records(refOut)
        .filter((r) => r.type === 'result')
        .map((r) => [r.id, outcome(r)]),
    );
    const out = join(dir, 'r.jsonl');
    const runs = join(dir, 'r.runs');
    let kills = 0,
      workerKills = 0;
    for (let attempt = 0; attempt < 8 && kills < 4; attempt++) {
      const before = lines(out).filter((l) => l.includes('"type":"result"'));
      const run = cli(['sweep', 'run', specFile, '--out', out, '--workers', '2'], { timeoutMs: 60_000 });
      // the second kill takes one worker process down (once the workers run) instead of the coordinator
      let workers: number[] = [];
      if (kills === 1)
        for (let i = 0; i < 500 && !workers.length && run.child.exitCode === null; i++) {
          await sleep(20);
          workers = childrenOf(run.child.pid!);
        }
      const delay = workers.length ? 300 + rand() * 1000 : 900 + rand() * 1800;
      await sleep(delay);
      workers = workers.filter((p) => childrenOf(run.child.pid!).includes(p));
      const target = workers.length ? workers[Math.floor(rand() * workers.length)] : undefined;
      let what = 'coordinator';
      if (target !== undefined) {
        what = 'a worker';
        workerKills++;
        process.kill(target, 'SIGKILL');
      } else run.child.kill('SIGKILL');
      const r = await run.done;
      // a worker killed while idle is replaced without a failed cell (exit 0); the coordinator exits only by the kill
      if (target === undefined && r.status === 0) break; // the sweep ended before the kill
      kills++;
      await sleep(300); // orphaned workers exit on IPC disconnect
      const after = new Set(lines(out));
      const lost = before.filter((l) => !after.has(l)).reduce((a, l) => a + Buffer.byteLength(l) + 1, 0);
      record({
        group: 'SIGKILL sweep',
        name: `kill ${kills}: ${what} after ${delay.toFixed(0)} ms (${before.length} results before)`,
        verdict: lost === 0 && (target === undefined || r.status === 0 || r.status === 1) ? 'correct' : 'wrong',
        seconds: r.seconds,
        bytesLost: lost,
        note: target !== undefined ? describeOutcome(r) : undefined,
      });
      expect(lost, 'finished result lines lost').toBe(0);
      // a worker killed mid-cell fails that cell (exit 1, retried on the next run); the other cells finish
      if (target !== undefined) expect([0, 1], describeOutcome(r)).toContain(r.status);
    }
    expect(kills, 'no kill landed before the sweep ended').toBeGreaterThanOrEqual(2);
    expect(workerKills, 'no worker was killed').toBe(1);
    const last = await cli(['sweep', 'run', specFile, '--out', out, '--workers', '2'], { timeoutMs: 90_000 }).done;
    const results = records(out).filter((r) => r.type === 'result');
    const perId = new Map<string, number>();
    for (const r of results) perId.set(r.id, (perId.get(r.id) ?? 0) + 1);
    const once = [...perId.values()].every((n) => n === 1);
    const same =
      results.length === want.size && results.every((r) => want.get(r.id) === outcome(r)) && perId.size === want.size;
    const left = tempBytes(runs);
    const verdict = successVerdict(last, once && same && left === 0);
    record({
      group: 'SIGKILL sweep',
      name: `rerun after ${kills} kills = uninterrupted sweep`,
      verdict,
      seconds: last.seconds,
      tmpBytesLeft: left,
    });
    expect(last.status, describeOutcome(last)).toBe(0);
    expect(once, 'a cell has two result lines').toBe(true);
    expect(same, 'results differ from the uninterrupted sweep').toBe(true);
    expect(left).toBe(0);
  }, 150_000);
});
