/**
 * The WebAssembly SIMD scan on several threads (Node only; loaded by the main entry, never by `ssm-core/browser`):
 * a second build of assembly/scan.ts that imports a shared memory (./scanWasmShared.generated.ts), instantiated
 * by the calling thread and by a small pool of worker threads, started at the first threaded call and kept.
 *
 * A call stays synchronous (it is a tfjs kernel): the calling thread writes the job into a SharedArrayBuffer, wakes
 * the workers with Atomics.notify, computes share 0 itself and waits (Atomics.wait, allowed on Node's main thread)
 * until every worker has finished its share. The forward splits the rows r = b·d + channel into contiguous ranges;
 * the backward splits the channels d, so that each sum over b (∂A, ∂D, fixed ∂B and ∂C) has one owner that adds in
 * the order one thread would. Where sums over d exist (input-dependent ∂B, ∂C; ∂Δ̄ per state), share j runs batch
 * row b only once share j − 1 has finished it, or, with a single batch row, every row sums into zeroed arrays of
 * its own that are added up in channel order afterwards: the sums keep their channel order too, and results are
 * bit-identical to one thread. Workers are unref'd (they never keep the process alive); {@link shutdownScanThreads}
 * stops them.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { threadError } from '../../../errors.js';
import { SCAN_WASM_SHARED_BASE64 } from './scanWasmShared.generated.js';
import { decodeBase64, type ScanExports, setScanThreadHost, WASM_SCAN_MAX_BYTES } from './wasmScan.js';

/** Most threads a call may use (the flag SCAN_THREADS accepts up to this). */
const MAX_THREADS = 64;

// Control words (Int32) of the SharedArrayBuffer `ctrl`: a block of SLOT words per thread j, then the global ones.
const SLOT = 8;
const GEN = 0; // generation of the job posted to worker j (−1: stop)
const DONE = 1; // last generation worker j finished
const STATE = 2; // worker j's state (below)
const FAILED_GEN = 3; // generation whose share failed on worker j
const PROG = 4; // batch rows share j has finished (backward with sums over d)
const ABORT = SLOT * MAX_THREADS; // non-zero once a share failed: the others stop early
const BARRIER = ABORT + 1; // shares that finished their rows (backward with staged sums)
const CTRL_WORDS = ABORT + 2;
const STARTING = 0;
const READY = 1;
const BROKEN = 2; // failed to start, or exited

/**
 * One thread's share of a job, as source text: the same function runs on the calling thread (through `Function`)
 * and in the workers. `a` holds the job: [op (1 forward, 2 backward), threads T, setProblem's 15 arguments, then
 * forward: rows, out, last, scratch, scratch stride; backward: batch, D, sums over d (0: none, 1: in channel order
 * per batch row, 2: staged), gOut, gLast, gu, gdt, gA, gB, gC, gD, gz, scratch, scratch stride, and for staged
 * sums the staging arrays of ∂B, ∂C, ∂Δ̄ (0: none) and their row length L·Np]. Share j of T gets rows (forward) or
 * channels (backward) ⌊n·j/T⌋ ≤ · < ⌊n·(j+1)/T⌋ and its own scratch. Staged sums (one batch row): each row adds
 * into zeroed arrays of its own, and once every share has run its rows (a barrier), share j adds the rows' arrays
 * in channel order into its part of (t, state) — the additions one thread makes, in its order, as 0 + x = x.
 */
