/**
 * The WebAssembly SIMD scan on worker threads (src/ops/kernels/cpu/scanThreads.ts, flag SCAN_THREADS): forward
 * and backward bit-identical to the one-thread kernel in every layout and option, with row counts that the thread
 * count does not divide and a single row; the 'auto' rule; a process that used the pool exits by itself; a fault
 * on a worker is a ThreadError on the caller, and the pool keeps working after it.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  getFlag,
  ready,
  resetFlags,
  scanThreadsStatus,
  selectiveScan,
  setFlag,
  shutdownScanThreads,
  tf,
  ThreadError,
  ConfigError,
  validateScanArgs,
} from '../src/index.js';
import { SCAN_THREADS_MIN_WORK } from '../src/policy.js';
import { readScanArrays } from '../src/ops/core/validate.js';
import type { ScanDims } from '../src/ops/core/types.js';
import {
  scanThreadCount,
  scanThreadHost,
  setScanThreadHost,
  threadedScanRuns,
  wasmScanBackward,
  wasmScanForward,
} from '../src/ops/kernels/cpu/wasmScan.js';
import { randomScan, type ScanCase } from './helpers.js';

beforeAll(async () => {
  await ready();
});
afterEach(() => resetFlags());
afterAll(async () => {
  await shutdownScanThreads();
});

const ALL = { D: true, z: true, bias: true, softplus: true } as const;

/** Layouts and options of the kernel; b·d and d are not multiples of 2 or 3 where the case allows it. */
const CASES: [string, ScanCase][] = [
  ['Δ per channel, defaults', { batch: 3, dInner: 5, dState: 4, L: 9 }],
  ['Δ per channel, all options, euler', { batch: 3, dInner: 7, dState: 16, L: 13, ...ALL }],
  ['Δ per channel, all options, zoh', { batch: 2, dInner: 5, dState: 8, L: 12, ...ALL, disc: 'zoh' }],
  ['Δ per channel, all options, identity', { batch: 3, dInner: 5, dState: 5, L: 7, ...ALL, disc: 'identity' }],
  ['Δ per channel, n = 1, L = 1', { batch: 3, dInner: 5, dState: 1, L: 1, ...ALL }],
  ['one batch row, n = 7 (staged ∂B, ∂C)', { batch: 1, dInner: 7, dState: 7, L: 10, D: true }],
  [
    'one batch row, Δ per state, L = 301 (staged ∂B, ∂C, ∂Δ)',
    { batch: 1, dInner: 5, dState: 6, L: 301, deltaAlong: 'state', ...ALL, disc: 'zoh' },
  ],
  ['one batch row, fixed B, input-dependent C', { batch: 1, dInner: 5, dState: 3, L: 33, bFixed: true, ...ALL }],
  ['fixed B and C (S4D)', { batch: 5, dInner: 7, dState: 5, L: 8, bFixed: true, cFixed: true, D: true }],
  ['fixed B, input-dependent C', { batch: 3, dInner: 5, dState: 4, L: 6, bFixed: true, z: true }],
  ['input-dependent B, fixed C, zoh', { batch: 3, dInner: 5, dState: 6, L: 6, cFixed: true, disc: 'zoh', bias: true }],
  [
    'Δ per state (Mamba-Δ⊤), identity B',
    { batch: 3, dInner: 5, dState: 5, L: 10, deltaAlong: 'state', bias: true, softplus: true, disc: 'identity' },
  ],
  ['Δ per state, euler, all options', { batch: 2, dInner: 7, dState: 4, L: 9, deltaAlong: 'state', ...ALL }],
  [
    'Δ per channel and state, zoh',
    { batch: 3, dInner: 5, dState: 4, L: 7, deltaAlong: 'full', bias: true, softplus: true, disc: 'zoh', D: true },
  ],
  ['Δ per channel and state, euler, gate', { batch: 1, dInner: 5, dState: 3, L: 6, deltaAlong: 'full', ...ALL }],
  [
    'heavy decay, long sequence',
    { batch: 2, dInner: 5, dState: 6, L: 300, ...ALL, deltaRange: [-5, 50], aRange: [-200, -0.001] },
  ],
  ['two rows, one channel', { batch: 2, dInner: 1, dState: 4, L: 11, ...ALL }],
  ['one row', { batch: 1, dInner: 1, dState: 5, L: 17, ...ALL }],
];

