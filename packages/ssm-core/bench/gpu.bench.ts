/**
 * `npm run bench:gpu`: the selective scan on WebGPU — the fused WGSL kernel (ops/kernels/webgpu) against the generic
 * tf-op Hillis–Steele kernel (impl 'tensor') on the same adapter, and the host fused kernel on wasm, in one run, at
 * shapes [batch, dInner, dState, L], forward and forward + backward (gradients of every argument).
 *
 * Columns of the fused kernel: the programs 'auto' picks; the other backward program (flag WEBGPU_SCAN_BACKWARD);
 * the time-parallel forward (flag WEBGPU_SCAN_FORWARD = 'time', with the backward 'auto' picks); in the fwd+bwd rows,
 * the time-parallel forward with the time-parallel backward (WEBGPU_SCAN_BACKWARD = 'time' too).
 *
 * Clock: from the call to the moment `await data()` returns the last element of every result (the device's queue
 * runs in order, so all its work is finished), a few bytes crossing back. Median of BENCH_REPS (default 5) after one
 * warm-up; a warm-up that takes over BENCH_SLOW_MS (default 2000 ms, the wasm kernel at the largest shape) is the
 * one measurement of its cell (marked "1 run"). Peak GPU memory: the most bytes tfjs-backend-webgpu's buffer manager had in use during the cell.
 * error/tol: the worst |a − g| / (1e-4 + 1e-3·|g|) of a webgpu kernel's results (out, or every gradient) against the
 * wasm host kernel's, from one untimed call (≤ 1: within the tolerance the kernels are tested to).
 * Traffic limit: (bytes of inputs + outputs) / BENCH_BANDWIDTH_GBS (default 4000 GB/s, an H200's HBM); the ratio
 * is time / limit (1 = at the memory-traffic limit).
 *
 * Yardsticks, before the table (BENCH_SKIP_YARDSTICKS=1 skips them): the copy bandwidth and tf.add bandwidth this
 * device reaches through Dawn, and the round trip of a tiny program with a read-back (see yardsticks()).
 *
 * GPU time per program: each webgpu fused cell runs once more under tf.time (timestamp queries, one pass per
 * program), printed after the table by program name (BENCH_PROFILE=0 skips it).
 *
 * Env: SSM_BENCH_GPU_SHAPES="16,64,16,128;16,64,16,1024" picks shapes (default: the three of issue 14, or only the
 * smallest on a CPU Vulkan driver), BENCH_SKIP_TENSOR=1 skips the tensor kernel (it needs O(b·d·n·L·log L) memory).
 */
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const gpu = create([]);
Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
process.env.SSM_BACKEND ??= 'wasm';
await import('@tensorflow/tfjs-backend-webgpu');
const { getFlag, ready, resetFlag, selectiveScan, setFlag, Rng, tf } = await import('../src/index.js');
type Tensor = import('@tensorflow/tfjs-core').Tensor;

type Shape = [number, number, number, number];
const ISSUE_SHAPES: Shape[] = [
  [16, 64, 16, 128],
  [16, 64, 16, 1024],
  [256, 64, 16, 1024],
];
const reps = Number(process.env.BENCH_REPS ?? 5);
const bandwidth = Number(process.env.BENCH_BANDWIDTH_GBS ?? 4000) * 1e9;
const MiB = 2 ** 20;

await ready();
const adapter = await gpu.requestAdapter();
if (!adapter) throw new Error('bench:gpu: no WebGPU adapter (Dawn found no Vulkan/Metal/D3D12 device)');
const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
const fallback = Boolean(info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter);
const cpuDriver =
  fallback || /llvmpipe|lavapipe|swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
console.log(
  `adapter: ${info.vendor} / ${info.architecture} / ${info.description}${cpuDriver ? '  — a CPU Vulkan driver (no GPU): timings say nothing about a GPU' : ''}`,
);
const shapes: Shape[] = process.env.SSM_BENCH_GPU_SHAPES
  ? process.env.SSM_BENCH_GPU_SHAPES.split(';').map((s) => s.split(',').map(Number) as Shape)
  : cpuDriver
    ? [ISSUE_SHAPES[0]]
    : ISSUE_SHAPES;