const SHARE_SOURCE = `function staged(k, c, a, j, T, D, d0, d1, scratch) {
  const n = a[34];
  const bytes = n * 4;
  const [sB, sC, sD] = [a[31], a[32], a[33]];
  try {
    for (let d = d0; d < d1; d++) {
      const o = d * bytes;
      for (const s of [sB, sC, sD]) if (s) k.zero(s + o, bytes);
      const gdt = sD ? sD + o : a[23];
      const gB = sB ? sB + o : a[25];
      const gC = sC ? sC + o : a[26];
      k.scanBackwardRows(a[20], a[21], a[22], gdt, a[24], gB, gC, a[27], a[28], scratch, 0, 1, d, d + 1);
    }
  } catch (e) {
    Atomics.store(c, ${ABORT}, 1);
    throw e;
  } finally {
    Atomics.add(c, ${BARRIER}, 1);
    Atomics.notify(c, ${BARRIER});
  }
  for (let v = Atomics.load(c, ${BARRIER}); v < T; v = Atomics.load(c, ${BARRIER})) Atomics.wait(c, ${BARRIER}, v);
  if (Atomics.load(c, ${ABORT}) !== 0) return;
  const i0 = 4 * Math.floor(((n / 4) * j) / T);
  const i1 = 4 * Math.floor(((n / 4) * (j + 1)) / T);
  if (i1 <= i0) return;
  if (sB) k.addRows(a[25] + 4 * i0, sB + 4 * i0, i1 - i0, D, bytes);
  if (sC) k.addRows(a[26] + 4 * i0, sC + 4 * i0, i1 - i0, D, bytes);
  if (sD) k.addRows(a[23] + 4 * i0, sD + 4 * i0, i1 - i0, D, bytes);
}
function runShare(k, c, a, j) {
  const T = a[1];
  k.setProblem(a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16]);
  if (a[0] === 1) {
    const rows = a[17];
    const r0 = Math.floor((rows * j) / T);
    const r1 = Math.floor((rows * (j + 1)) / T);
    if (r1 > r0) k.scanForwardRows(a[18], a[19], a[20] + j * a[21], r0, r1);
    return;
  }
  const batch = a[17];
  const D = a[18];
  const d0 = Math.floor((D * j) / T);
  const d1 = Math.floor((D * (j + 1)) / T);
  const scratch = a[29] + j * a[30];
  const rows = (b0, b1) => {
    if (d1 > d0) k.scanBackwardRows(a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], scratch, b0, b1, d0, d1);
  };
  if (a[19] === 0) return rows(0, batch);
  if (a[19] === 2) return staged(k, c, a, j, T, D, d0, d1, scratch);
  const mine = j * ${SLOT} + ${PROG};
  const prev = (j - 1) * ${SLOT} + ${PROG};
  try {
    for (let b = 0; b < batch; b++) {
      if (j > 0) {
        for (let p = Atomics.load(c, prev); p <= b; p = Atomics.load(c, prev)) Atomics.wait(c, prev, p);
        if (Atomics.load(c, ${ABORT}) !== 0) return;
      }
      rows(b, b + 1);
      Atomics.store(c, mine, b + 1);
      Atomics.notify(c, mine);
    }
  } catch (e) {
    Atomics.store(c, ${ABORT}, 1);
    throw e;
  } finally {
    Atomics.store(c, mine, batch + 1);
    Atomics.notify(c, mine);
  }
}`;

/** A worker: instantiate the shared-memory kernel, report READY, then run each posted share until told to stop. */
const WORKER_SOURCE = `'use strict';
const { workerData } = require('node:worker_threads');
${SHARE_SOURCE}
function main() {
  const { module, memory, ctrl, args, port, j } = workerData;
  const c = new Int32Array(ctrl);
  const a = new Float64Array(args);
  const at = j * ${SLOT};
  const report = (e) => port.postMessage(e instanceof Error ? e.name + ': ' + e.message : String(e));
  process.on('exit', () => {
    Atomics.store(c, at + ${STATE}, ${BROKEN});
    Atomics.notify(c, at + ${STATE});
    Atomics.notify(c, at + ${DONE});
  });
  let k;
  try {
    k = new WebAssembly.Instance(module, { env: { memory } }).exports;
  } catch (e) {
    report(e);
    Atomics.store(c, at + ${STATE}, ${BROKEN});
    Atomics.notify(c, at + ${STATE});
    return;
  }
  Atomics.store(c, at + ${STATE}, ${READY});
  Atomics.notify(c, at + ${STATE});
  let seen = 0;
  for (;;) {
    Atomics.wait(c, at + ${GEN}, seen);
    const gen = Atomics.load(c, at + ${GEN});
    if (gen === seen) continue;
    if (gen < 0) return;
    seen = gen;
    try {
      runShare(k, c, a, j);
    } catch (e) {
      report(e);
      Atomics.store(c, at + ${FAILED_GEN}, gen);
      Atomics.store(c, ${ABORT}, 1);
    }
    Atomics.store(c, at + ${DONE}, gen);
    Atomics.notify(c, at + ${DONE});
  }
}
main();
`;

type RunShare = (k: ScanExports, c: Int32Array, a: Float64Array, j: number) => void;

interface Pool {
  memory: WebAssembly.Memory;
  kernel: ScanExports;
  module: WebAssembly.Module;
  ctrl: Int32Array;
  args: Float64Array;
  workers: { worker: Worker; port: MessagePort }[];
  gen: number;
}

let pool: Pool | null = null;
let unavailable = '';
let runShare: RunShare | null = null;

/** Why workers cannot run here ('' when they can). */
function checkRuntime(): string {
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer in this runtime';
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch (e) {
    return `Atomics.wait is not allowed on this thread (${(e as Error).message})`;
  }
  return '';
}

/** The pool (memory, the calling thread's instance), created without workers on first use. */
function getPool(): Pool {
  if (pool) return pool;
  let module: WebAssembly.Module, memory: WebAssembly.Memory, kernel: ScanExports;
  try {
    module = new WebAssembly.Module(decodeBase64(SCAN_WASM_SHARED_BASE64));
    memory = new WebAssembly.Memory({ initial: 2, maximum: WASM_SCAN_MAX_BYTES / 65536, shared: true });
    kernel = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ScanExports;
  } catch (e) {
    unavailable = `the shared-memory kernel does not load here (${(e as Error).message})`;
    throw e;
  }
  runShare ??= new Function(`${SHARE_SOURCE}\nreturn runShare;`)() as RunShare;
  pool = {
    memory,
    kernel,
    module,
    ctrl: new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4)),
    args: new Float64Array(new SharedArrayBuffer(64 * 8)),
    workers: [],
    gen: 0,
  };
  return pool;
}

