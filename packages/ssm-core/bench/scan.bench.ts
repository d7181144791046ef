/**
 * `npm run bench`: the host selective scan (tensors in → tensors out, through tfjs) on its WebAssembly SIMD kernel and
 * on its JS kernel (flag WASM_SCAN = false), against a plain Float32Array loop doing the same recurrence
 * (plainLoop.ts) and a compiled C loop of the same algorithm, one thread (scanYardstick.c, built here with the system
 * C compiler `cc -O3 -march=native`; skipped with a note when there is none). The WebAssembly kernel runs on one
 * thread and on two (flag SCAN_THREADS; worker threads over a shared memory), and the table says what SCAN_THREADS
 * 'auto' picks at each shape and pass. Shapes are (batch, dInner, dState, L). Runs are interleaved (each repetition
 * times every variant once); the table reports minima.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Rng,
  ready,
  resetFlags,
  scanThreadsStatus,
  selectiveScan,
  setFlag,
  shutdownScanThreads,
  tf,
  validateScanArgs,
} from '../src/index.js';
import { hostScanRuns, scanThreadCount, threadedScanRuns, wasmScanStatus } from '../src/ops/kernels/cpu/wasmScan.js';
import { plainBackward, plainForward, type Plain } from './plainLoop.js';

type Shape = [batch: number, dInner: number, dState: number, L: number];
const SHAPES: Shape[] = [
  [16, 64, 16, 128],
  [16, 64, 16, 1024],
  [1, 64, 16, 4096],
];
const reps = Number(process.env.BENCH_REPS ?? 7);

function problem([b, d, n, L]: Shape): Plain {
  const r = new Rng(1);
  return {
    b,
    d,
    n,
    L,
    u: r.fill(b * d * L, (x) => x.normal()),
    delta: r.fill(b * d * L, (x) => x.range(0.001, 0.1)),
    A: r.fill(d * n, (x) => -x.range(0.5, 16)),
    B: r.fill(b * n * L, (x) => x.normal()),
    C: r.fill(b * n * L, (x) => x.normal()),
    D: r.fill(d, (x) => x.normal()),
  };
}

type Yardstick = { run: (s: Shape, fastMath: boolean) => { forward: number; backward: number }; dispose: () => void };

/**
 * The C yardstick built into a temporary folder (`cc -O3 -march=native`, and with -ffast-math, which lets gcc use
 * vector expf and reorder the sum over n: 256-bit AVX2 on x86-64 against the kernel's 128-bit lanes), or why not.
 */
