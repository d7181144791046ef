/**
 * The host selective scan in WebAssembly SIMD: glue between ScanArrays and the AssemblyScript kernel
 * (packages/ssm-core/assembly/scan.ts, compiled by `npm run build:wasm` into ./scanWasm.generated.ts as base64,
 * so one synchronous load serves Node, the CJS build and browser bundles alike).
 *
 * Every layout `selectiveScan` accepts runs here (Δ per channel, per state, or both; fixed or input-dependent B
 * and C; D, z, deltaBias, softplus; euler / zoh / identity), in float32 with f32x4 lanes over the state axis. The
 * backward recomputes each row's states (no state is kept between forward and backward). Problems whose working
 * set exceeds {@link WASM_SCAN_MAX_BYTES}, runtimes without WebAssembly SIMD and the flag WASM_SCAN = false take
 * the JS kernel (./scanForward.ts, ./scanBackward.ts) instead: {@link hostScanPath} says which runs. Where a thread
 * host is installed (./scanThreads.ts, by the Node entry) and {@link scanThreadCount} is above 1, the same kernel runs
 * on a shared memory over several threads, with results bit-identical to this module's own one-thread instance.
 * The host ops of s6Inner and s4dInner call {@link wasmScanForwardTimeMajor} / {@link wasmScanBackwardTimeMajor}
 * instead: inputs and results in the model's layout [b, L, d] (the module transposes them), input-dependent B_t, C_t
 * read from x_dbl's rows, and a backward that reuses the inputs its forward set up in the module's memory while no
 * other call has written over them.
 */
import { ConfigError } from '../../../errors.js';
import { getFlag, SCAN_THREADS_MIN_WORK } from '../../../policy.js';
import type { ScanArrays, ScanDims } from '../../core/types.js';
import { deltaSize, DISC } from './layout.js';
import type { FusedGrads } from './scanForward.js';
import { SCAN_WASM_BASE64 } from './scanWasm.generated.js';

/** The exports of the compiled kernel (assembly/scan.ts). */
export interface ScanExports {
  memory: WebAssembly.Memory;
  deltaPrep(raw: number, bias: number, out: number, rows: number, L: number, X: number, soft: number): void;
  deltaGrad(
    raw: number,
    bias: number,
    g: number,
    gbias: number,
    rows: number,
    L: number,
    X: number,
    soft: number,
  ): void;
  toTimeMajor(src: number, dst: number, rows: number, n: number, L: number, Np: number): void;
  fromTimeMajor(src: number, dst: number, rows: number, n: number, L: number, Np: number): void;
  padRows(src: number, dst: number, rows: number, n: number, Np: number): void;
  unpadRows(src: number, dst: number, rows: number, n: number, Np: number): void;
  setProblem(...args: number[]): void;
  scanForward(out: number, last: number, scratch: number): void;
  scanForwardRows(out: number, last: number, scratch: number, r0: number, r1: number): void;
  scanBackward(...args: number[]): void;
  scanBackwardRows(...args: number[]): void;
  vectorMath(kind: number, src: number, dst: number, n: number): void;
  addRows(dst: number, src: number, n: number, count: number, stride: number): void;
  zero(ptr: number, bytes: number): void;
}

/** Largest working set (bytes of the module's memory) one scan call may use; larger problems run the JS kernel. */
export const WASM_SCAN_MAX_BYTES = 2 ** 31;
/** Arrays start above the module's own static data (it has none; the first 64 KiB are left to it). */
const BASE = 65536;

/** Calls that have written a scan's inputs into an instance's memory (each invalidates what an earlier one left). */
let inputsWritten = 0;

let kernel: ScanExports | null | undefined; // undefined: not loaded yet; null: unavailable
let unavailableReason = '';

/** The bytes of base64 `s` in an ArrayBuffer (what every TypeScript lib's BufferSource accepts). */
export function decodeBase64(s: string): ArrayBuffer {
  const bin = atob(s);
  const out = new ArrayBuffer(bin.length);
  const view = new Uint8Array(out);
  for (let i = 0; i < bin.length; i++) view[i] = bin.charCodeAt(i);
  return out;
}

