/**
 * Execution policy: every environment-dependent choice of ssm-core as a named flag with a documented default,
 * in the manner of tfjs-core's `flags.ts` / `environment.ts`. A flag's value is, in order of precedence:
 *
 *   1. the value given to {@link setFlag} (until {@link resetFlag} / {@link resetFlags}),
 *   2. its environment variable in Node (e.g. `SSM_SCAN_IMPL=tensor`), parsed and checked like 1.,
 *   3. its default, which may be evaluated from the live backend (e.g. HOST_KERNELS is true on wasm and cpu).
 *
 * Values are checked when set or read from the environment: a bad one is a ConfigError naming the flag.
 * Only speed depends on the thresholds; SCAN_IMPL and HOST_KERNELS pick kernels that are tested to agree with
 * the float64 references. `BACKEND` and `BACKEND_PREFERENCE` are read once, by `ready()` in backend.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { configError, fmtBytes, MemoryError } from './errors.js';
import { bool, int, numberIn, oneOf, ownKey, positiveInt, show } from './validate.js';

/** Selective-scan implementation: 'fused' typed-array kernel, 'tensor' log-depth tf-op scan, 'auto' per backend. */
export type ScanImpl = 'fused' | 'tensor';

/** The values an `impl` argument (and the SCAN_IMPL flag) takes: 'auto' asks the kernel registry. */
export const SCAN_IMPLS = ['auto', 'fused', 'tensor'] as const;