/** The kernel's forward and backward of case `c` on `threads` threads, with a gradient for the last state too. */
function runKernel(c: ScanCase, threads: number) {
  const p = randomScan(c, 7);
  try {
    const s = validateScanArgs(p.args);
    const x = readScanArrays(p.args);
    const gOut = p.rng.fill(c.batch * c.dInner * c.L, (r) => r.normal());
    const gLast = p.rng.fill(c.batch * c.dInner * c.dState, (r) => r.normal());
    setFlag('SCAN_THREADS', threads);
    const used = { forward: scanThreadCount(s, false), backward: scanThreadCount(s, true) };
    const before = { ...threadedScanRuns };
    const f = wasmScanForward(s, x);
    const g = wasmScanBackward(s, x, gOut, gLast);
    const ran = {
      forward: threadedScanRuns.forward - before.forward,
      backward: threadedScanRuns.backward - before.backward,
    };
    return { s, f, g, used, ran };
  } finally {
    p.dispose();
  }
}

/** Exact equality, NaN and −0 included. */
function expectSameBits(actual: Float32Array | undefined, expected: Float32Array | undefined, what: string) {
  expect(actual === undefined, what).toBe(expected === undefined);
  if (!actual || !expected) return;
  expect(actual.length, what).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  let first = -1;
  for (let i = 0; i < a.length && first < 0; i++) if (a[i] !== e[i]) first = i;
  expect(first, `${what}: first differing index (${actual[first]} vs ${expected[first]})`).toBe(-1);
}