function load(): ScanExports | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  if (typeof WebAssembly === 'undefined') {
    unavailableReason = 'no WebAssembly in this runtime';
    return kernel;
  }
  const bytes = decodeBase64(SCAN_WASM_BASE64);
  if (!WebAssembly.validate(bytes)) {
    unavailableReason = 'this runtime does not validate WebAssembly SIMD';
    return kernel;
  }
  try {
    kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as ScanExports;
  } catch (e) {
    // A browser's main thread may refuse to compile synchronously: compile asynchronously, the JS kernel serves meanwhile.
    unavailableReason = `synchronous compilation refused (${(e as Error).message}); compiling asynchronously`;
    WebAssembly.instantiate(bytes, {}).then(
      (r) => {
        kernel = r.instance.exports as unknown as ScanExports;
        unavailableReason = '';
      },
      (err: Error) => {
        unavailableReason = `compilation failed: ${err.message}`;
      },
    );
  }
  return kernel;
}

/**
 * Whether the WebAssembly SIMD scan kernel is loaded in this runtime, and why not when it is not.
 * @internal
 */
export function wasmScanStatus(): { available: boolean; reason: string } {
  const k = load();
  return { available: k !== null, reason: k ? '' : unavailableReason };
}

/** The kernel's f32x4 e^x, ln x, softplus and σ applied to `x` (for tests of its accuracy). */
export function wasmVectorMath(f: 'exp' | 'log' | 'softplus' | 'sigmoid', x: Float32Array): Float32Array {
  const k = load();
  if (!k) throw new Error(`WebAssembly SIMD scan unavailable: ${unavailableReason}`);
  const mem = memoryFor(k, BASE + 8 * x.length);
  inputsWritten++;
  mem.set(x, BASE / 4);
  k.vectorMath(['exp', 'log', 'softplus', 'sigmoid'].indexOf(f), BASE, BASE + 4 * x.length, x.length);
  return new Float32Array(k.memory.buffer).slice(BASE / 4 + x.length, BASE / 4 + 2 * x.length);
}

/** Forward and backward calls per host scan path since load (tests check which path ran). */
export const hostScanRuns = { wasm: { forward: 0, backward: 0 }, js: { forward: 0, backward: 0 } };

/**
 * Runs the kernel on several threads over one shared memory (./scanThreads.ts, in Node): {@link wasmScanForward}
 * and {@link wasmScanBackward} use it when one is installed and {@link scanThreadCount} is above 1.
 */
export interface ScanThreadHost {
  /** Threads it can run, the calling one included (1: none can start here, and `reason` says why). */
  maxThreads(): number;
  /** Threads the machine runs in parallel (Node's os.availableParallelism()). */
  parallelism(): number;
  /** The calling thread's instance of the kernel, on the shared memory. */
  kernel(): ScanExports;
  /**
   * Runs job `args` (see ./scanThreads.ts) on `threads` threads, the calling one included, and returns when all
   * have finished; a failure on any thread is a ThreadError, after every thread has stopped.
   */
  run(threads: number, args: readonly number[]): void;
}

let threadHost: ScanThreadHost | null = null;

/** The installed thread host, if any. */
export function scanThreadHost(): ScanThreadHost | null {
  return threadHost;
}

/** Installs (or, with null, removes) the host that runs the kernel on several threads. */
export function setScanThreadHost(host: ScanThreadHost | null): void {
  threadHost = host;
}

/** Threaded calls (more than one thread) of the WebAssembly scan since load, per pass. */
export const threadedScanRuns = { forward: 0, backward: 0 };

/** Do ∂B, ∂C or ∂Δ̄ sum over channels d (input-dependent B or C, Δ per state)? */
const sumsOverChannels = (s: ScanDims) => !s.bFixed || !s.cFixed || s.deltaAlong === 'state';

/**
 * Does a threaded backward give each row its own arrays for the sums over channels (one batch row, where running the
 * channels' threads one after the other per batch row would leave nothing in parallel)?
 */
const stagedSums = (s: ScanDims, threads: number) => threads > 1 && s.batch === 1 && sumsOverChannels(s);

/**
 * Threads the WebAssembly scan of dims `s` runs on (the calling one included), from the flag SCAN_THREADS and the
 * installed thread host: 1 where no host is installed or it cannot start workers, and where 'auto' finds the work
 * below SCAN_THREADS_MIN_WORK. Never more than the rows the pass splits (b·d in the forward, d in the backward).
 */
