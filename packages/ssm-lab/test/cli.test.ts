/**
 * The `ssm-lab` command as a user runs it (the built bin in a child process): help covers every
 * option, bad options exit 2 naming the option, a run writes its files, `eval` reproduces the
 * run's test accuracy, and a run killed with SIGINT and resumed ends exactly like an
 * uninterrupted one.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BIN, smallTrain } from './helpers.js';

const bin = BIN;
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'ssm-lab-'));
const SMALL = smallTrain(4, 25, ['--pe', '1', '--batch', '16', '--lr', '0.03']);

describe('ssm-lab', () => {
  it('--help documents every command and option', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    const src = readFileSync(fileURLToPath(new URL('../src/cli/options.ts', import.meta.url)), 'utf8');
    const block = src.slice(
      src.indexOf('const OPTIONS = {'),
      src.indexOf('} as const;', src.indexOf('const OPTIONS = {')),
    );
    const options = [...block.matchAll(/'?([\w-]+)'?: \{ type:/g)].map((m) => m[1]);
    expect(options.length).toBeGreaterThan(30);
    for (const opt of options) expect(r.stdout, `--${opt} documented`).toContain(`--${opt}`);
    for (const cmd of [
      'train',
      'eval',
      'reproduce table1',
      'reproduce fig1',
      'constructions',
      'sweep run',
      'theory',
      'demo',
      'keep-nth',
      'mqar',
      'induction-heads',
    ])
      expect(r.stdout).toContain(cmd);
  });

  it('rejects bad input with exit code 2 and the option named', () => {
    const cases: [string[], RegExp][] = [
      [['train', 'keep-nth', '--lr', 'fast'], /--lr: expected a number in \(0, 10\], got "fast"/],
      [['train', 'keep-nth', '--lr', '1e30'], /--lr: expected a number in \(0, 10\], got 1e\+30/],
      [['train', 'keep-nth', '--lr', 'Infinity'], /--lr: expected a number in \(0, 10\], got Infinity/],
      [
        ['train', 'keep-nth', '--lr', '0.01', '--lr-min', '0.1'],
        /--lr-min: expected a number in \[0, 0\.01\], got 0\.1/,
      ],
      [['train', 'keep-nth', '--epochs', '2.5'], /--epochs: expected an integer ≥ 1, got 2\.5/],
      [
        ['train', 'keep-nth', 'mamba'],
        /ssm-lab train <task>: expected at most 1 argument, got "keep-nth" "mamba" \(unexpected argument "mamba"\)/,
      ],
      [['theory', 'now'], /ssm-lab theory: expected no arguments, got "now"/],
      [
        ['sweep', 'show', 'fig2', 'fig3'],
        /ssm-lab sweep show <preset>: expected at most 1 argument, got "fig2" "fig3" \(unexpected argument "fig3"\)/,
      ],
      [['train', 'keep-nth', '--n', '60'], /options\.n: expected an integer in \[1, T=50\], got 60/],
      [['train', 'keep-nth', '--model', 'rnn'], /--model: expected mamba\+pe \| mamba/],
      [['train', 'mqar', '--mode', 'zoology', '--keys', '5000', '--vocab', '8192'], /options\.numKeys/],
      [['train', 'keep-nth', '--bogus'], /Unknown option '--bogus'/],
      [['reproduce', 'table9'], /expected table1 \| fig1/],
      [['eval', join(dir, 'missing')], /expected an existing path/],
    ];
    for (const [args, msg] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('refuses FIFOs, devices, directories and a model file implying too many parameters within seconds (exit 2, naming the path and what it is)', () => {
    const fifo = join(dir, 'pipe.safetensors');
    execFileSync('mkfifo', [fifo]);
    const zero = join(dir, 'zero.safetensors');
    symlinkSync('/dev/zero', zero);
    const specFifo = join(dir, 'spec.json');
    execFileSync('mkfifo', [specFifo]);
    const huge = join(dir, 'huge.safetensors'); // 8-byte length + a header claiming a 20000 × 20000 model, no data
    const head = JSON.stringify({
      __metadata__: { model: 'mamba', config: JSON.stringify({ vocabSize: 20000, dModel: 20000, dState: 4 }) },
    });
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(head)));
    writeFileSync(huge, Buffer.concat([len, Buffer.from(head)]));
    const resultsDir = join(dir, 'results.jsonl');
    mkdirSync(resultsDir);
    const cases: [string[], RegExp][] = [
      [['eval', fifo], /pipe\.safetensors: expected a regular model file, got a FIFO/],
      [['eval', huge], /huge\.safetensors: __metadata__\.config \(vocabSize 20000, .*dModel 20000.*MAX_PARAMS/],
      [['eval', zero], /zero\.safetensors: expected a regular model file, got a character device/],
      [
        ['sweep', 'run', specFifo, '--out', join(dir, 'o.jsonl')],
        /spec\.json: expected a regular sweep spec, got a FIFO/,
      ],
      [
        ['sweep', 'merge', resultsDir, '--out', join(dir, 'm.jsonl')],
        /results\.jsonl: expected a regular results file, got a directory/,
      ],
    ];
    for (const [args, msg] of cases) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(r.signal, args.join(' ')).toBeNull();
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('train writes its run; eval of the saved model reproduces the test accuracy', () => {
    const out = join(dir, 'run');
    const r = run([...SMALL, '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    for (const f of ['checkpoint.safetensors', 'metrics.jsonl', 'model.safetensors', 'result.json'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))).toEqual(result);
    expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(result.epochs);
    const e = run(['eval', out, '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBe(result.accuracy);
  });

  it('constructions: every analytic construction scores 100% against brute force, with d, N beside the bounds', () => {
    const r = run(['constructions', '--keys', '4', '--vocab', '16', '--instances', '200', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const { rows } = JSON.parse(r.stdout);
    expect(rows.length).toBeGreaterThanOrEqual(9);
    for (const row of rows) {
      expect(row.accuracy, JSON.stringify(row)).toBe(1);
      expect(row.d).toBeGreaterThan(0);
      expect(row.N).toBeGreaterThan(0);
    }
  });

  it('constructions --tightness reports its search on stderr and keeps stdout lines within 120 columns', () => {
    const r = run(['constructions', '--keys', '2', '--vocab', '4', '--instances', '20', '--tightness']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^tightness: 1 candidates, \d+ s · (mamba|mamba2|s4d) p_/m);
    expect(r.stdout).toMatch(/Tightness \(κ=2, \|V\|=4/);
    for (const line of r.stdout.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
  });

  it('a run killed with SIGINT and resumed ends exactly like an uninterrupted run', async () => {
    const ref = run([...SMALL, '--out', join(dir, 'ref'), '--json']);
    expect(ref.status, ref.stderr).toBe(0);
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [bin, ...SMALL, '--out', out, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        // interrupt once the first epoch is on disk (mid-run)
        if (
          existsSync(join(out, 'metrics.jsonl')) &&
          readFileSync(join(out, 'metrics.jsonl'), 'utf8').includes('"epoch":1')
        ) {
          clearInterval(poll);
          child.kill('SIGINT');
          resolve();
        }
      }, 20);
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/checkpoint saved/);
    const resumed = run([...SMALL, '--out', out, '--resume', '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from/);
    const a = JSON.parse(ref.stdout),
      b = JSON.parse(resumed.stdout);
    expect({ ...b, seconds: 0 }).toEqual({ ...a, seconds: 0 });
    const strip = (f: string) =>
      readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .map((l) => ({ ...JSON.parse(l), seconds: 0 }));
    expect(strip(join(out, 'metrics.jsonl'))).toEqual(strip(join(dir, 'ref', 'metrics.jsonl')));
  });
});