describe('the WebAssembly scan on worker threads', () => {
  it('runs here (Node: SharedArrayBuffer, Atomics.wait, worker_threads)', () => {
    expect(scanThreadsStatus()).toMatchObject({ available: true, reason: '' });
    expect(scanThreadHost()).not.toBeNull();
  });

  for (const [name, c] of CASES) {
    it(`${name}: forward and backward bit-identical to one thread on 2 and 3 threads`, () => {
      const one = runKernel(c, 1);
      expect(one.ran).toEqual({ forward: 0, backward: 0 });
      for (const threads of [2, 3]) {
        const t = runKernel(c, threads);
        const rows = c.batch * c.dInner;
        expect(t.used).toEqual({ forward: Math.min(threads, rows), backward: Math.min(threads, c.dInner) });
        expect(t.ran).toEqual({ forward: t.used.forward > 1 ? 1 : 0, backward: t.used.backward > 1 ? 1 : 0 });
        expectSameBits(t.f.out, one.f.out, `${threads} threads: out`);
        expectSameBits(t.f.lastState, one.f.lastState, `${threads} threads: last state`);
        for (const k of ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const)
          expectSameBits(t.g[k], one.g[k], `${threads} threads: ∂${k}`);
      }
    });
  }

  it('through selectiveScan and tf.grads: the same values and gradients on 1 and 2 threads, no tensor leaked', () => {
    const c: ScanCase = { batch: 4, dInner: 9, dState: 16, L: 64, ...ALL };
    const p = randomScan(c, 3);
    const { u, delta, A, B, C } = p.args;
    const dy = tf.randomNormal([c.batch, c.dInner, c.L], 0, 1, 'float32', 5);
    const f = (...xs: tf.Tensor[]) =>
      selectiveScan({ ...p.args, u: xs[0], delta: xs[1], A: xs[2], B: xs[3], C: xs[4], impl: 'fused' }).out;
    const results = [1, 2].map((threads) => {
      setFlag('SCAN_THREADS', threads);
      const before = tf.memory().numTensors;
      const gs = tf.grads(f)([u, delta, A, B, C], dy);
      const out = f(u, delta, A, B, C);
      const data = [out, ...gs].map((t) => t.dataSync() as Float32Array);
      tf.dispose([out, ...gs]);
      expect(tf.memory().numTensors).toBe(before);
      return data;
    });
    results[0].forEach((v, i) => expectSameBits(results[1][i], v, `output ${i}`));
    dy.dispose();
    p.dispose();
  });

  it("'auto' takes one thread below SCAN_THREADS_MIN_WORK, else the available parallelism (at most 4)", () => {
    expect(getFlag('SCAN_THREADS')).toBe('auto');
    const before = tf.memory().numTensors;
    const dims = (batch: number, dInner: number, dState: number, L: number, fixed = false): ScanDims => {
      const args = {
        u: tf.zeros([batch, dInner, L]),
        delta: tf.zeros([batch, dInner, L]),
        A: tf.zeros([dInner, dState]),
        B: fixed ? tf.zeros([dInner, dState]) : tf.zeros([batch, dState, L]),
        C: fixed ? tf.zeros([dInner, dState]) : tf.zeros([batch, dState, L]),
      };
      const s = validateScanArgs(args);
      tf.dispose(Object.values(args));
      return s;
    };
    const cases = {
      small: dims(2, 4, 16, 64), // 8192 updates
      atThreshold: dims(4, 16, 16, SCAN_THREADS_MIN_WORK / (4 * 16 * 16)),
      oneBatch: dims(1, 64, 16, 4096),
      oneBatchFixed: dims(1, 64, 16, 4096, true),
    };
    expect(tf.memory().numTensors).toBe(before);
    const want = Math.min(4, scanThreadHost()!.parallelism());
    expect([scanThreadCount(cases.small, false), scanThreadCount(cases.small, true)]).toEqual([1, 1]);
    expect(scanThreadCount(cases.atThreshold, false)).toBe(want);
    expect(scanThreadCount(cases.atThreshold, true)).toBe(want);
    expect([scanThreadCount(cases.oneBatch, false), scanThreadCount(cases.oneBatch, true)]).toEqual([want, want]);
    expect(scanThreadCount(cases.oneBatchFixed, true)).toBe(want);
  });

  it('the flag takes auto or 1…64, from setFlag and from SSM_SCAN_THREADS', () => {
    for (const bad of [0, 65, 1.5, '2', 'two', -1])
      expect(() => setFlag('SCAN_THREADS', bad as never)).toThrow(ConfigError);
    setFlag('SCAN_THREADS', 64);
    expect(getFlag('SCAN_THREADS')).toBe(64);
    const prev = process.env.SSM_SCAN_THREADS;
    try {
      resetFlags();
      process.env.SSM_SCAN_THREADS = '3';
      expect(getFlag('SCAN_THREADS')).toBe(3);
      process.env.SSM_SCAN_THREADS = ' AUTO ';
      expect(getFlag('SCAN_THREADS')).toBe('auto');
      process.env.SSM_SCAN_THREADS = '0';
      expect(() => getFlag('SCAN_THREADS')).toThrow(ConfigError);
    } finally {
      if (prev === undefined) delete process.env.SSM_SCAN_THREADS;
      else process.env.SSM_SCAN_THREADS = prev;
    }
  });

  it('a fault on a worker is a ThreadError naming the thread; later calls run and agree', () => {
    const host = scanThreadHost()!;
    const k = host.kernel();
    const bytes = k.memory.buffer.byteLength;
    const L = 4;
    // Four rows of L steps (B, C fixed, n = 4) from zeroed memory at 65536; the output of rows 0 and 1 ends at the
    // memory's end, so thread 1's rows 2 and 3 write past it and trap.
    const problem = [1, 4, 4, L, 0, 0, 65536, 65536, 65536, 65536, 1, 65536, 1, 0, 0];
    const job = [1, 2, ...problem, 4, bytes - 2 * L * 4, 0, 65536 + 4096, 1024];
    let error: unknown;
    try {
      host.run(2, job);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ThreadError);
    expect((error as ThreadError).thread).toBe(1);
    expect((error as ThreadError).message).toMatch(/^selectiveScan forward \(wasm threads\): .*RuntimeError/);
    const c: ScanCase = { batch: 3, dInner: 5, dState: 6, L: 21, ...ALL };
    const one = runKernel(c, 1);
    const two = runKernel(c, 2);
    expect(two.ran).toEqual({ forward: 1, backward: 1 });
    expectSameBits(two.f.out, one.f.out, 'out after the fault');
    expectSameBits(two.g.B, one.g.B, '∂B after the fault');
  });

  it('without a shared-memory kernel (the host cannot load one) a threaded request runs on one thread', () => {
    const real = scanThreadHost()!;
    const c: ScanCase = { batch: 3, dInner: 5, dState: 6, L: 21, ...ALL };
    const one = runKernel(c, 1);
    setScanThreadHost({
      ...real,
      kernel: () => {
        throw new WebAssembly.CompileError('shared memory refused');
      },
    });
    try {
      const two = runKernel(c, 2);
      expect(two.used).toEqual({ forward: 2, backward: 2 });
      expect(two.ran).toEqual({ forward: 0, backward: 0 });
      expectSameBits(two.f.out, one.f.out, 'out');
      expectSameBits(two.g.u, one.g.u, '∂u');
    } finally {
      setScanThreadHost(real);
    }
  });

  it("'auto' spreads a large scan over the cores on the main thread and keeps it on one thread inside a worker", () => {
    // a worker thread is one lane of a pool that already fills the cores (the 10⁴-sequence constructions run on 2);
    // the built package (npm test builds first): a worker evaluates plain JavaScript
    const count =
      "const [m, w] = await Promise.all([import('./dist/index.js'), import('./dist/ops/kernels/cpu/wasmScan.js')]); " +
      'const s = { batch: 16, dInner: 64, dState: 16, L: 1024 }; ' +
      'const n = [w.scanThreadCount(s, false), w.scanThreadCount(s, true)];';
    const script =
      `(async () => { ${count} const { Worker } = await import('node:worker_threads'); ` +
      `const inWorker = await new Promise((res, rej) => { const k = new Worker(${JSON.stringify(
        `(async () => { ${count} (await import('node:worker_threads')).parentPort.postMessage(n); })()`,
      )}, { eval: true }); k.once('message', res); k.once('error', rej); }); ` +
      'console.log(JSON.stringify({ main: n, worker: inWorker })); })()';
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const cores = Math.min(4, availableParallelism());
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ main: [cores, cores], worker: [1, 1] });
  }, 70_000);

  it('a process that ran threaded scans exits by itself; shutdownScanThreads stops the workers', () => {
    const script =
      "import('./src/index.ts').then(async (m) => { await m.ready(); m.setFlag('SCAN_THREADS', 2); " +
      "const t = () => m.tf.randomNormal([4, 8, 32], 0, 1, 'float32', 1); const u = t(), delta = m.tf.fill([4, 8, 32], 0.1); " +
      'const A = m.tf.fill([8, 4], -1), B = m.tf.randomNormal([4, 4, 32]), C = m.tf.randomNormal([4, 4, 32]); ' +
      "const g = m.tf.grads((u) => m.selectiveScan({ u, delta, A, B, C, impl: 'fused' }).out)([u]); g[0].dataSync(); " +
      "console.log(JSON.stringify(m.scanThreadsStatus())); if (process.argv[1] === 'shutdown') { await m.shutdownScanThreads(); " +
      'console.log(JSON.stringify(m.scanThreadsStatus())); } })';
    for (const mode of ['exit', 'shutdown']) {
      const t0 = Date.now();
      const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script, mode], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines[0]).toEqual({ available: true, reason: '', workers: 1 });
      if (mode === 'shutdown') expect(lines[1]).toEqual({ available: true, reason: '', workers: 0 });
      expect(Date.now() - t0).toBeLessThan(60_000);
    }
  }, 130_000);
});