export function scanThreadCount(s: ScanDims, backward: boolean): number {
  const flag = getFlag('SCAN_THREADS');
  if (flag === 1 || !threadHost) return 1;
  const split = backward ? s.dInner : s.batch * s.dInner;
  let n = flag;
  if (flag === 'auto') {
    const work = s.batch * s.dInner * pad4(s.dState) * s.L;
    if (work < SCAN_THREADS_MIN_WORK) return 1;
    n = Math.min(4, threadHost.parallelism());
  }
  return Math.max(1, Math.min(n as number, split, threadHost.maxThreads()));
}

const pad4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Float counts of the arrays one call places in the module's memory, in allocation order; the scratch last, one
 * of `scratchStride` bytes per thread.
 */
function plan(s: ScanDims, backward: boolean, threads = 1, stage = false) {
  const { batch: b, dInner: D, dState: N, L } = s;
  const Np = pad4(N);
  const rows = b * D;
  const raw = deltaSize(s);
  const dt = s.deltaAlong === 'channel' ? raw : (s.deltaAlong === 'state' ? b : rows) * L * Np;
  const bc = (fixed: boolean) => (fixed ? D * Np : b * L * Np);
  const bcRaw = (fixed: boolean) => (fixed ? D * N : b * N * L);
  const X = raw / (b * L);
  const sizes: Record<string, number> = {
    u: rows * L,
    deltaRaw: raw,
    bias: s.hasBias ? X : 0,
    dtRaw: s.deltaAlong === 'channel' ? 0 : raw,
    dt,
    Araw: D * N,
    A: D * Np,
    Braw: bcRaw(s.bFixed),
    B: bc(s.bFixed),
    Craw: bcRaw(s.cFixed),
    C: bc(s.cFixed),
    D: s.hasD ? D : 0,
    z: s.hasZ ? rows * L : 0,
  };
  if (!backward) Object.assign(sizes, { out: rows * L, last: rows * Np, lastRaw: rows * N, scratch: 4 * L });
  else
    Object.assign(sizes, {
      gOut: rows * L,
      gLastRaw: rows * N,
      gLast: rows * Np,
      gu: rows * L,
      gz: s.hasZ ? rows * L : 0,
      gdt: dt,
      gdtRaw: s.deltaAlong === 'channel' ? 0 : raw,
      gA: D * Np,
      gAraw: D * N,
      gB: bc(s.bFixed),
      gBraw: bcRaw(s.bFixed),
      gC: bc(s.cFixed),
      gCraw: bcRaw(s.cFixed),
      gD: s.hasD ? D : 0,
      gbias: s.hasBias ? X : 0,
      scratch: (2 * Np + 10) * L + Np, // S[−1], S and E [L, Np]; two rows of L f32x4 and two of L floats
    });
  const scratchStride = Math.ceil((sizes.scratch * 4) / 16) * 16;
  sizes.scratch = (threads * scratchStride) / 4;
  if (backward && stagedSums(s, threads)) {
    // Each row's own ∂B, ∂C, ∂Δ̄ (per state) [d, L, Np], added up in channel order after the rows ran.
    sizes.stageB = s.bFixed ? 0 : D * L * Np;
    sizes.stageC = s.cFixed ? 0 : D * L * Np;
    sizes.stageD = s.deltaAlong === 'state' ? D * L * Np : 0;
  }
  if (stage) sizes.stage = rows * L; // one [b, L, d] array in the model's layout, transposed in the module
  let off = BASE;
  const at: Record<string, number> = {};
  for (const [k, n] of Object.entries(sizes)) {
    at[k] = n > 0 ? off : 0;
    off += Math.ceil((n * 4) / 16) * 16;
  }
  return { at, end: off, Np, X, scratchStride };
}

/**
 * Which host kernel runs the scan of dims `s` ('wasm-simd' or 'js'), with a backward pass when `backward`: the
 * WebAssembly one unless the flag, the runtime or the size rules it out, or the module's memory cannot grow to it
 * (with the staging array of {@link wasmScanForwardTimeMajor} when `timeMajorInputs`).
 */
export function hostScanPath(s: ScanDims, backward: boolean, timeMajorInputs = false): 'wasm-simd' | 'js' {
  const k = s.timeMajor || !getFlag('WASM_SCAN') ? null : load();
  if (!k) return 'js';
  try {
    pick(s, backward, timeMajorInputs);
  } catch {
    return 'js'; // too large, or the engine refused to grow the memory (RangeError)
  }
  return 'wasm-simd';
}

