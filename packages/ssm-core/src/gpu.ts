/**
 * WebGPU plumbing shared by backend selection and the ops:
 *
 * - Getting WebGPU up: in Node, npm `webgpu` (Dawn's prebuilt `dawn.node`) is loaded at run time when it is
 *   installed, and `navigator.gpu` plus the `GPU*` globals are created from it BEFORE
 *   `@tensorflow/tfjs-backend-webgpu` is imported (that module registers its backend only if `navigator.gpu`
 *   exists when it is evaluated). Browsers have `navigator.gpu` natively.
 * - Judging the adapter: {@link classifyAdapter} tells a hardware GPU from a CPU implementation of Vulkan /
 *   WebGPU (lavapipe/llvmpipe, SwiftShader, WARP, any fallback adapter); only a hardware adapter is chosen
 *   automatically.
 * - Faults as typed errors: {@link checkGpuRequest} refuses a request larger than the adapter's limits or the
 *   flag GPU_MEMORY_BUDGET before launch; {@link guardGpu} runs an op inside WebGPU error scopes
 *   (out-of-memory, validation, internal); the device's `uncapturederror` events and `lost` promise are
 *   remembered. A fault reported asynchronously is thrown as a {@link GpuError} by the next guarded op or by
 *   {@link gpuSync}; after a lost device every guarded op throws.
 */
import * as tf from '@tensorflow/tfjs-core';
import { fmtBytes, gpuError, valueError, type GpuError } from './errors.js';
import { getFlag } from './policy.js';

/** The WebGPU adapter as ssm-core reports it (from `adapter.info`). */
export interface GpuAdapterInfo {
  /** The adapter's vendor, e.g. 'nvidia' ('' when not reported). */
  vendor: string;
  /** Its architecture, e.g. 'hopper' ('' when not reported). */
  architecture: string;
  /** Its device name or id ('' when not reported). */
  device: string;
  /** The driver's description ('' when not reported). */
  description: string;
  /** `isFallbackAdapter`: the implementation may be slow or limited (always true for a CPU implementation in Dawn). */
  fallback: boolean;
  /** True for a GPU; false for a CPU implementation (lavapipe/llvmpipe, SwiftShader, WARP) or a fallback adapter. */
  hardware: boolean;
  /** One phrase: why it counts as hardware or not. */
  why: string;
}

/** Fields of a WebGPU `GPUAdapterInfo` (all optional: implementations differ). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
  /** Dawn's adapter type where exposed: 'discrete GPU', 'integrated GPU', 'CPU', 'unknown'. */
  type?: string;
  adapterType?: string;
}

const CPU_IMPLEMENTATIONS = /llvmpipe|lavapipe|swiftshader|software|\bwarp\b|basic render/i;

/**
 * Hardware GPU or CPU implementation? A CPU implementation is one that says so: `isFallbackAdapter`
 * (on the adapter or in its info), an adapter type 'cpu', or a vendor / architecture / device / description
 * naming a software rasteriser (llvmpipe, lavapipe, SwiftShader, WARP, "software").
 * @internal
 */
export function classifyAdapter(info: AdapterInfoLike, isFallbackAdapter = false): GpuAdapterInfo {
  const vendor = info.vendor ?? '',
    architecture = info.architecture ?? '',
    device = info.device ?? '',
    description = info.description ?? '';
  const fallback = Boolean(isFallbackAdapter || info.isFallbackAdapter);
  const type = String(info.type ?? info.adapterType ?? '').toLowerCase();
  const named = [vendor, architecture, device, description].find((s) => CPU_IMPLEMENTATIONS.test(s));
  let why = 'a hardware adapter';
  if (fallback) why = 'a fallback adapter (isFallbackAdapter)';
  else if (type === 'cpu') why = "an adapter of type 'cpu'";
  else if (named) why = `a CPU implementation (${named.match(CPU_IMPLEMENTATIONS)![0]})`;
  return { vendor, architecture, device, description, fallback, hardware: why === 'a hardware adapter', why };
}

/** `mesa software (llvmpipe…), fallback` — the adapter in one line. */
export function describeAdapter(a: GpuAdapterInfo): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = a.description || a.device;
  return `${name}${detail ? ` (${detail})` : ''}, ${a.hardware ? 'hardware' : 'CPU'}${a.fallback ? ', fallback adapter' : ''}`;
}

/** The exact npm command that installs Dawn's Node binding, tested with this release. */
export const WEBGPU_INSTALL = 'npm install webgpu@0.6.2';

const isNode = () => typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