if (cpuDriver && !process.env.SSM_BENCH_GPU_SHAPES)
  console.log('CPU driver: only the smallest shape (set SSM_BENCH_GPU_SHAPES for others)');

/** Random inputs in the bench's standard layout: Δ per channel with bias and softplus, B, C input-dependent, D, z. */
function inputs([b, d, n, L]: Shape) {
  const r = new Rng(1);
  const t = (shape: number[], f: (x: InstanceType<typeof Rng>) => number) =>
    tf.tensor(
      r.fill(
        shape.reduce((x, y) => x * y, 1),
        f,
      ),
      shape,
    );
  return {
    u: t([b, d, L], (x) => x.normal()),
    delta: t([b, d, L], (x) => x.range(-4, -1)),
    A: t([d, n], (x) => -x.range(0.5, 16)),
    B: t([b, n, L], (x) => x.normal()),
    C: t([b, n, L], (x) => x.normal()),
    D: t([d], (x) => x.normal()),
    z: t([b, d, L], (x) => x.normal()),
    deltaBias: t([d], (x) => x.range(-0.5, 0.5)),
  };
}
const KEYS = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;

interface BufferManagerLike {
  numBytesUsed: number;
  numBytesAllocated: number;
  acquireBuffer: (...a: unknown[]) => unknown;
}
/** Track the most bytes the webgpu buffer manager had in use while `f` runs. */
async function withPeak<T>(f: () => Promise<T>): Promise<{ value: T; peak: number }> {
  const bm = (tf.backend() as unknown as { bufferManager?: BufferManagerLike }).bufferManager;
  if (!bm) return { value: await f(), peak: NaN };
  const acquire = bm.acquireBuffer;
  const base = bm.numBytesUsed;
  let peak = base;
  bm.acquireBuffer = (...a: unknown[]) => {
    const buf = acquire.apply(bm, a);
    peak = Math.max(peak, bm.numBytesUsed);
    return buf;
  };
  try {
    return { value: await f(), peak };
  } finally {
    bm.acquireBuffer = acquire;
  }
}

const slowMs = Number(process.env.BENCH_SLOW_MS ?? 2000);

/** Median time of `step` after a warm-up, and the number of timed runs (1 when the warm-up alone was slow). */
async function median(step: () => Promise<void>): Promise<{ ms: number; runs: number }> {
  const w0 = performance.now();
  await step();
  const warm = performance.now() - w0;
  if (warm > slowMs) return { ms: warm, runs: 1 };
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await step();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { ms: ts[Math.floor(ts.length / 2)], runs: reps };
}

/**
 * Wait until every tensor of `ts` is computed, reading back one element of each: the device runs its queue in
 * order, so the last element's arrival means all work before it finished. (A full tf.sum would cost more than
 * the scan: tfjs-backend-webgpu reduces a whole tensor to a scalar in one workgroup.)
 */
const settle = async (ts: Tensor[]) => {
  // pairwise adds, not tf.concat / tf.addN: with ≥ 8 inputs those exceed Dawn's 8 storage buffers per shader stage
  const s = tf.tidy(() => ts.map((t) => t.reshape([-1]).slice([t.size - 1], [1])).reduce((a, b) => a.add(b)));
  await s.data();
  s.dispose();
};

const profile = process.env.BENCH_PROFILE !== '0';

/** GPU time of each program one call of `results` runs, summed by program name (tf.time on timestamp queries). */
async function gpuTimes(results: () => Tensor[]): Promise<Map<string, { ms: number; calls: number }> | undefined> {
  let ts: Tensor[] = [];
  const info = (await tf.time(() => {
    ts = results();
  })) as { kernelMs: number | null | { error: string }; getExtraProfileInfo?: () => string };
  await settle(ts);
  tf.dispose(ts);
  if (typeof info.kernelMs !== 'number' || !info.getExtraProfileInfo) return undefined;
  const by = new Map<string, { ms: number; calls: number }>();
  for (const part of info.getExtraProfileInfo().split(', ')) {
    const at = part.lastIndexOf(': ');
    if (at < 0) continue;
    const name = part.slice(0, at);
    const e = by.get(name) ?? { ms: 0, calls: 0 };
    e.ms += Number(part.slice(at + 2));
    e.calls += 1;
    by.set(name, e);
  }
  return by;
}