/** The module's memory grown to `end` bytes, as a fresh float32 view. */
function memoryFor(k: ScanExports, end: number): Float32Array {
  const have = k.memory.buffer.byteLength;
  if (end > have) k.memory.grow(Math.ceil((end - have) / 65536));
  return new Float32Array(k.memory.buffer);
}

/**
 * Copy the inputs in, make Δ̄ and the padded time-major A, B, C, and describe the problem to the module; returns the
 * description (setProblem's arguments).
 */
function setUp(k: ScanExports, s: ScanDims, x: ScanArrays, at: Record<string, number>, Np: number, X: number) {
  const { batch: b, dInner: D, dState: N, L } = s;
  inputsWritten++;
  const mem = memoryFor(k, 0);
  const put = (key: string, v: ArrayLike<number> | undefined) => {
    if (v && at[key]) mem.set(v, at[key] / 4);
  };
  put('u', x.u);
  put('deltaRaw', x.delta);
  put('bias', x.deltaBias);
  put('Araw', x.A);
  put('Braw', x.B);
  put('Craw', x.C);
  put('D', x.D);
  put('z', x.z);
  const rawRows = deltaSize(s) / L;
  if (s.deltaAlong === 'channel') k.deltaPrep(at.deltaRaw, at.bias, at.dt, rawRows, L, X, s.softplus ? 1 : 0);
  else {
    k.deltaPrep(at.deltaRaw, at.bias, at.dtRaw, rawRows, L, X, s.softplus ? 1 : 0);
    k.toTimeMajor(at.dtRaw, at.dt, s.deltaAlong === 'state' ? b : b * D, N, L, Np);
  }
  k.padRows(at.Araw, at.A, D, N, Np);
  for (const [raw, dst, fixed] of [
    [at.Braw, at.B, s.bFixed],
    [at.Craw, at.C, s.cFixed],
  ] as const) {
    if (fixed) k.padRows(raw, dst, D, N, Np);
    else k.toTimeMajor(raw, dst, b, N, L, Np);
  }
  return describe(k, s, at, Np);
}

/** Describes the problem of dims `s` with arrays at `at` to the module; returns setProblem's arguments. */
function describe(k: ScanExports, s: ScanDims, at: Record<string, number>, Np: number): number[] {
  const along = s.deltaAlong === 'channel' ? 0 : s.deltaAlong === 'state' ? 1 : 2;
  const problem = [s.batch, s.dInner, Np, s.L, along, DISC[s.disc], at.u, at.dt, at.A, at.B, +s.bFixed];
  problem.push(at.C, +s.cFixed, at.D, at.z);
  k.setProblem(...problem);
  return problem;
}

/**
 * The instance, thread count and memory plan of one call: the shared-memory instance of the thread host when
 * {@link scanThreadCount} is above 1 and the shared memory grows to the plan, else this module's own instance.
 */
function pick(s: ScanDims, backward: boolean, stage = false) {
  const threads = scanThreadCount(s, backward);
  if (threads > 1) {
    const p = plan(s, backward, threads, stage);
    try {
      if (p.end <= WASM_SCAN_MAX_BYTES) {
        const k = threadHost!.kernel();
        memoryFor(k, p.end);
        return { k, threads, ...p };
      }
    } catch {
      // no shared-memory kernel here, or the engine refused to grow its memory (RangeError): one thread
    }
  }
  const k = load()!;
  const p = plan(s, backward, 1, stage);
  if (p.end > WASM_SCAN_MAX_BYTES) throw new RangeError(`the scan needs ${p.end} bytes of memory`);
  memoryFor(k, p.end);
  return { k, threads: 1, ...p };
}

/** Forward pass: out [b, d, L] and the last state [b, d, n]. Call only where {@link hostScanPath} is 'wasm-simd'. */
export function wasmScanForward(s: ScanDims, x: ScanArrays): { out: Float32Array; lastState: Float32Array } {
  const { k, threads, at, Np, X, scratchStride } = pick(s, false);
  const problem = setUp(k, s, x, at, Np, X);
  if (threads > 1) {
    const rows = s.batch * s.dInner;
    threadHost!.run(threads, [1, threads, ...problem, rows, at.out, at.last, at.scratch, scratchStride]);
    threadedScanRuns.forward++;
  } else k.scanForward(at.out, at.last, at.scratch);
  k.unpadRows(at.last, at.lastRaw, s.batch * s.dInner, s.dState, Np);
  const mem = new Float32Array(k.memory.buffer);
  const { batch: b, dInner: D, dState: N, L } = s;
  hostScanRuns.wasm.forward++;
  return {
    out: mem.slice(at.out / 4, at.out / 4 + b * D * L),
    lastState: mem.slice(at.lastRaw / 4, at.lastRaw / 4 + b * D * N),
  };
}