export interface Flags {
  /** tfjs backend forced by the user (env `SSM_BACKEND`); '' lets `ready()` pick from BACKEND_PREFERENCE. */
  BACKEND: string;
  /**
   * Order in which `ready()` tries backends when none is forced: 'tensorflow' (tfjs-node-gpu with CUDA; a
   * tfjs-node that computes on the CPU is taken at the next candidate that is not 'webgpu'), 'webgpu' (a hardware
   * adapter only: Dawn via npm `webgpu` in Node, `navigator.gpu` in browsers), 'wasm', 'webgl' (browsers only),
   * 'cpu' (always available, tried last whatever the order).
   */
  BACKEND_PREFERENCE: readonly string[];
  /**
   * Bytes a single GPU operation may ask for (env `SSM_GPU_MEMORY_BUDGET`, a number with an optional suffix
   * KiB/MiB/GiB/KB/MB/GB): larger requests are refused with a GpuError before launch. Default: no budget beyond
   * the adapter's own limits (maxBufferSize, maxStorageBufferBindingSize per buffer).
   */
  GPU_MEMORY_BUDGET: number;
  /**
   * Largest file ssm-core reads whole (model files, trainer checkpoints; env `SSM_MAX_FILE_BYTES`, a number with
   * an optional suffix KiB/MiB/GiB/KB/MB/GB): a larger one is refused from its size before it is read. Default 2 GiB.
   */
  MAX_FILE_BYTES: number;
  /**
   * Bytes a model, a dataset or a training run may be estimated to need before ssm-core allocates it (env
   * `SSM_MEMORY_BUDGET`, a number with an optional suffix KiB/MiB/GiB/KB/MB/GB; Infinity: no budget): a larger
   * estimate is a MemoryError naming the option that sizes it. Default: the memory available to this process
   * when the check runs (Node's `process.availableMemory()`), Infinity where that is unknown (browsers). The
   * estimates are lower bounds; on the wasm backend tensors are also held to its 2 GiB heap.
   */
  MEMORY_BUDGET: number;
  /**
   * Most scalar parameters a model file's config may imply (env `SSM_MAX_PARAMS`): a file above it is refused
   * from its header alone, before any model is built. Default 2^28 (1 GiB of float32 weights).
   */
  MAX_PARAMS: number;
  /** Scan implementation that `impl: 'auto'` resolves to (env `SSM_SCAN_IMPL`): 'auto' asks the kernel registry. */
  SCAN_IMPL: 'auto' | ScanImpl;
  /**
   * The WGSL scan's backward recomputes the states of one chunk of K steps per invocation in a private array of
   * (K + 1)·n floats, with K·n ≤ this (env `SSM_WEBGPU_SCAN_CHUNK_FLOATS`, default 256). A tuning knob: larger
   * chunks store fewer chunk-boundary states, smaller ones need less private memory per invocation.
   */
  WEBGPU_SCAN_CHUNK_FLOATS: number;
  /**
   * The WGSL scan's backward program (env `SSM_WEBGPU_SCAN_BACKWARD`): 'states' runs one invocation per (b, d, n)
   * (b·d·n-way parallel; ∂B, ∂C summed over ⌈d / R⌉ workgroup partials), 'rows' one per (b, d) with the n states in
   * private arrays (b·d-way); 'auto' (default) takes 'states' below 8192 rows b·d, where 'rows' leaves most of a
   * GPU idle, if its workgroup memory fits the device, else 'rows'. Measured on an H200 (npm run bench:gpu,
   * forward + backward): b·d = 1024: 20.8 ms 'states', 36.3 ms 'rows'; b·d = 16384: 229 ms and 211 ms. 'time' runs
   * a workgroup of invocations along time per R rows, with scans over them per state (mamba_ssm's layout of work);
   * 'auto' never picks it.
   */
  WEBGPU_SCAN_BACKWARD: 'auto' | 'rows' | 'states' | 'time';
  /**
   * The WGSL scan's forward program (env `SSM_WEBGPU_SCAN_FORWARD`): 'states' runs one invocation per (b, d, n), R
   * rows × n states per workgroup (n ≤ 64); 'rows' one per (b, d) with the n states in a private array; 'time' a
   * workgroup per row with its invocations along time and a scan over them per state (mamba_ssm's layout of work:
   * neighbouring invocations read neighbouring time steps). 'auto' (default) takes 'states' where n ≤ 64, else
   * 'rows'.
   */
  WEBGPU_SCAN_FORWARD: 'auto' | 'rows' | 'states' | 'time';
  /**
   * May host kernels (typed-array loops in this process's memory) run? Default: true when the live backend
   * computes in host memory (wasm, cpu, tensorflow without CUDA), false on GPU backends, where a download per
   * call would be the wrong choice (env `SSM_HOST_KERNELS=0|1`). Inference-only host kernels (the sparse
   * linear, the causal conv, the S6 / Mamba-2 inner forwards) also need that no gradient tape records.
   */
  HOST_KERNELS: boolean;
  /**
   * May the differentiable host kernels of the inner ops (s6Inner, s4dInner, mambaInner, causalConv1d: one tfjs op
   * over typed arrays with an analytic backward each) run while a gradient tape records (env
   * `SSM_HOST_GRAD_KERNELS=0|1`)? Default: true on 'cpu' and 'wasm', where they make a training step cheaper than the
   * composition of the backend's ops (on wasm the WebAssembly SIMD scan on the model's layout, the products by the
   * backend's matMul: Tab. 1 Mamba+PE at b = 16 and 32 trains at 1.05–1.3× the composition's steps/s in CPU time, S4D
   * not slower); false on tensorflow, where the composition of native kernels runs.
   * Without a tape they run whenever HOST_KERNELS allows; `impl: 'fused'` asks for them by name.
   */
  HOST_GRAD_KERNELS: boolean;
  /**
   * May the host selective scan run its WebAssembly SIMD kernel (env `SSM_WASM_SCAN=0|1`, default true)? It runs
   * where the runtime validates WebAssembly SIMD and the problem fits the module's 32-bit memory; elsewhere, and
   * with this flag false, the JS kernel (kernels/cpu/scanForward.ts, scanBackward.ts) runs. Both are tested
   * against the float64 reference.
   */
  WASM_SCAN: boolean;
  /**
   * Threads the WebAssembly SIMD scan runs on (env `SSM_SCAN_THREADS`: 'auto' or an integer 1…64): the calling
   * thread and worker threads over one shared memory, splitting the rows (b, d) of the forward and the channels d of
   * the backward; results are bit-identical to one thread. Workers exist only in Node, through the main entry
   * (`ssm-core`; not `ssm-core/browser`), and start at the first threaded call. 'auto' (default) takes one thread
   * below SCAN_THREADS_MIN_WORK state updates b·d·n·L, else as many as the machine's available parallelism (at
   * most 4); on a worker thread (a lane of a pool that already fills the cores) 'auto' takes one.
   */
  SCAN_THREADS: 'auto' | number;
  /** The host linear scatters W's nonzeros column by column when at most this share of W is nonzero. */
  SPARSE_SCATTER_DENSITY: number;
  /** Else it drops W's unused input columns when at most this share of them is used. */
  SPARSE_COLUMN_SHARE: number;
  /** The host causal conv computes only the outputs a nonzero input reaches when this share of x is exactly 0. */
  CONV_ZERO_FRACTION: number;
  /** … judged on at most this many evenly spaced entries of x. */
  CONV_ZERO_SAMPLE: number;
}