/** Workers 1 … n − 1 started (and waited for) where missing. */
function ensureWorkers(p: Pool, n: number): void {
  while (p.workers.length < n - 1) {
    const j = p.workers.length + 1;
    const { port1, port2 } = new MessageChannel();
    const c = p.ctrl;
    const at = j * SLOT;
    for (const w of [GEN, DONE, STATE, FAILED_GEN, PROG]) Atomics.store(c, at + w, 0);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: p.module, memory: p.memory, ctrl: c.buffer, args: p.args.buffer, port: port2, j },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    p.workers.push({ worker, port: port1 });
    const deadline = performance.now() + 60_000;
    while (Atomics.load(c, at + STATE) === STARTING && performance.now() < deadline)
      Atomics.wait(c, at + STATE, 0, 100);
    const state = Atomics.load(c, at + STATE);
    if (state !== READY) {
      const why = receiveMessageOnPort(port1)?.message ?? (state === STARTING ? 'no answer in 60 s' : 'it exited');
      discard();
      unavailable = `a worker thread failed to start (${String(why)})`;
      throw threadError('selectiveScan (wasm threads)', j, 'a worker thread that starts', String(why));
    }
  }
}

/** Terminates the pool's workers without waiting (after a failure that may leave some blocked). */
function discard(): void {
  if (!pool) return;
  for (const { worker, port } of pool.workers) {
    void worker.terminate();
    port.close();
  }
  pool = null;
}

function run(threads: number, job: readonly number[]): void {
  const p = getPool();
  ensureWorkers(p, threads);
  const { ctrl: c, args: a } = p;
  a.set(job);
  Atomics.store(c, ABORT, 0);
  Atomics.store(c, BARRIER, 0);
  for (let j = 0; j < threads; j++) Atomics.store(c, j * SLOT + PROG, 0);
  const gen = ++p.gen;
  for (let j = 1; j < threads; j++) {
    Atomics.store(c, j * SLOT + GEN, gen);
    Atomics.notify(c, j * SLOT + GEN);
  }
  let failure: { thread: number; message: string; cause?: unknown } | null = null;
  try {
    runShare!(p.kernel, c, a, 0);
  } catch (e) {
    Atomics.store(c, ABORT, 1);
    failure = { thread: 0, message: `${(e as Error).name}: ${(e as Error).message}`, cause: e };
  }
  let exited = false;
  for (let j = 1; j < threads; j++) {
    const at = j * SLOT;
    for (let done = Atomics.load(c, at + DONE); done !== gen; done = Atomics.load(c, at + DONE)) {
      if (Atomics.load(c, at + STATE) !== READY) break;
      Atomics.wait(c, at + DONE, done, 1000);
    }
    if (Atomics.load(c, at + DONE) !== gen) {
      exited = true;
      Atomics.store(c, ABORT, 1);
      failure ??= { thread: j, message: 'the worker thread exited before it finished its share' };
    } else if (Atomics.load(c, at + FAILED_GEN) === gen) {
      const message = String(receiveMessageOnPort(p.workers[j - 1].port)?.message ?? 'an error');
      failure ??= { thread: j, message };
    }
  }
  if (exited) discard();
  if (failure) {
    const op = job[0] === 1 ? 'selectiveScan forward (wasm threads)' : 'selectiveScan backward (wasm threads)';
    throw threadError(
      op,
      failure.thread,
      `thread ${failure.thread} to finish its share`,
      failure.message,
      failure.cause,
    );
  }
}

/** Stops the scan's worker threads (they start again at the next threaded call) and resolves once they exited. */
export async function shutdownScanThreads(): Promise<void> {
  if (!pool) return;
  const { workers, ctrl: c } = pool;
  pool = null;
  await Promise.all(
    workers.map(({ worker, port }, i) => {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref(); // keeps the event loop alive until the worker has exited, so that the promise settles
      Atomics.store(c, (i + 1) * SLOT + GEN, -1);
      Atomics.notify(c, (i + 1) * SLOT + GEN);
      port.close();
      return exited;
    }),
  );
}

/**
 * The cores 'auto' may spread one scan over: the machine's available parallelism on the main thread, 1 on a worker
 * thread — a worker is one lane of a pool that already fills the cores (e.g. evaluating 10⁴ sequences on 2 workers),
 * and scan threads of its own would put twice as many threads as cores to work.
 */
export function autoParallelism(mainThread: boolean, cores: number): number {
  return mainThread ? Math.max(cores, 1) : 1;
}

/** The scan's worker threads: whether they can run here (and why not), and how many are running. */
export function scanThreadsStatus(): { available: boolean; reason: string; workers: number } {
  return { available: unavailable === '', reason: unavailable, workers: pool?.workers.length ?? 0 };
}

unavailable = checkRuntime();
setScanThreadHost({
  maxThreads: () => (unavailable ? 1 : MAX_THREADS),
  parallelism: () => autoParallelism(isMainThread, availableParallelism()),
  kernel: () => getPool().kernel,
  run,
});