/**
 * Backward pass: the gradients of every input given `gOut` [b, d, L] and `gLast` [b, d, n] (or none), in the
 * inputs' own layouts. Call only where {@link hostScanPath} (with a backward) is 'wasm-simd'.
 */
export function wasmScanBackward(s: ScanDims, x: ScanArrays, gOut: Float32Array, gLast?: Float32Array): FusedGrads {
  const { batch: b, dInner: D, dState: N, L } = s;
  const { k, threads, at, end, Np, X, scratchStride } = pick(s, true);
  let mem = memoryFor(k, end);
  const gradKeys = ['gu', 'gz', 'gdt', 'gA', 'gB', 'gC', 'gD', 'gbias', 'gLast'];
  for (const key of gradKeys) if (at[key]) mem.fill(0, at[key] / 4, at[key] / 4 + sizeOf(at, key, end) / 4);
  const problem = setUp(k, s, x, at, Np, X);
  mem = new Float32Array(k.memory.buffer);
  mem.set(gOut, at.gOut / 4);
  if (gLast) {
    mem.set(gLast, at.gLastRaw / 4);
    k.padRows(at.gLastRaw, at.gLast, b * D, N, Np);
  }
  const grads = [at.gOut, gLast ? at.gLast : 0, at.gu, at.gdt, at.gA, at.gB, at.gC, at.gD, at.gz];
  if (threads > 1) {
    const order = stagedSums(s, threads) ? 2 : sumsOverChannels(s) ? 1 : 0;
    const stages = [at.stageB ?? 0, at.stageC ?? 0, at.stageD ?? 0, L * pad4(N)];
    threadHost!.run(threads, [2, threads, ...problem, b, D, order, ...grads, at.scratch, scratchStride, ...stages]);
    threadedScanRuns.backward++;
  } else k.scanBackward(...grads, at.scratch);
  const rawRows = deltaSize(s) / L;
  let gdelta = at.gdt;
  if (s.deltaAlong !== 'channel') {
    k.fromTimeMajor(at.gdt, at.gdtRaw, s.deltaAlong === 'state' ? b : b * D, N, L, Np);
    gdelta = at.gdtRaw;
  }
  k.deltaGrad(at.deltaRaw, at.bias, gdelta, at.gbias, rawRows, L, X, s.softplus ? 1 : 0);
  k.unpadRows(at.gA, at.gAraw, D, N, Np);
  for (const [src, dst, fixed] of [
    [at.gB, at.gBraw, s.bFixed],
    [at.gC, at.gCraw, s.cFixed],
  ] as const) {
    if (fixed) k.unpadRows(src, dst, D, N, Np);
    else k.fromTimeMajor(src, dst, b, N, L, Np);
  }
  mem = new Float32Array(k.memory.buffer);
  const take = (p: number, n: number) => mem.slice(p / 4, p / 4 + n);
  const bc = (fixed: boolean) => (fixed ? D * N : b * N * L);
  hostScanRuns.wasm.backward++;
  return {
    u: take(at.gu, b * D * L),
    delta: take(gdelta, deltaSize(s)),
    A: take(at.gAraw, D * N),
    B: take(at.gBraw, bc(s.bFixed)),
    C: take(at.gCraw, bc(s.cFixed)),
    D: x.D ? take(at.gD, D) : undefined,
    z: x.z ? take(at.gz, b * D * L) : undefined,
    deltaBias: x.deltaBias ? take(at.gbias, X) : undefined,
  };
}

/** Bytes from `key`'s offset to the next array's (its padded size). */
function sizeOf(at: Record<string, number>, key: string, end: number): number {
  const next = Object.values(at)
    .filter((p) => p > at[key])
    .reduce((m, p) => Math.min(m, p), end);
  return next - at[key];
}