export type FlagName = keyof Flags;

/**
 * Fewest state updates b·d·n·L (n rounded up to 4) for which SCAN_THREADS 'auto' runs the WebAssembly SIMD scan
 * on more than one thread: below it, waking a worker and the serial set-up cost more than the split saves. Measured
 * on a 2-core VM (kernel calls, one thread ÷ two, minimum of 20 interleaved; forward, backward) with the second
 * core free: 2^16 0.94×, 0.80×; 2^17 1.24×, 0.98×; 2^18 1.43×, 1.05×; 2^19 1.53×, 1.16×. With the second core
 * busy with other work, two threads cost 5–9 % at 2^18 and 11–26 % at 2^14–2^16.
 */
export const SCAN_THREADS_MIN_WORK = 2 ** 18;

interface FlagDef<K extends FlagName> {
  doc: string;
  env?: string;
  /** Default, evaluated on every read while the flag is not set (it may depend on the live backend). */
  value: () => Flags[K];
  /** Parse an environment string. */
  parse?: (s: string) => unknown;
  /** Check a candidate value; return it typed or throw a ConfigError. */
  check: (v: unknown, name: string) => Flags[K];
}

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);

/** The backends that compute in this process's memory: host kernels register for each. */
export const HOST_BACKENDS = ['cpu', 'wasm', 'tensorflow'] as const;

/** True when tfjs backend `name` keeps tensors on a GPU (WebGL, WebGPU, tfjs-node-gpu with CUDA). */
export function backendUsesGpu(name: string = tf.getBackend()): boolean {
  if (GPU_BACKENDS.has(name)) return true;
  if (name === 'tensorflow')
    return Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
  return false;
}

const fractionCheck = (v: unknown, name: string): number => numberIn(v, name, 0, 1);
const parseNumber = (s: string) => (s.trim() === '' ? NaN : Number(s));
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};
/** `'512MiB'` → 536870912, `'2e9'` → 2e9, `'Infinity'` → Infinity; anything else → the string (refused by the check). */
const parseBytes = (s: string): unknown => {
  const m = /^\s*([0-9.eE+]+|Infinity)\s*([a-zA-Z]*)\s*$/.exec(s);
  if (!m || !Object.hasOwn(BYTE_UNITS, m[2].toLowerCase()) || Number.isNaN(Number(m[1]))) return s;
  return Number(m[1]) * BYTE_UNITS[m[2].toLowerCase()];
};
/**
 * Memory available to this process (Node ≥ 20.13: free memory within its cgroup limit), else Infinity. Read at
 * most once a second (a read costs ~70 µs, and every forward pass checks the budget).
 */