function buildYardstick(): Yardstick | string {
  if (spawnSync('cc', ['--version']).status !== 0) return 'no system C compiler (cc) found';
  const dir = mkdtempSync(join(tmpdir(), 'ssm-bench-'));
  const src = fileURLToPath(new URL('./scanYardstick.c', import.meta.url));
  const exe = (fastMath: boolean) => join(dir, fastMath ? 'scanYardstickFast' : 'scanYardstick');
  for (const fastMath of [false, true]) {
    const flags = ['-O3', '-march=native', ...(fastMath ? ['-ffast-math'] : [])];
    const built = spawnSync('cc', [...flags, '-o', exe(fastMath), src, '-lm'], { encoding: 'utf8' });
    if (built.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      return `cc ${flags.join(' ')} failed: ${(built.stderr || built.error?.message || '').trim().split('\n')[0]}`;
    }
  }
  return {
    run: (s, fastMath) => {
      const out = execFileSync(exe(fastMath), [...s.map(String), '1'], { encoding: 'utf8' });
      const m = /forward ([\d.]+) forward\+backward ([\d.]+)/.exec(out);
      if (!m) throw new Error(`unexpected yardstick output: ${out}`);
      return { forward: Number(m[1]), backward: Number(m[2]) };
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const time = (f: () => void) => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};
const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(1).padStart(7)} ms` : '—');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? (a / b).toFixed(2) + '×' : '—');

async function main() {
  const info = await ready();
  const wasm = wasmScanStatus();
  const threads = scanThreadsStatus();
  console.log(
    `backend: ${info.name} (${info.reason}); WebAssembly SIMD scan: ${wasm.available ? 'loaded' : wasm.reason}; ` +
      `worker threads: ${threads.available ? `available (${availableParallelism()} cores)` : threads.reason}; ` +
      `minimum of ${reps} interleaved repetitions\n`,
  );
  const yard = buildYardstick();
  if (typeof yard === 'string') console.log(`C yardstick skipped: ${yard}.\n`);
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const shape of SHAPES) {
    const p = problem(shape);
    const { b, d, n, L } = p;
    const T = {
      u: tf.tensor3d(p.u, [b, d, L]),
      delta: tf.tensor3d(p.delta, [b, d, L]),
      A: tf.tensor2d(p.A, [d, n]),
      B: tf.tensor3d(p.B, [b, n, L]),
      C: tf.tensor3d(p.C, [b, n, L]),
      D: tf.tensor1d(p.D),
    };
    const gOut = new Rng(2).fill(b * d * L, (x) => x.normal());
    const dy = tf.tensor3d(gOut, [b, d, L]);
    const fwd = () => selectiveScan({ ...T, impl: 'fused' }).out.dispose();
    const fwdBwd = () => {
      const f = (u: tf.Tensor, delta: tf.Tensor, A: tf.Tensor, B: tf.Tensor, C: tf.Tensor, D: tf.Tensor) =>
        selectiveScan({ u, delta, A, B, C, D, impl: 'fused' }).out;
      tf.dispose(tf.grads(f)([T.u, T.delta, T.A, T.B, T.C, T.D], dy));
    };
    const withFlag =
      (on: boolean, f: () => void, threads: number | 'auto' = 1) =>
      () => {
        setFlag('WASM_SCAN', on);
        setFlag('SCAN_THREADS', threads);
        try {
          f();
        } finally {
          resetFlags();
        }
      };
    const variants: Record<string, () => void> = {
      plainF: () => plainForward(p),
      plainFB: () => {
        const st = new Float32Array(b * d * L * n);
        plainForward(p, st);
        plainBackward(p, st, gOut);
      },
      wasmF: withFlag(true, fwd),
      wasmFB: withFlag(true, fwdBwd),
      wasm2F: withFlag(true, fwd, 2),
      wasm2FB: withFlag(true, fwdBwd, 2),
      wasmAutoF: withFlag(true, fwd, 'auto'),
      wasmAutoFB: withFlag(true, fwdBwd, 'auto'),
      jsF: withFlag(false, fwd),
      jsFB: withFlag(false, fwdBwd),
    };
    const best: Record<string, number> = { cF: Infinity, cFB: Infinity, fastF: Infinity, fastFB: Infinity };
    for (const k of Object.keys(variants)) best[k] = Infinity;
    const before = hostScanRuns.wasm.backward;
    const threadedBefore = threadedScanRuns.forward;
    for (let rep = 0; rep <= reps; rep++) {
      for (const [k, f] of Object.entries(variants)) {
        const ms = time(f);
        if (rep > 0) best[k] = Math.min(best[k], ms); // repetition 0 warms up (JIT, wasm)
      }
      if (typeof yard !== 'string') {
        for (const fastMath of [false, true]) {
          const c = yard.run(shape, fastMath);
          const key = fastMath ? 'fast' : 'c';
          best[key + 'F'] = Math.min(best[key + 'F'], c.forward);
          best[key + 'FB'] = Math.min(best[key + 'FB'], c.backward);
        }
      }
    }
    if (L <= 128) {
      let tensorF = Infinity;
      for (let rep = 0; rep <= Math.min(reps, 3); rep++) {
        const ms = time(() => selectiveScan({ ...T, impl: 'tensor' }).out.dispose());
        if (rep > 0) tensorF = Math.min(tensorF, ms);
      }
      notes.push(
        `tf-op path (impl 'tensor', log-depth scan of tf ops) at (${shape.join(', ')}): forward ${fmt(tensorF)}`,
      );
    }
    if (wasm.available && hostScanRuns.wasm.backward === before) throw new Error('the WebAssembly scan did not run');
    if (threads.available && threadedScanRuns.forward === threadedBefore) throw new Error('no threaded scan ran');
    const dims = validateScanArgs(T);
    const auto = {
      F: scanThreadCount(dims, false),
      FB: Math.max(scanThreadCount(dims, false), scanThreadCount(dims, true)),
    };
    const autoText = (pass: 'F' | 'FB') =>
      pass === 'F' ? String(auto.F) : `${auto.F} fwd, ${scanThreadCount(dims, true)} bwd`;
    const name = `(${shape.join(', ')})`;
    for (const [pass, s] of [
      ['forward', 'F'],
      ['forward+backward', 'FB'],
    ]) {
      const [c, fast, w, w2, wAuto, j, pl] = ['c', 'fast', 'wasm', 'wasm2', 'wasmAuto', 'js', 'plain'].map(
        (k) => best[k + s],
      );
      rows.push([
        name,
        pass,
        fmt(c),
        fmt(fast),
        fmt(w),
        fmt(w2),
        autoText(s as 'F' | 'FB'),
        fmt(wAuto),
        fmt(j),
        fmt(pl),
        ratio(w, w2),
        ratio(w, c),
        ratio(w2, c),
        ratio(wAuto, c),
        ratio(j, w),
      ]);
      if (threads.available && w2 >= w)
        notes.push(
          `${name} ${pass}: two threads do not pay here (${fmt(w2).trim()} vs ${fmt(w).trim()} on one); ` +
            `'auto' picks ${autoText(s as 'F' | 'FB')} thread(s)` +
            (auto[s as 'F' | 'FB'] > 1 ? ' — more than one: the threshold SCAN_THREADS_MIN_WORK wants a look.' : '.'),
        );
    }
    tf.dispose([...Object.values(T), dy]);
  }
  if (typeof yard !== 'string') yard.dispose();
  const head = [
    '(b, d, n, L)',
    'pass',
    'C, 1 thread',
    'C -ffast-math',
    'wasm, 1 thread',
    'wasm, 2 threads',
    "'auto' threads",
    "wasm, 'auto'",
    'JS fused',
    'plain JS loop',
    '1 thr ÷ 2 thr',
    'wasm 1 thr ÷ C',
    'wasm 2 thr ÷ C',
    "wasm 'auto' ÷ C",
    'JS fused ÷ wasm 1 thr',
  ];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  console.log([line(head), line(w.map((x) => '-'.repeat(x))), ...rows.map(line)].join('\n'));
  console.log(
    '\nwasm SIMD, JS fused: selectiveScan (impl fused; tensors in/out via tfjs, inputs checked finite) on the ' +
      'WebAssembly SIMD kernel and on the JS kernel. C and the plain loop: bare arrays, no tfjs, no checks; their ' +
      'forward+backward keeps the states, the kernels recompute them. C: cc -O3 -march=native, one thread; ' +
      'C -ffast-math: the same with vector expf and a reordered sum over n. wasm, 2 threads: SCAN_THREADS = 2 (rows ' +
      "of the forward, channels of the backward over worker threads; bit-identical to one thread). 'auto': what " +
      "SCAN_THREADS 'auto' (the default) picks here, and its time. Goal of issue 15: wasm ÷ C ≤ 2.",
  );
  for (const note of notes) console.log(note);
  await shutdownScanThreads();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