/**
 * A scan's inputs in the model's time-major layout (Δ per channel, no z): u and Δ_raw [b, L, d]; B and C either fixed
 * ([d, n], as `B`, `C`) or input-dependent, read from the rows of `xdbl` [b·L, W] at columns bOff … bOff + n and
 * cOff … cOff + n (as S6's x_dbl = [Δ_low | B_t | C_t]); A [d, n], D [d], Δ's bias [d].
 */
export interface TimeMajorScan {
  u: Float32Array;
  deltaRaw: Float32Array;
  A: Float32Array;
  B?: Float32Array;
  C?: Float32Array;
  xdbl?: Float32Array;
  W?: number;
  bOff?: number;
  cOff?: number;
  D?: Float32Array;
  deltaBias?: Float32Array;
}

/** What a forward leaves for its backward: the instance whose memory holds the inputs it set up, and when. */
export interface WasmScanKept {
  k: ScanExports;
  written: number;
}

/** The checks of the time-major entry points: Δ per channel, no z, B and C given as the dims say. */
function assertTimeMajorDims(s: ScanDims, x: TimeMajorScan): void {
  const ok =
    s.deltaAlong === 'channel' &&
    !s.hasZ &&
    s.hasBias === (x.deltaBias !== undefined) &&
    s.bFixed === (x.B !== undefined) &&
    s.cFixed === (x.C !== undefined) &&
    ((s.bFixed && s.cFixed) || x.xdbl !== undefined);
  if (!ok) {
    const expected =
      'Δ per channel, no z, the bias and fixed B, C given as the dims say, x_dbl for input-dependent ones';
    const { deltaAlong, hasZ, hasBias, bFixed, cFixed } = s;
    const actual = JSON.stringify({ deltaAlong, hasZ, hasBias, bFixed, cFixed });
    throw new ConfigError(`dims: expected ${expected}, got ${actual}`, 'dims', expected, actual);
  }
}

/**
 * Set-up of {@link TimeMajorScan} inputs: u and Δ_raw copied into the staging array and transposed to [b, d, L] by
 * the module; input-dependent B_t and C_t copied from x_dbl's rows into the padded time-major [b, L, Np] the kernel
 * reads.
 */
function setUpTimeMajor(k: ScanExports, s: ScanDims, x: TimeMajorScan, at: Record<string, number>, Np: number) {
  const { batch: b, dInner: D, dState: N, L } = s;
  inputsWritten++;
  let mem = memoryFor(k, 0);
  mem.set(x.u, at.stage / 4);
  k.fromTimeMajor(at.stage, at.u, b, D, L, D);
  mem.set(x.deltaRaw, at.stage / 4);
  k.fromTimeMajor(at.stage, at.deltaRaw, b, D, L, D);
  mem = new Float32Array(k.memory.buffer);
  if (x.deltaBias) mem.set(x.deltaBias, at.bias / 4);
  mem.set(x.A, at.Araw / 4);
  if (x.D && at.D) mem.set(x.D, at.D / 4);
  k.deltaPrep(at.deltaRaw, at.bias, at.dt, b * D, L, D, s.softplus ? 1 : 0);
  k.padRows(at.Araw, at.A, D, N, Np);
  const rows = b * L;
  for (const [fixed, raw, dst, off] of [
    [x.B, at.Braw, at.B, x.bOff ?? 0],
    [x.C, at.Craw, at.C, x.cOff ?? 0],
  ] as const) {
    if (fixed) {
      mem.set(fixed, raw / 4);
      k.padRows(raw, dst, D, N, Np);
      continue;
    }
    const xdbl = x.xdbl!;
    const W = x.W!;
    for (let i = 0, di = dst / 4, si = off; i < rows; i++, di += Np, si += W) {
      let n = 0;
      for (; n < N; n++) mem[di + n] = xdbl[si + n];
      for (; n < Np; n++) mem[di + n] = 0;
    }
  }
  return describe(k, s, at, Np);
}

/**
 * Forward of the scan of dims `s` on {@link TimeMajorScan} inputs: out [b, L, d], transposed in the module, and what
 * {@link wasmScanBackwardTimeMajor} reuses. Call only where {@link hostScanPath} is 'wasm-simd'.
 */