interface GpuLike {
  requestAdapter(o?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: AdapterInfoLike;
  isFallbackAdapter?: boolean;
}

/** Outcome of {@link setupWebGpu}: `adapter` is the one `tf.setBackend('webgpu')` will get. */
export interface WebGpuSetup {
  ok: boolean;
  why: string;
  /** npm `webgpu` is not installed (Node only). */
  missingPackage?: boolean;
  adapter?: GpuAdapterInfo;
}

let setup: Promise<WebGpuSetup> | undefined;

/**
 * Make `navigator.gpu` exist (Node: from npm `webgpu`), import `@tensorflow/tfjs-backend-webgpu` so that it
 * registers, and read the adapter it will use (same powerPreference as the backend's own request). Once.
 */
export function setupWebGpu(): Promise<WebGpuSetup> {
  if (!setup) setup = doSetup();
  return setup;
}

async function doSetup(): Promise<WebGpuSetup> {
  const g = globalThis as unknown as { navigator?: { gpu?: GpuLike } };
  if (!g.navigator?.gpu) {
    if (!isNode()) return { ok: false, why: 'this browser has no navigator.gpu' };
    let mod: { create: (flags: string[]) => GpuLike; globals: Record<string, unknown> };
    try {
      const spec = 'webgpu';
      mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ spec)) as typeof mod;
    } catch (e) {
      const msg = (e as Error).message?.split('\n')[0] ?? String(e);
      const missing = /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(msg);
      return missing
        ? { ok: false, why: 'npm package webgpu not installed', missingPackage: true }
        : { ok: false, why: `npm package webgpu failed to load: ${msg}` };
    }
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    const nav = (g as { navigator?: object }).navigator;
    if (nav) {
      try {
        Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true }); // Node ≥ 21 has a navigator
      } catch {
        /* a frozen navigator: replaced below */
      }
    }
    if (!g.navigator?.gpu)
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  let adapter: AdapterLike | null;
  try {
    adapter = await g.navigator!.gpu!.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { ok: false, why: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { ok: false, why: 'no WebGPU adapter (no Vulkan/Metal/D3D12 driver that Dawn accepts)' };
  const info = classifyAdapter(adapter.info ?? {}, adapter.isFallbackAdapter);
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return { ok: false, why: `@tensorflow/tfjs-backend-webgpu failed to load: ${(e as Error).message}`, adapter: info };
  }
  if (tf.findBackendFactory('webgpu') == null)
    return { ok: false, why: 'the webgpu backend did not register (navigator.gpu came too late)', adapter: info };
  return { ok: true, why: describeAdapter(info), adapter: info };
}

/**
 * Does this machine look like it has a GPU driver Dawn could use (so that installing npm `webgpu` would help)?
 * Linux: a Vulkan loader (libvulkan.so.1) and an installable client driver other than a CPU one; macOS
 * (Metal) and Windows (D3D12): yes.
 */