function availableMemory(): number {
  const now = Date.now();
  if (now - available.at < 1000) return available.bytes;
  const p = typeof process !== 'undefined' ? (process as { availableMemory?: () => number }) : undefined;
  const bytes = typeof p?.availableMemory === 'function' ? p.availableMemory() : NaN;
  available.at = now;
  available.bytes = bytes > 0 ? bytes : Infinity;
  return available.bytes;
}
const available = { at: -Infinity, bytes: Infinity };
const BACKEND_NAMES = ['tensorflow', 'wasm', 'webgl', 'webgpu', 'cpu'] as const;

const DEFS: { [K in FlagName]: FlagDef<K> } = {
  BACKEND: {
    doc: 'tfjs backend forced by the user; empty: pick one',
    env: 'SSM_BACKEND',
    value: () => '',
    check: (v, name) => {
      if (typeof v !== 'string') throw configError(name, "a backend name or ''", show(v));
      return v.trim();
    },
  },
  BACKEND_PREFERENCE: {
    doc: 'order in which ready() tries backends',
    value: () => ['tensorflow', 'webgpu', 'wasm', 'webgl', 'cpu'],
    check: (v, name) => {
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => (BACKEND_NAMES as readonly string[]).includes(x))) {
        throw configError(name, `a non-empty array of ${BACKEND_NAMES.join(' | ')}`, show(v));
      }
      return Object.freeze([...v]) as readonly string[];
    },
  },
  GPU_MEMORY_BUDGET: {
    doc: 'bytes one GPU operation may ask for',
    env: 'SSM_GPU_MEMORY_BUDGET',
    value: () => Infinity,
    parse: parseBytes,
    check: (v, name) => {
      if (typeof v !== 'number' || !(v > 0))
        throw configError(name, 'a positive number of bytes (Infinity: none)', show(v));
      return v;
    },
  },
  MAX_FILE_BYTES: {
    doc: 'largest file read whole',
    env: 'SSM_MAX_FILE_BYTES',
    value: () => 2 ** 31,
    parse: parseBytes,
    check: (v, name) => {
      if (typeof v !== 'number' || !(v > 0))
        throw configError(name, 'a positive number of bytes (Infinity: no cap)', show(v));
      return v;
    },
  },
  MEMORY_BUDGET: {
    doc: 'bytes an allocation may be estimated to need',
    env: 'SSM_MEMORY_BUDGET',
    value: availableMemory,
    parse: parseBytes,
    check: (v, name) => {
      if (typeof v !== 'number' || !(v > 0))
        throw configError(name, 'a positive number of bytes (Infinity: no budget)', show(v));
      return v;
    },
  },
  MAX_PARAMS: {
    doc: 'most parameters a model file may imply',
    env: 'SSM_MAX_PARAMS',
    value: () => 2 ** 28,
    parse: parseNumber,
    check: (v, name) => {
      if (typeof v !== 'number' || !(v >= 1) || !(Number.isInteger(v) || v === Infinity))
        throw configError(name, 'a positive integer (Infinity: no cap)', show(v));
      return v;
    },
  },
  WEBGPU_SCAN_CHUNK_FLOATS: {
    doc: "floats of the WGSL scan backward's recomputed chunk",
    env: 'SSM_WEBGPU_SCAN_CHUNK_FLOATS',
    value: () => 256,
    parse: parseNumber,
    check: (v, name) => {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 4096)
        throw configError(name, 'an integer from 1 to 4096', show(v));
      return v;
    },
  },
  WEBGPU_SCAN_BACKWARD: {
    doc: "the WGSL scan's backward program",
    env: 'SSM_WEBGPU_SCAN_BACKWARD',
    value: () => 'auto',
    check: (v, name) => oneOf(v, name, ['auto', 'rows', 'states', 'time'] as const),
  },
  WEBGPU_SCAN_FORWARD: {
    doc: "the WGSL scan's forward program",
    env: 'SSM_WEBGPU_SCAN_FORWARD',
    value: () => 'auto',
    check: (v, name) => oneOf(v, name, ['auto', 'rows', 'states', 'time'] as const),
  },
  SCAN_IMPL: {
    doc: "what the scan's impl 'auto' resolves to",
    env: 'SSM_SCAN_IMPL',
    value: () => 'auto',
    check: (v, name) => oneOf(v, name, SCAN_IMPLS),
  },
  HOST_KERNELS: {
    doc: 'may host (typed-array) kernels run',
    env: 'SSM_HOST_KERNELS',
    value: () => !backendUsesGpu(),
    parse: (s) => ({ '1': true, true: true, '0': false, false: false })[s.trim().toLowerCase()] ?? s,
    check: bool,
  },
  HOST_GRAD_KERNELS: {
    doc: 'may the differentiable host kernels of the inner ops run under a gradient tape',
    env: 'SSM_HOST_GRAD_KERNELS',
    value: () => tf.getBackend() === 'cpu' || tf.getBackend() === 'wasm',
    parse: (s) => ({ '1': true, true: true, '0': false, false: false })[s.trim().toLowerCase()] ?? s,
    check: bool,
  },
  WASM_SCAN: {
    doc: 'may the host scan run its WebAssembly SIMD kernel',
    env: 'SSM_WASM_SCAN',
    value: () => true,
    parse: (s) => ({ '1': true, true: true, '0': false, false: false })[s.trim().toLowerCase()] ?? s,
    check: bool,
  },
  SCAN_THREADS: {
    doc: 'threads of the WebAssembly SIMD scan',
    env: 'SSM_SCAN_THREADS',
    value: () => 'auto',
    parse: (s) => (s.trim().toLowerCase() === 'auto' ? 'auto' : parseNumber(s)),
    check: (v, name) => (v === 'auto' ? 'auto' : int(v, name, 1, 64, "'auto' or an integer in [1, 64]")),
  },
  SPARSE_SCATTER_DENSITY: {
    doc: 'max nonzero share of W for the scatter linear',
    value: () => 1 / 16,
    parse: parseNumber,
    check: fractionCheck,
  },
  SPARSE_COLUMN_SHARE: {
    doc: 'max used-column share of W for the column linear',
    value: () => 1 / 2,
    parse: parseNumber,
    check: fractionCheck,
  },
  CONV_ZERO_FRACTION: {
    doc: 'min zero share of x for the sparse causal conv',
    value: () => 3 / 4,
    parse: parseNumber,
    check: fractionCheck,
  },
  CONV_ZERO_SAMPLE: {
    doc: 'entries of x sampled to judge its zero share',
    value: () => 4096,
    parse: parseNumber,
    check: positiveInt,
  },
};