export function wasmScanForwardTimeMajor(s: ScanDims, x: TimeMajorScan): { out: Float32Array; kept: WasmScanKept } {
  assertTimeMajorDims(s, x);
  const { batch: b, dInner: D, L } = s;
  const { k, threads, at, Np, scratchStride } = pick(s, false, true);
  const problem = setUpTimeMajor(k, s, x, at, Np);
  if (threads > 1) {
    threadHost!.run(threads, [1, threads, ...problem, b * D, at.out, at.last, at.scratch, scratchStride]);
    threadedScanRuns.forward++;
  } else k.scanForward(at.out, at.last, at.scratch);
  k.toTimeMajor(at.out, at.stage, b, D, L, D);
  hostScanRuns.wasm.forward++;
  const out = new Float32Array(k.memory.buffer).slice(at.stage / 4, at.stage / 4 + b * D * L);
  return { out, kept: { k, written: inputsWritten } };
}

/**
 * Backward of {@link wasmScanForwardTimeMajor} from ∂out `gOut` [b, L, d]: ∂u and ∂Δ_raw [b, L, d], ∂A [d, n], ∂D,
 * ∂bias [d], fixed ∂B, ∂C [d, n]; input-dependent ∂B_t and ∂C_t go into columns bOff … and cOff … of `gxdbl`
 * [b·L, W]. The inputs the forward set up are reused where no call has replaced them since (`kept`), else set up
 * again.
 */
export function wasmScanBackwardTimeMajor(
  s: ScanDims,
  x: TimeMajorScan,
  kept: WasmScanKept,
  gOut: Float32Array,
  gxdbl?: Float32Array,
): Omit<FusedGrads, 'z'> {
  assertTimeMajorDims(s, x);
  const { batch: b, dInner: D, dState: N, L } = s;
  const { k, threads, at, end, Np, scratchStride } = pick(s, true, true);
  memoryFor(k, end);
  k.zero(at.gu, at.scratch - at.gu); // every gradient array (they lie between ∂u and the scratch)
  const reuse = kept.k === k && kept.written === inputsWritten;
  const problem = reuse ? describe(k, s, at, Np) : setUpTimeMajor(k, s, x, at, Np);
  let mem = new Float32Array(k.memory.buffer);
  mem.set(gOut, at.stage / 4);
  k.fromTimeMajor(at.stage, at.gOut, b, D, L, D);
  const grads = [at.gOut, 0, at.gu, at.gdt, at.gA, at.gB, at.gC, at.gD, 0];
  if (threads > 1) {
    const order = stagedSums(s, threads) ? 2 : sumsOverChannels(s) ? 1 : 0;
    const stages = [at.stageB ?? 0, at.stageC ?? 0, at.stageD ?? 0, L * Np];
    threadHost!.run(threads, [2, threads, ...problem, b, D, order, ...grads, at.scratch, scratchStride, ...stages]);
    threadedScanRuns.backward++;
  } else k.scanBackward(...grads, at.scratch);
  k.deltaGrad(at.deltaRaw, at.bias, at.gdt, at.gbias, b * D, L, D, s.softplus ? 1 : 0);
  k.unpadRows(at.gA, at.gAraw, D, N, Np);
  if (s.bFixed) k.unpadRows(at.gB, at.gBraw, D, N, Np);
  if (s.cFixed) k.unpadRows(at.gC, at.gCraw, D, N, Np);
  k.toTimeMajor(at.gu, at.stage, b, D, L, D);
  k.toTimeMajor(at.gdt, at.gu, b, D, L, D); // ∂u is read from the staging array; its own array takes ∂Δ_raw
  mem = new Float32Array(k.memory.buffer);
  const rows = b * L;
  for (const [fixed, src, off] of [
    [s.bFixed, at.gB, x.bOff ?? 0],
    [s.cFixed, at.gC, x.cOff ?? 0],
  ] as const) {
    if (fixed) continue;
    const W = x.W!;
    for (let i = 0, si = src / 4, di = off; i < rows; i++, si += Np, di += W)
      for (let n = 0; n < N; n++) gxdbl![di + n] = mem[si + n];
  }
  const take = (p: number, n: number) => mem.slice(p / 4, p / 4 + n);
  hostScanRuns.wasm.backward++;
  return {
    u: take(at.stage, b * D * L),
    delta: take(at.gu, b * D * L),
    A: take(at.gAraw, D * N),
    B: s.bFixed ? take(at.gBraw, D * N) : new Float32Array(0),
    C: s.cFixed ? take(at.gCraw, D * N) : new Float32Array(0),
    D: x.D ? take(at.gD, D) : undefined,
    deltaBias: x.deltaBias ? take(at.gbias, D) : undefined,
  };
}