export async function gpuDriverLikely(): Promise<boolean> {
  if (!isNode()) return false;
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  if (process.platform !== 'linux') return false;
  const fsSpec = 'node:fs';
  const fs = (await import(/* webpackIgnore: true */ /* @vite-ignore */ fsSpec)) as typeof import('node:fs');
  const libDirs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib64'];
  if (!libDirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`))) return false;
  const icdDirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const icds = icdDirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : []));
  return icds.some((f) => f.endsWith('.json') && !/lvp|swiftshader/i.test(f));
}

// ---------------------------------------------------------------------------------------------- faults

interface GpuErrorLike {
  message?: string;
  constructor?: { name?: string };
}
interface DeviceLike {
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  pushErrorScope(filter: 'out-of-memory' | 'validation' | 'internal'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  onuncapturederror: ((ev: { error?: GpuErrorLike }) => void) | null;
  lost: Promise<{ reason?: string; message?: string }>;
}

interface DeviceState {
  /** A fault reported after its op returned, thrown by the next guarded op or gpuSync. */
  pending?: GpuError;
  lost?: { reason?: string; message?: string };
  /** The last guarded op, named by an uncaptured error (which may come from tfjs work it queued). */
  lastOp?: string;
  /** Error-scope pops not yet settled. */
  inFlight: Set<Promise<void>>;
  /** Finiteness checks queued on the device ({@link deferFiniteCheck}), settled at the next read-back or gpuSync. */
  checks: FiniteCheck[];
  /** The backend's own read, which settling the checks uses (the armed one would settle them again). */
  read?: (dataId: unknown) => Promise<unknown>;
}

interface FiniteCheck {
  op: string;
  arg: string;
  shape: readonly number[];
  /** A bool scalar on the device: true when the argument holds a NaN or ±Infinity. */
  bad: tf.Tensor;
}
const states = new WeakMap<object, DeviceState>();

interface WebGpuBackendLike {
  device?: DeviceLike;
  read?: (...args: unknown[]) => Promise<unknown>;
}
const armed = new WeakSet<object>();

/**
 * The live backend's GPUDevice when it is webgpu, else undefined. The first call on a backend also arms its
 * read-backs ({@link armReads}).
 */
export function gpuDevice(): DeviceLike | undefined {
  if (tf.getBackend() !== 'webgpu') return undefined;
  const backend = tf.backend() as unknown as WebGpuBackendLike;
  const d = backend.device;
  if (!d || typeof d.pushErrorScope !== 'function') return undefined;
  if (!armed.has(backend)) {
    armed.add(backend);
    armReads(backend, d);
  }
  return d;
}

/**
 * Make every asynchronous read-back of the webgpu backend (`tensor.data()`, `tensor.array()`, …) throw, as a
 * GpuError, a fault the device reported before the data arrived, instead of returning its numbers: a buffer that
 * failed to allocate (out of memory) is read as garbage without any other sign, also in work no guarded op
 * issued (a gradient tf.grads builds from tf ops, say).
 */
function armReads(backend: WebGpuBackendLike, device: DeviceLike): void {
  const read = backend.read;
  if (typeof read !== 'function') return;
  const st = stateOf(device);
  st.read = (dataId) => read.call(backend, dataId);
  backend.read = async function (this: unknown, ...args: unknown[]) {
    const values = await read.apply(this, args);
    await Promise.all([...st.inFlight]);
    throwIfFaulted(device, st, 'reading a tensor back from the GPU');
    await settleChecks(st);
    return values;
  };
}

/**
 * Queue a finiteness check of `tensors` (argument name → tensor) of GPU op `op` on the device, without a
 * read-back: a NaN or ±Infinity makes the next read-back or {@link gpuSync} throw a ValueError naming the argument
 * (the checked op's results are already computed by then; the error says they are not to be trusted). A no-op on
 * other backends, whose kernels check synchronously.
 */
export function deferFiniteCheck(op: string, tensors: Record<string, tf.Tensor | undefined>): void {
  const device = gpuDevice();
  if (!device) return;
  const st = stateOf(device);
  for (const [arg, t] of Object.entries(tensors)) {
    if (!t) continue;
    // rows first, then the row results: tfjs reduces each output in one workgroup
    const bad = tf.tidy(() => {
      const flat = t.reshape([-1, t.shape.length ? t.shape[t.shape.length - 1] : 1]);
      return tf.logicalNot(tf.isFinite(flat)).any(1).any();
    });
    st.checks.push({ op, arg, shape: t.shape, bad: tf.keep(bad) });
  }
}

async function settleChecks(st: DeviceState): Promise<void> {
  while (st.checks.length > 0) {
    const checks = st.checks.splice(0);
    let failed: FiniteCheck | undefined;
    for (const c of checks) {
      const v = (await st.read!(c.bad.dataId)) as ArrayLike<number>;
      c.bad.dispose();
      if (!failed && v[0]) failed = c;
    }
    if (failed) {
      checks.forEach((c) => c.bad.isDisposed || c.bad.dispose());
      throw valueError(
        failed.arg,
        'finite values',
        `a NaN or ±Infinity in the tensor of shape [${failed.shape.join(',')}]`,
        `${failed.op} with checkFinite, checked on the GPU at this read-back: its results are not to be trusted`,
      );
    }
  }
}

const kindOf = (e: GpuErrorLike, scope?: string): 'out-of-memory' | 'validation' | 'internal' => {
  const n = e.constructor?.name ?? '';
  if (/OutOfMemory/i.test(n)) return 'out-of-memory';
  if (/Validation/i.test(n)) return 'validation';
  if (/Internal/i.test(n)) return 'internal';
  return (scope as 'out-of-memory' | 'validation' | 'internal') ?? 'internal';
};

function faultError(
  kind: 'out-of-memory' | 'validation' | 'internal',
  op: string,
  bytes: number | undefined,
  msg: string,
) {
  const first = msg.split('\n')[0].slice(0, 300);
  const asked = bytes !== undefined ? `, ${fmtBytes(bytes)} estimated` : '';
  return gpuError(kind, op, bytes, 'a GPU operation the device completes', `a WebGPU ${kind} error${asked}`, first);
}

/** Watch `device` (once): remember uncaptured errors and loss, so that later ops throw. */
function stateOf(device: DeviceLike): DeviceState {
  const known = states.get(device);
  if (known) return known;
  const st: DeviceState = { inFlight: new Set(), checks: [] };
  states.set(device, st);
  device.onuncapturederror = (ev) => {
    const e: GpuErrorLike = ev?.error ?? {};
    const op = st.lastOp ? `${st.lastOp} or a later GPU operation` : 'a GPU operation';
    st.pending ??= faultError(kindOf(e), op, undefined, `uncaptured: ${String(e.message ?? ev)}`);
  };
  device.lost.then(
    (info) => {
      st.lost = info ?? {};
    },
    () => undefined,
  );
  return st;
}

function throwIfFaulted(device: DeviceLike, st: DeviceState, op: string, bytes?: number): void {
  if (st.lost) {
    const why = [st.lost.reason, st.lost.message].filter(Boolean).join(': ') || 'unknown reason';
    throw gpuError('device-lost', op, bytes, 'a live GPU device', 'a lost device', why);
  }
  if (st.pending) {
    const e = st.pending;
    st.pending = undefined;
    throw e;
  }
  void device;
}

/**
 * Refuse, before launch, a webgpu request for `bytes` in all (inputs excluded) whose largest single buffer is
 * `largestBuffer` bytes: a buffer above the adapter's maxBufferSize or maxStorageBufferBindingSize (tfjs binds
 * whole tensors as storage buffers) is `too-large`; a total above the flag GPU_MEMORY_BUDGET is `over-budget`.
 * Also throws a fault an earlier op left behind. A no-op on other backends. Kernels call it with their own
 * estimate before dispatching.
 */
export function checkGpuRequest(op: string, bytes: number, largestBuffer = bytes): void {
  const device = gpuDevice();
  if (!device) return;
  throwIfFaulted(device, stateOf(device), op, bytes);
  const limit = Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
  if (largestBuffer > limit) {
    throw gpuError(
      'too-large',
      op,
      bytes,
      `buffers of at most ${fmtBytes(limit)} (the adapter's maxBufferSize / maxStorageBufferBindingSize)`,
      `a buffer of ${fmtBytes(largestBuffer)}`,
      'use a smaller batch or sequence length',
    );
  }
  const budget = getFlag('GPU_MEMORY_BUDGET');
  if (bytes > budget) {
    throw gpuError(
      'over-budget',
      op,
      bytes,
      `at most ${fmtBytes(budget)} of GPU memory (flag GPU_MEMORY_BUDGET / SSM_GPU_MEMORY_BUDGET)`,
      `a request of ${fmtBytes(bytes)}`,
      'use a smaller batch or sequence length, or raise the budget',
    );
  }
}