const overrides = new Map<FlagName, unknown>();

const isNode = () => typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

function fromEnv<K extends FlagName>(name: K): Flags[K] | undefined {
  const def = DEFS[name] as FlagDef<K>;
  const raw = fromEnvRaw(name);
  if (raw === undefined) return undefined;
  return def.check(def.parse ? def.parse(raw) : raw.trim(), def.env!);
}

function fromEnvRaw(name: FlagName): string | undefined {
  const env = DEFS[name].env;
  if (!env || !isNode()) return undefined;
  const raw = process.env[env];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

/** The current value of flag `name` (set value, else environment variable, else default). */
export function getFlag<K extends FlagName>(name: K): Flags[K] {
  ownKey(name, 'flag', DEFS);
  if (overrides.has(name)) return overrides.get(name) as Flags[K];
  return fromEnv(name) ?? (DEFS[name] as FlagDef<K>).value();
}

/** Set flag `name` for this process (overrides its environment variable); a bad value is a ConfigError. */
export function setFlag<K extends FlagName>(name: K, value: Flags[K]): void {
  ownKey(name, 'flag', DEFS);
  overrides.set(name, (DEFS[name] as FlagDef<K>).check(value, `flag ${name}`));
}

/** Forget a value set with {@link setFlag}: the flag reads its environment variable or default again. */
export function resetFlag(name: FlagName): void {
  overrides.delete(name);
}

/** Forget every value set with {@link setFlag}. */
export function resetFlags(): void {
  overrides.clear();
}

/** Every flag with its current value, environment variable and one-line description (for reports and tests). */
export function listFlags(): { name: FlagName; value: unknown; env?: string; doc: string; set: boolean }[] {
  return (Object.keys(DEFS) as FlagName[]).map((name) => ({
    name,
    value: getFlag(name),
    env: DEFS[name].env,
    doc: DEFS[name].doc,
    set: overrides.has(name),
  }));
}

/** The size cap of a whole-file read (flag MAX_FILE_BYTES) as options for io/file.ts's `readFileChecked`. */
export function fileReadCap(): { maxBytes: number; limitName: string } {
  return { maxBytes: getFlag('MAX_FILE_BYTES'), limitName: 'flag MAX_FILE_BYTES, env SSM_MAX_FILE_BYTES' };
}

/** The wasm backend's tensors share one heap of at most 2 GiB (wasm32); a larger request fails inside it. */
export const WASM_HEAP_BYTES = 2 ** 31;

/**
 * The limit an allocation estimate is held to: the MEMORY_BUDGET flag, and for tensors (`tensors: true`) on the
 * wasm backend also {@link WASM_HEAP_BYTES}. `limitName` says which, for messages.
 */
export function memoryBudget(tensors = false): { bytes: number; limitName: string } {
  const flag = getFlag('MEMORY_BUDGET');
  const name = overrides.has('MEMORY_BUDGET')
    ? 'flag MEMORY_BUDGET'
    : fromEnvRaw('MEMORY_BUDGET') !== undefined
      ? 'env SSM_MEMORY_BUDGET'
      : 'flag MEMORY_BUDGET: the available memory; env SSM_MEMORY_BUDGET';
  if (tensors && tf.getBackend() === 'wasm' && WASM_HEAP_BYTES < flag)
    return { bytes: WASM_HEAP_BYTES, limitName: "the wasm backend's tensor heap" };
  return { bytes: flag, limitName: name };
}

/**
 * Refuse an allocation estimated at `bytes` that exceeds {@link memoryBudget}: a MemoryError naming `argument`
 * (the option that sizes it) with `actual` (its value), saying what needs the memory and how much.
 * @param o.what - what the bytes are for, e.g. "the training data (inputs and targets)".
 * @param o.tensors - the bytes are tensors (on wasm, also held to its heap).
 */
export function checkMemory(
  bytes: number,
  argument: string,
  actual: string,
  o: { what: string; tensors?: boolean; hint?: string },
): void {
  const { bytes: budget, limitName } = memoryBudget(o.tensors);
  if (!(bytes > budget)) return;
  const expected = `a size whose memory fits in ${fmtBytes(budget)} (${limitName})`;
  const hint = `${o.what} needs at least ${fmtBytes(bytes)}${o.hint ? `; ${o.hint}` : ''}`;
  throw new MemoryError(
    `${argument}: expected ${expected}, got ${actual} (${hint})`,
    argument,
    expected,
    actual,
    bytes,
    budget,
  );
}

/** True while a gradient tape records (inside tf.grad / valueAndGrads): inference-only kernels must not run. */
export function isRecording(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/**
 * The one predicate for host kernels: may a host kernel run now? `inferenceOnly` kernels (not differentiable)
 * also need that no gradient tape records; `gradFlagged` ones (differentiable) run under a tape only when
 * HOST_GRAD_KERNELS allows.
 */
export function hostKernelsApply(inferenceOnly: boolean, gradFlagged = false): boolean {
  return (
    getFlag('HOST_KERNELS') && !(isRecording() && (inferenceOnly || (gradFlagged && !getFlag('HOST_GRAD_KERNELS'))))
  );
}