type Impl = 'fused' | 'tensor';
interface Cell {
  /** GPU milliseconds per program name (tf.time), for webgpu fused cells. */
  programs?: Map<string, { ms: number; calls: number }>;
  ms?: number;
  runs?: number;
  peak?: number;
  error?: string;
  /** The results of one more (untimed) call, downloaded: out, or every gradient. */
  values?: Float32Array[];
}
async function cell(backend: string, impl: Impl, shape: Shape, backward: boolean): Promise<Cell> {
  await tf.setBackend(backend);
  const x = inputs(shape);
  const W = tf.randomNormal([shape[0], shape[1], shape[3]], 0, 1, 'float32', 7);
  const args = { ...x, deltaSoftplus: true, impl };
  const results = (): Tensor[] =>
    backward
      ? tf.grads((...xs: Tensor[]) => {
          const a: Record<string, unknown> = { ...args };
          KEYS.forEach((k, i) => (a[k] = xs[i]));
          // Σ W·out, over L first: tfjs-backend-webgpu reduces each output in one workgroup, so a direct sum of
          // b·d·L values would cost more than the scan (tens of ms at [256,64,16,1024] on an H200)
          return selectiveScan(a as unknown as Parameters<typeof selectiveScan>[0])
            .out.mul(W)
            .sum(2)
            .sum();
        })(KEYS.map((k) => x[k]))
      : [selectiveScan(args).out];
  // the results of the last timed call are downloaded afterwards (untimed) for the agreement column
  let last: Tensor[] = [];
  const step = async () => {
    tf.dispose(last);
    last = results();
    await settle(last);
  };
  try {
    const { value, peak } = await withPeak(() => median(step));
    const values = await Promise.all(last.map(async (t) => (await t.data()) as Float32Array));
    const programs = backend === 'webgpu' && impl === 'fused' && profile ? await gpuTimes(results) : undefined;
    return { ...value, peak, values, programs };
  } catch (e) {
    const kind = (e as { kind?: string })?.kind; // a GpuError's out-of-memory, validation, …
    return {
      error: `${kind ? `${kind}: ` : ''}${String((e as Error)?.message ?? e).split('\n')[0]}`.slice(0, 100),
    };
  } finally {
    tf.dispose([...last, ...Object.values(x), W]);
  }
}

/** Worst |a − g| / (1e-4 + 1e-3·|g|) over every value against the wasm host kernel's (≤ 1: within tolerance). */
function agreement(a: Cell, ref: Cell): string {
  if (!a.values || !ref.values) return '-';
  let worst = 0;
  a.values.forEach((v, i) =>
    v.forEach((x, j) => {
      const g = ref.values![i][j];
      const r = Math.abs(x - g) / (1e-4 + 1e-3 * Math.abs(g));
      worst = Number.isNaN(r) ? Infinity : Math.max(worst, r);
    }),
  );
  return worst.toPrecision(2);
}

const ratio = (a?: number, b?: number) =>
  a !== undefined && b !== undefined && b > 0 ? `${(a / b).toFixed(1)}×` : '-';
const runs = (r: Cell) => (r.runs === 1 ? ', 1 run' : '');
const fmt = (r: Cell, limitMs: number) =>
  r.error
    ? r.error === 'skipped'
      ? 'skipped'
      : `error: ${r.error}`
    : `${r.ms!.toFixed(2)} ms (×${(r.ms! / limitMs).toFixed(0)} limit${Number.isFinite(r.peak) ? `, peak ${(r.peak! / MiB).toFixed(0)} MiB` : ''}${runs(r)})`;