/**
 * Run the GPU op `op` (estimated to need `bytes`) inside WebGPU error scopes: refused before launch by
 * {@link checkGpuRequest}; an out-of-memory, validation or internal error the device reports for the commands
 * it issued is thrown as a GpuError by the next guarded op or {@link gpuSync} (the scopes settle
 * asynchronously, the op returns synchronously). Runs `fn` unguarded on other backends.
 */
export function guardGpu<T>(op: string, bytes: number, fn: () => T, largestBuffer = bytes): T {
  const device = gpuDevice();
  if (!device) return fn();
  checkGpuRequest(op, bytes, largestBuffer);
  const st = stateOf(device);
  st.lastOp = op;
  const scopes = ['internal', 'validation', 'out-of-memory'] as const;
  for (const s of scopes) device.pushErrorScope(s);
  try {
    return fn();
  } finally {
    for (const s of [...scopes].reverse()) {
      const p = device.popErrorScope().then(
        (e) => {
          if (e) st.pending ??= faultError(kindOf(e, s), op, bytes, String(e.message ?? e));
        },
        () => undefined,
      );
      const settled = p.finally(() => st.inFlight.delete(settled));
      st.inFlight.add(settled);
    }
  }
}

/**
 * A sync point: wait for the error scopes of earlier guarded ops to settle and throw the first fault any of
 * them (or an uncaptured error, or device loss) reported, naming its op; `op` names this sync point when the
 * fault is a lost device. Resolves at once on other backends.
 */
export async function gpuSync(op = 'gpuSync'): Promise<void> {
  const device = gpuDevice();
  if (!device) return;
  const st = stateOf(device);
  await Promise.all([...st.inFlight]);
  throwIfFaulted(device, st, op);
  await settleChecks(st);
}