/**
 * The device's own yardsticks, measured in this run before the table: the bandwidth of a plain copy (one float read
 * and one written per invocation, 256 per workgroup, over a buffer as large as the largest shape's inputs +
 * outputs), of tf.add on the same sizes, and of the same copy in the scan programs' access pattern (one
 * invocation per row of [b·d, L], walking it in time order), both from GPU timestamps (tf.time) and from the clock as the table
 * measures it; and the round trip of one tiny program plus a 4-byte read-back, the floor under every wall time below.
 * They tell the scan kernels' distance from what this device and Dawn deliver apart from the distance to the nominal
 * HBM figure (BENCH_BANDWIDTH_GBS).
 */
async function yardsticks(): Promise<void> {
  await tf.setBackend('webgpu');
  const largest = shapes.reduce((m, [b, d, n, L]) => Math.max(m, 3 * b * d * L + 2 * b * n * L + b * d * L), 0);
  const floats = Math.max(1 << 20, Math.ceil(largest / 1024) * 1024);
  const x = tf.fill([floats], 1.5);
  const y = tf.fill([floats], 0.5);
  // the programs run through ssm-core's own runner (ops/kernels/webgpu/program.ts), as its WGSL kernels do
  const { grid, runProgram } = await import('../src/ops/kernels/webgpu/program.js');
  const copy = (): Tensor =>
    runProgram(
      'benchCopy',
      {
        outputShape: [floats],
        shaderKey: `benchCopy_${floats}`,
        dispatchLayout: { x: [0], y: [0] }, // not flat: main() takes no index
        dispatch: grid(Math.ceil(floats / 256)),
        variableNames: ['x'],
        workgroupSize: [256, 1, 1],
        uniforms: 'cpTotal : i32,',
        getUserCode: () => `
fn main() {
  let i = (i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x)) * 256 + i32(localId.x);
  if (i < uniforms.cpTotal) { result[i] = x[i]; }
}
`,
      },
      [x],
      [{ type: 'int32', data: [floats] }],
    );
  // the scans' access pattern: one invocation per row of the largest shape's [b·d, L], walking its row in time
  // order (neighbouring invocations read addresses L floats apart), 64 invocations per workgroup
  const [rb, rd, , rL] = shapes.reduce((m, s) => (s[0] * s[1] * s[3] > m[0] * m[1] * m[3] ? s : m));
  const rows = rb * rd;
  const rowWalk = (): Tensor =>
    runProgram(
      'benchRowWalk',
      {
        outputShape: [rows * rL],
        shaderKey: `benchRowWalk_${rows}_${rL}`,
        dispatchLayout: { x: [0], y: [0] },
        dispatch: grid(Math.ceil(rows / 64)),
        variableNames: ['x'],
        workgroupSize: [64, 1, 1],
        uniforms: 'rwRows : i32, rwL : i32,',
        getUserCode: () => `
fn main() {
  let r = (i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x)) * 64 + i32(localId.x);
  if (r >= uniforms.rwRows) { return; }
  for (var t = 0; t < uniforms.rwL; t++) { result[r * uniforms.rwL + t] = x[r * uniforms.rwL + t]; }
}
`,
      },
      [x],
      [
        { type: 'int32', data: [rows] },
        { type: 'int32', data: [rL] },
      ],
    );
  const bytes = 2 * 4 * floats;
  const addBytes = 3 * 4 * floats;
  const gpuMs = async (f: () => Tensor) => {
    let r: Tensor | undefined;
    const info = (await tf.time(() => {
      r = f();
    })) as { kernelMs: number | null | { error: string } };
    await settle([r!]);
    r!.dispose();
    return typeof info.kernelMs === 'number' ? info.kernelMs : NaN;
  };
  const wall = (f: () => Tensor) =>
    median(async () => {
      const r = f();
      await settle([r]);
      r.dispose();
    });
  const gbs = (b: number, ms: number) => (Number.isFinite(ms) ? `${(b / ms / 1e6).toFixed(0)} GB/s` : '-');
  const line = async (name: string, f: () => Tensor, b: number) => {
    const w = await wall(f);
    const k = await gpuMs(f);
    console.log(
      `${name}: ${(b / MiB).toFixed(0)} MiB moved — GPU time ${Number.isFinite(k) ? `${k.toFixed(3)} ms` : '-'} (${gbs(b, k)}), wall ${w.ms.toFixed(2)} ms (${gbs(b, w.ms)})`,
    );
  };
  try {
    // a program that failed to compile would leave its output unwritten: check the copy's last element
    const probe = copy();
    const last = (await probe.slice([floats - 1], [1]).data())[0];
    probe.dispose();
    if (last !== 1.5) throw new Error(`the copy program returned ${last} instead of 1.5 (see the device errors above)`);
    await line('copy', copy, bytes);
    await line('tf.add', () => x.add(y), addBytes);
    if (rows * rL <= floats) await line(`row walk [${rows}, ${rL}]`, rowWalk, 2 * 4 * rows * rL);
    const one = tf.fill([1], 1);
    const trip = await median(async () => {
      const r = one.add(1);
      await r.data();
      r.dispose();
    });
    one.dispose();
    console.log(`round trip (one tiny program + a 4-byte read-back): ${trip.ms.toFixed(3)} ms\n`);
  } catch (e) {
    console.log(`yardsticks: ${String((e as Error)?.message ?? e).split('\n')[0]}\n`);
  } finally {
    tf.dispose([x, y]);
  }
}
if (process.env.BENCH_SKIP_YARDSTICKS !== '1') await yardsticks();

/** The backward program the comparison column runs: the one 'auto' does not pick for the bench's shapes. */
const otherProgram = getFlag('WEBGPU_SCAN_BACKWARD') === 'rows' ? 'states' : 'rows';
console.log(
  `traffic limit at ${(bandwidth / 1e9).toFixed(0)} GB/s (BENCH_BANDWIDTH_GBS); median of ${reps}; peak = webgpu buffers in use\n`,
);
console.log(
  `| [batch, dInner, dState, L] | pass | webgpu fused | webgpu fused, '${otherProgram}' backward | webgpu fused, 'time' forward | webgpu fused, 'time' forward + 'time' backward | webgpu tensor | wasm fused | wasm / fused | in+out bytes | fused peak / in+out | error/tol fused, 'time', 'time' + 'time', tensor |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
const profiles: string[] = [];
const describeTimes = (label: string, c: Cell) => {
  if (!c.programs) return;
  const rows = [...c.programs.entries()].sort((x, y) => y[1].ms - x[1].ms);
  const total = rows.reduce((t, [, e]) => t + e.ms, 0);
  profiles.push(
    `${label}: ${total.toFixed(2)} ms of GPU time (wall ${c.ms?.toFixed(2)} ms) — ` +
      rows.map(([name, e]) => `${name} ${e.ms.toFixed(2)} ms${e.calls > 1 ? ` (${e.calls}×)` : ''}`).join(', '),
  );
};
for (const shape of shapes) {
  const [b, d, n, L] = shape;
  const inBytes = 4 * (3 * b * d * L + d * n + 2 * b * n * L + 2 * d); // u, delta, z, A, B, C, D, deltaBias
  const outBytes = 4 * b * d * L;
  for (const backward of [false, true]) {
    // forward: inputs + out; backward adds the cotangent and one gradient per input
    const bytes = backward ? 2 * inBytes + 2 * outBytes : inBytes + outBytes;
    const limitMs = (bytes / bandwidth) * 1e3;
    // the tensor kernel last: at the largest shape it may exhaust the device, and the row is still printed
    const wasm = await cell('wasm', 'fused', shape, backward);
    const fused = await cell('webgpu', 'fused', shape, backward);
    // the other backward program of the fused kernel (flag WEBGPU_SCAN_BACKWARD), for the comparison column
    let other: Cell = { error: 'skipped' };
    if (backward) {
      const chosen = getFlag('WEBGPU_SCAN_BACKWARD');
      setFlag('WEBGPU_SCAN_BACKWARD', otherProgram);
      other = await cell('webgpu', 'fused', shape, backward);
      if (chosen === 'auto') resetFlag('WEBGPU_SCAN_BACKWARD');
      else setFlag('WEBGPU_SCAN_BACKWARD', chosen);
    }
    // the time-parallel forward program (flag WEBGPU_SCAN_FORWARD = 'time'), with the backward 'auto' picks
    const forwardChosen = getFlag('WEBGPU_SCAN_FORWARD');
    setFlag('WEBGPU_SCAN_FORWARD', 'time');
    const time = await cell('webgpu', 'fused', shape, backward);
    // both time-parallel programs (flags WEBGPU_SCAN_FORWARD and WEBGPU_SCAN_BACKWARD = 'time')
    let timeBoth: Cell = { error: 'skipped' };
    if (backward) {
      const chosen = getFlag('WEBGPU_SCAN_BACKWARD');
      setFlag('WEBGPU_SCAN_BACKWARD', 'time');
      timeBoth = await cell('webgpu', 'fused', shape, backward);
      if (chosen === 'auto') resetFlag('WEBGPU_SCAN_BACKWARD');
      else setFlag('WEBGPU_SCAN_BACKWARD', chosen);
    }
    if (forwardChosen === 'auto') resetFlag('WEBGPU_SCAN_FORWARD');
    else setFlag('WEBGPU_SCAN_FORWARD', forwardChosen);
    const label = `${shape.join(',')} ${backward ? 'fwd+bwd' : 'fwd'}`;
    describeTimes(`${label}, fused`, fused);
    if (backward) describeTimes(`${label}, fused '${otherProgram}' backward`, other);
    describeTimes(`${label}, fused 'time' forward`, time);
    if (backward) describeTimes(`${label}, fused 'time' forward + 'time' backward`, timeBoth);
    console.error(
      `  ${shape.join(',')} ${backward ? 'fwd+bwd' : 'fwd'}: wasm ${wasm.ms?.toFixed(1)} ms, fused ${fused.ms?.toFixed(2) ?? fused.error} ms`,
    );
    const tensor: Cell =
      process.env.BENCH_SKIP_TENSOR === '1' ? { error: 'skipped' } : await cell('webgpu', 'tensor', shape, backward);
    console.log(
      `| ${shape.join(',')} | ${backward ? 'fwd+bwd' : 'fwd'} | ${fmt(fused, limitMs)} | ${backward ? fmt(other, limitMs) : '-'} | ${fmt(time, limitMs)} | ${backward ? fmt(timeBoth, limitMs) : '-'} | ${fmt(tensor, limitMs)} | ${wasm.error ? `error: ${wasm.error}` : `${wasm.ms!.toFixed(1)} ms${runs(wasm)}`} | ${ratio(wasm.ms, fused.ms)} | ${(bytes / MiB).toFixed(1)} MiB | ${ratio(fused.peak, bytes)} | ${agreement(fused, wasm)}, ${agreement(time, wasm)}, ${backward ? agreement(timeBoth, wasm) : '-'}, ${agreement(tensor, wasm)} |`,
    );
  }
}
if (profiles.length) console.log(`\nGPU time per program (tf.time, timestamp queries):\n${profiles.join('\n')}`);
else if (profile) console.log('\nGPU time per program: not available (no timestamp-query on this device)');

/**
 * Training: Tab. 1's Mamba+PE (d 32, N 8, |V| 128, T 50, PE 0.1·t, no conv, no gate; the fields of ssm-lab's
 * 'mamba+pe') on KEEP FIFTH at batch 32, trained on webgpu and on wasm in the same run, the backends alternating
 * round by round: steps/s of each (the best of BENCH_TRAIN_ROUNDS rounds, default 5; each round a fresh model, 2
 * warm-up steps, then BENCH_TRAIN_STEPS timed steps, default 10, clocked between the trainer's onStep callbacks),
 * their ratio, and on webgpu the GPU programs and data read-backs per step. BENCH_SKIP_TRAIN=1 skips it.
 */
async function trainingSection(): Promise<void> {
  const { createModel, tasks, train } = await import('../src/index.js');
  const T = 50;
  const V = 128;
  const WARM = 2;
  const timed = Number(process.env.BENCH_TRAIN_STEPS ?? 10);
  const rounds = Number(process.env.BENCH_TRAIN_ROUNDS ?? 5);
  const data = {
    train: tasks.keepNth({ n: 5, vocabSize: V, T, numSamples: 2000, seed: 1 }),
    val: tasks.keepNth({ n: 5, vocabSize: V, T, numSamples: 64, seed: 2 }),
  };
  interface Counts {
    programs: number;
    reads: number;
  }
  /**
   * Count the webgpu backend's programs and read-backs (reads of a tensor whose data is only on the device; a tensor
   * still holding its host values reads them without a transfer) while `f` runs.
   */
  async function counting<R>(f: (c: Counts) => Promise<R>): Promise<R> {
    const be = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown> & {
      tensorMap?: { get(id: unknown): { values?: unknown } | undefined };
    };
    const c: Counts = { programs: 0, reads: 0 };
    const wrapped = (['runWebGPUProgram', 'read', 'readSync'] as const).filter((k) => typeof be[k] === 'function');
    const orig = Object.fromEntries(wrapped.map((k) => [k, be[k]]));
    for (const k of wrapped)
      be[k] = (...a: unknown[]) => {
        if (k === 'runWebGPUProgram') c.programs++;
        else if (be.tensorMap?.get(a[0])?.values == null) c.reads++;
        return orig[k].apply(be, a);
      };
    try {
      return await f(c);
    } finally {
      for (const k of wrapped) be[k] = orig[k];
    }
  }
  /** One round on `backend`: steps/s over the timed steps, programs and read-backs per timed step. */
  async function round(backend: string): Promise<{ stepsPerS: number; programs: number; reads: number }> {
    await tf.setBackend(backend);
    const model = createModel({
      kind: 'mamba',
      vocabSize: V,
      dModel: 32,
      dState: 8,
      positionalEncoding: { scale: 0.1 },
      mixer: 's6',
      conv: false,
      gate: false,
      seed: 0,
    });
    try {
      return await counting(async (c) => {
        let t0 = 0;
        let t1 = 0;
        let at0: Counts = { programs: 0, reads: 0 };
        let at1: Counts = at0;
        const cfg = { epochs: 1, stepsPerEpoch: WARM + timed, batchSize: 32, lr: 0.03, lrMin: 1e-6, seed: 0 };
        await train(model, data, cfg, {
          progress: 'off',
          onStep: (s) => {
            if (s.step === WARM) [t0, at0] = [performance.now(), { ...c }];
            if (s.step === WARM + timed) [t1, at1] = [performance.now(), { ...c }];
          },
        });
        return {
          stepsPerS: (timed * 1e3) / (t1 - t0),
          programs: (at1.programs - at0.programs) / timed,
          reads: (at1.reads - at0.reads) / timed,
        };
      });
    } finally {
      model.dispose();
    }
  }
  console.error(`  training: ${rounds} rounds of ${WARM} + ${timed} steps on wasm and webgpu`);
  const best: Record<string, { stepsPerS: number; programs: number; reads: number }> = {};
  for (let r = 0; r < rounds; r++) {
    for (const backend of ['wasm', 'webgpu']) {
      const res = await round(backend);
      if (!best[backend] || res.stepsPerS > best[backend].stepsPerS) best[backend] = res;
    }
  }
  const { wasm, webgpu } = best;
  console.log(
    `\nTraining, Tab. 1 Mamba+PE (d 32, N 8, |V| 128, T 50, PE 0.1), batch 32, best of ${rounds} rounds of ${timed} steps:`,
  );
  console.log('| backend | steps/s | GPU programs / step | read-backs / step |');
  console.log('|---|---|---|---|');
  console.log(
    `| webgpu | ${webgpu.stepsPerS.toFixed(1)} | ${webgpu.programs.toFixed(1)} | ${webgpu.reads.toFixed(1)} |`,
  );
  console.log(`| wasm | ${wasm.stepsPerS.toFixed(1)} | - | - |`);
  console.log(
    `webgpu / wasm steps/s: ${(webgpu.stepsPerS / wasm.stepsPerS).toFixed(3)}${cpuDriver ? ' (a CPU Vulkan driver: says nothing about a GPU)' : ''}`,
  );
}
if (process.env.BENCH_SKIP_TRAIN !== '1') await trainingSection();
