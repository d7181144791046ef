/**
 * The fused selective scan on tfjs-backend-webgpu (the 'webgpu' kernel of `selectiveScan` in mamba_ssm's layout,
 * and of the inner ops s6Inner, mambaInner and mamba2Inner in the model's time-major layout, ScanPlan.layout):
 * WGSL programs (./wgsl.ts) run through the backend's `runWebGPUProgram`, so data never leaves the device. The
 * forward keeps the state h in registers and stores it only at chunk boundaries (every K steps, K·n ≤ 256 by
 * default), and only when the backward pass or the last state needs them; the backward (wired in through
 * tf.customGrad, like the host kernel kernels/cpu/fusedScan.ts) recomputes the states inside each chunk and runs the
 * reverse recurrence. GPU memory: inputs, outputs, the [⌈L/K⌉, b, d, n] chunk states, the gradients and
 * b·⌈d/WG⌉·n·L partial sums for the gradients reduced over d.
 */
import type { Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { fmtShape, shapeError } from '../../../errors.js';
import { getFlag, isRecording } from '../../../policy.js';
import type { ScanDims, SelectiveScanArgs, SelectiveScanResult } from '../../core/types.js';
import { SCAN_KEYS } from '../../core/validate.js';
import {
  backwardLayout,
  backwardSource,
  backwardStatesSource,
  forwardParallelSource,
  forwardSource,
  parallelRows,
  SCAN_UNIFORMS,
  statesWorkgroupFloats,
  type BCColumns,
  type ScanLayoutName,
  type ScanPlan,
} from './wgsl.js';
import { grid, named, runProgram, type Program } from './program.js';
import {
  backwardTimeSource,
  forwardTimeSource,
  timeBackwardRows,
  timeBackwardTiling,
  timeBackwardWorkgroupFloats,
  timeTiling,
} from './wgslTime.js';

interface WebGPUBackendLike {
  device: { limits: { maxStorageBufferBindingSize: number } & DeviceLimits };
  runWebGPUProgram(
    program: Program,
    inputs: TensorInfo[],
    outputDtype: 'float32',
    uniforms?: { type: 'int32'; data: number[] }[],
  ): TensorInfo;
}

type ScanKey = (typeof SCAN_KEYS)[number];
export type ScanTensors = Partial<Record<ScanKey, Tensor>>;

/** Workgroup memory Dawn grants by default (maxComputeWorkgroupStorageSize). */
const WORKGROUP_BYTES = 16384;
/** Chunk length of the states stored for the backward pass: K·n ≤ the flag WEBGPU_SCAN_CHUNK_FLOATS. */
export const chunkLength = (s: ScanDims) =>
  Math.max(1, Math.min(s.L, Math.floor(getFlag('WEBGPU_SCAN_CHUNK_FLOATS') / s.dState)));

/** The limits of the live WebGPU device that the plan depends on. */
export interface DeviceLimits {
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

/** Below this many rows b·d, 'auto' runs the state-parallel backward (flag WEBGPU_SCAN_BACKWARD). */
export const STATES_BELOW_ROWS = 8192;

/** How a scan call reads its tensors: Mamba-2's Δ per step, the layout, whether the last state is asked. */
export interface ScanOptions {
  /** Δ [b, L] and deltaBias [1] ({@link ScanPlan.deltaPerTime}). */
  deltaPerTime?: boolean;
  /** 'reference' (default): u, delta, z [b, d, L], B, C [b, n, L]; 'timeMajor': [b, L, ·] ({@link ScanPlan.layout}). */
  layout?: ScanLayoutName;
  /** The final state is asked for: the forward keeps its states even without a gradient tape. */
  lastState?: boolean;
  /** `A` holds A_log [d, n] (A = −exp(A_log)), and its gradient is ∂A_log ({@link ScanPlan.aLog}). */
  aLog?: boolean;
  /**
   * 'timeMajor' only: `B` is one tensor [b, L, W] whose columns hold B and C, and `C` is absent; the gradient of
   * `B` is that of the whole tensor, zero outside the two column ranges ({@link ScanPlan.bcColumns}).
   */
  bcColumns?: BCColumns;
}

/**
 * The plan of one scan call. Under a gradient tape the backward program is chosen (flag WEBGPU_SCAN_BACKWARD):
 * 'states' with R = ⌊256 / n⌋ rows per workgroup and its chunk length K cut to what its workgroup memory allows
 * ('auto': below {@link STATES_BELOW_ROWS} rows and with at least min(4, chunkLength) steps, else 'rows'); 'time'
 * (only when the flag names it) with the chunk length K = T·I of its tiling and R = min(d, max(4, min(16, n))) rows per workgroup;
 * without a tape one chunk covers all of L, and the forward writes its state only when `lastState` is asked.
 */
export function planFor(s: ScanDims, recording: boolean, limits: DeviceLimits, o: ScanOptions = {}): ScanPlan {
  const p = basePlan(s, recording, limits, o);
  if (o.bcColumns) {
    const { W, bOff, cOff } = o.bcColumns;
    const N = s.dState;
    if (p.layout !== 'timeMajor' || s.bFixed || s.cFixed || Math.min(bOff, cOff) < 0 || Math.max(bOff, cOff) + N > W)
      throw shapeError(
        'selectiveScan bcColumns',
        `time-major, input-dependent B and C in columns of [b, L, W] (bOff, cOff ≥ 0, + n = ${N} ≤ W)`,
        JSON.stringify({ layout: p.layout, bFixed: s.bFixed, cFixed: s.cFixed, ...o.bcColumns }),
      );
    p.bcColumns = o.bcColumns;
  }
  return p;
}

function basePlan(s: ScanDims, recording: boolean, limits: DeviceLimits, o: ScanOptions): ScanPlan {
  const deltaPerTime = o.deltaPerTime ?? false;
  const layout = o.layout ?? 'reference';
  const aLog = o.aLog ?? false;
  if (!recording) return makePlan(s, s.L, 'rows', deltaPerTime, 1, layout, o.lastState ?? false, aLog);
  const K = chunkLength(s);
  const want = getFlag('WEBGPU_SCAN_BACKWARD');
  if (want === 'time') {
    const { T, I } = timeBackwardTiling(s.L);
    const bytes = 4 * timeBackwardWorkgroupFloats(s, T);
    if (T > limits.maxComputeInvocationsPerWorkgroup || bytes > limits.maxComputeWorkgroupStorageSize)
      throw shapeError(
        `selectiveScan backward with WEBGPU_SCAN_BACKWARD = 'time' at [dState, L] = ${fmtShape([s.dState, s.L])}`,
        `a workgroup of ${T} invocations and ≤ ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`,
        `${bytes} bytes`,
        "WEBGPU_SCAN_BACKWARD = 'auto', 'rows' or 'states'",
      );
    return makePlan(s, T * I, 'time', deltaPerTime, timeBackwardRows(s), layout, true, aLog);
  }
  if (want === 'states' || (want === 'auto' && s.batch * s.dInner < STATES_BELOW_ROWS)) {
    const T0 = Math.min(256, limits.maxComputeInvocationsPerWorkgroup);
    const R = Math.floor(T0 / s.dState);
    if (R >= 1) {
      const floats = Math.floor(limits.maxComputeWorkgroupStorageSize / 4);
      let Ks = K;
      while (Ks > 1 && statesWorkgroupFloats({ s, R }, Ks) > floats) Ks--;
      if (statesWorkgroupFloats({ s, R }, Ks) <= floats && (want === 'states' || Ks >= Math.min(4, K)))
        return makePlan(s, Ks, 'states', deltaPerTime, R, layout, true, aLog);
    }
    if (want === 'states')
      throw shapeError(
        `selectiveScan backward with WEBGPU_SCAN_BACKWARD = 'states' at dState = ${s.dState}`,
        `a workgroup of R·n ≤ ${T0} invocations and ≤ ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`,
        `R = ${R}`,
        "WEBGPU_SCAN_BACKWARD = 'auto' or 'rows'",
      );
  }
  return makePlan(s, K, 'rows', deltaPerTime, 1, layout, true, aLog);
}

export function makePlan(
  s: ScanDims,
  K: number,
  bwd: ScanPlan['bwd'] = 'rows',
  deltaPerTime = false,
  R = 1,
  layout: ScanLayoutName = 'reference',
  states = true,
  aLog = false,
): ScanPlan {
  const { batch, dInner: DI, dState: N, L } = s;
  const Q = (s.bFixed ? 0 : 1) + (s.cFixed ? 0 : 1) + (s.deltaAlong === 'state' ? 1 : 0);
  let WG = 64;
  while (WG > 1 && Q * N * WG * 4 > WORKGROUP_BYTES) WG /= 2;
  while (WG > 1 && WG / 2 >= DI) WG /= 2;
  const NC = Math.ceil(L / K);
  const sizeB = s.bFixed ? DI * N : batch * N * L;
  const D_OFF = DI * N;
  return {
    s,
    K,
    NC,
    WG,
    G: Math.ceil(DI / (bwd === 'rows' ? WG : R)),
    bwd,
    R,
    C_OFF: sizeB,
    D_OFF,
    BIAS_OFF: D_OFF + (s.hasD ? DI : 0),
    S_OFF: batch * DI * L,
    deltaPerTime,
    layout,
    states,
    aLog,
  };
}

const planKey = (p: ScanPlan) => {
  const { s } = p;
  return [
    s.batch,
    s.dInner,
    s.dState,
    s.L,
    s.deltaAlong,
    s.bFixed ? 'bF' : 'bV',
    s.cFixed ? 'cF' : 'cV',
    s.hasD ? 'D' : '',
    s.hasZ ? 'z' : '',
    s.hasBias ? 'bias' : '',
    s.softplus ? 'sp' : '',
    s.disc,
    p.K,
    p.WG,
    p.bwd,
    p.R,
    p.deltaPerTime ? 'dt' : '',
    p.layout === 'timeMajor' ? 'tm' : 'ref',
    p.states ? 'st' : '',
    p.aLog ? 'alog' : '',
    p.bcColumns ? `cols${p.bcColumns.W}x${p.bcColumns.bOff}x${p.bcColumns.cOff}` : '',
  ].join('_');
};

function program(p: ScanPlan, key: string, outSize: number, names: string[], source: string): Program {
  return named(key.split('_')[0], {
    outputShape: [outSize],
    shaderKey: key,
    dispatchLayout: { x: [0], y: [0] }, // not flat: main() takes no index, each invocation finds its (b, d)
    dispatch: [p.G, p.s.batch, 1],
    variableNames: names,
    workgroupSize: [p.WG, 1, 1],
    getUserCode: () => source,
    uniforms: SCAN_UNIFORMS,
  });
}

/**
 * Run `prog`, refusing before launch (ShapeError naming the buffer and its size) a buffer larger than the device
 * binds (maxStorageBufferBindingSize): WebGPU would only report it asynchronously, after a garbage result.
 */
function run(p: ScanPlan, prog: Program, inputs: Tensor[]): Tensor {
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const limit = backend.device.limits.maxStorageBufferBindingSize;
  const { batch, dInner, dState, L } = p.s;
  const buffers: [string, number][] = [
    ['output', prog.outputShape[0]],
    ...inputs.map((t, i): [string, number] => [prog.variableNames[i], t.size]),
  ];
  for (const [name, size] of buffers) {
    if (4 * size > limit)
      throw shapeError(
        `selectiveScan [batch, dInner, dState, L] = ${fmtShape([batch, dInner, dState, L])}`,
        `buffers of at most ${limit} bytes (this WebGPU device's maxStorageBufferBindingSize)`,
        `${4 * size} bytes for ${prog.shaderKey.split('_')[0]} ${name}`,
        'a smaller batch (or sequence length) per call',
      );
  }
  const uniforms = [p.s.L, p.K, p.NC, p.s.dState].map((v) => ({ type: 'int32' as const, data: [v] }));
  return tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(prog, inputs, 'float32', uniforms));
}

const flat = (t: Tensor) => t.reshape([-1]);

/** B then C, flat, for the backward (8 storage buffers per stage on Dawn). */
const packBC = (x: ScanTensors) => tf.concat([flat(x.B!), flat(x.C!)]);
/** A, then D, then deltaBias, flat. */
function packParams(x: ScanTensors): Tensor {
  const parts = [x.A, x.D, x.deltaBias].filter((t): t is Tensor => t !== undefined).map(flat);
  return parts.length === 1 ? parts[0] : tf.concat(parts);
}

/**
 * The forward program's output: out (in the plan's layout), followed by the chunk states [NC, b, d, n] when the
 * plan keeps them. B and C are bound as their own buffers (u, dl, B, C, prm, z and the output: 7 of 8).
 */
function forward(p: ScanPlan, x: ScanTensors, prm: Tensor = packParams(x)): Tensor {
  const { batch, dInner, dState, L } = p.s;
  const bc = p.bcColumns ? ['bc'] : ['bb', 'cc'];
  const bcInputs = p.bcColumns ? [flat(x.B!)] : [flat(x.B!), flat(x.C!)];
  const names = ['u', 'dl', ...bc, 'prm', ...(x.z ? ['z'] : [])];
  const inputs = [flat(x.u!), flat(x.delta!), ...bcInputs, prm, ...(x.z ? [flat(x.z)] : [])];
  const size = batch * dInner * (L + (p.states ? p.NC * dState : 0));
  const R = parallelRows(dState);
  const want = getFlag('WEBGPU_SCAN_FORWARD');
  if (want === 'states' && R === 0)
    throw shapeError(
      `selectiveScan forward with WEBGPU_SCAN_FORWARD = 'states' at dState = ${dState}`,
      'dState ≤ 64 (R rows × n states per workgroup)',
      `dState = ${dState}`,
      "WEBGPU_SCAN_FORWARD = 'auto', 'rows' or 'time'",
    );
  if (want === 'rows' || (want === 'auto' && R === 0)) {
    const prog = program(p, `ssmScanFwd_${planKey(p)}`, size, names, forwardSource(p));
    prog.dispatch = [Math.ceil(dInner / p.WG), batch, 1];
    return run(p, prog, inputs);
  }
  // the other programs: their workgroups (R rows each, or one row) laid out on a grid (2-D beyond the device's limit)
  if (want === 'time') {
    const prog = program(p, `ssmScanFwdTime_${planKey(p)}`, size, names, forwardTimeSource(p));
    prog.workgroupSize = [timeTiling(L).T, 1, 1];
    prog.dispatch = grid(batch * dInner);
    return run(p, prog, inputs);
  }
  // state-parallel: R rows × n states per workgroup
  const prog = program(p, `ssmScanFwdPar_${planKey(p)}`, size, names, forwardParallelSource(p));
  prog.workgroupSize = [R * dState, 1, 1];
  prog.dispatch = grid(Math.ceil((batch * dInner) / R));
  return run(p, prog, inputs);
}

/**
 * Gradients of every scan tensor from the forward's packed output and its cotangent `dy` (same layout); `prm` is
 * the forward's packed parameters.
 */
function backward(p: ScanPlan, x: ScanTensors, prm: Tensor, packed: Tensor, dy: Tensor): ScanTensors {
  const { s } = p;
  const { batch: b, dInner: D, dState: N, L } = s;
  const lay = backwardLayout(p);
  const names = ['u', 'dl', 'bc', 'prm', ...(x.z ? ['z'] : []), 'st', 'dy'];
  const bc = p.bcColumns ? flat(x.B!) : packBC(x);
  const inputs = [flat(x.u!), flat(x.delta!), bc, prm, ...(x.z ? [flat(x.z)] : []), packed, dy];
  let prog: Program;
  if (p.bwd === 'states') {
    prog = program(p, `ssmScanBwdStates_${planKey(p)}`, lay.size, names, backwardStatesSource(p, lay));
    prog.workgroupSize = [p.R * N, 1, 1];
  } else if (p.bwd === 'time') {
    prog = program(p, `ssmScanBwdTime_${planKey(p)}`, lay.size, names, backwardTimeSource(p, lay));
    prog.workgroupSize = [timeBackwardTiling(L).T, 1, 1];
    prog.dispatch = grid(b * p.G);
  } else prog = program(p, `ssmScanBwd_${planKey(p)}`, lay.size, names, backwardSource(p, lay));
  const g = run(p, prog, inputs);
  const region = (at: number, shape: number[]) => g.slice([at], [shape.reduce((m, v) => m * v, 1)]).reshape(shape);
  // sums over the middle axis of [outer, G, M] regions of g (over b, over d, over the G workgroup partials)
  const sumMid = (at: number, outer: number, G: number, M: number, shape: number[]) =>
    G === 1 ? region(at, shape) : sumGroups(g, at, outer, G, M).reshape(shape);
  const tm = p.layout === 'timeMajor';
  const rowShape = tm ? [b, L, D] : [b, D, L];
  const partial = (at: number) => sumMid(at, b, p.G, N * L, tm ? [b, L, N] : [b, N, L]);
  const delta = p.deltaPerTime
    ? sumMid(lay.GDL, tm ? b * L : b, D, tm ? 1 : L, [b, L]) // Mamba-2: ∂Δ per channel summed over d
    : s.deltaAlong === 'channel'
      ? region(lay.GDL, rowShape)
      : s.deltaAlong === 'full'
        ? region(lay.GDL, tm ? [b, L, D, N] : [b, D, N, L])
        : partial(lay.GDL);
  const grads: ScanTensors = {
    u: region(lay.GU, rowShape),
    delta,
    A: sumMid(lay.GA, 1, b, D * N, [D, N]),
    B: p.bcColumns
      ? sumColumns(g, lay.GB, lay.GC, b, p.G, L, N, p.bcColumns).reshape(x.B!.shape)
      : s.bFixed
        ? sumMid(lay.GB, 1, b, D * N, [D, N])
        : partial(lay.GB),
  };
  if (!p.bcColumns) grads.C = s.cFixed ? sumMid(lay.GC, 1, b, D * N, [D, N]) : partial(lay.GC);
  if (s.hasZ) grads.z = region(lay.GZ, rowShape);
  if (s.hasD) grads.D = sumMid(lay.GD, 1, b, D, [D]);
  // ∂Δ̄/∂bias = ∂Δ̄/∂delta, summed over the axes the bias is broadcast along: the innermost (time) first, so that no
  // reduction runs over b·L values in one workgroup
  // (time-major: Σ over the leading axes b then L of [b, L, M], each pass reading consecutive addresses)
  if (s.hasBias)
    grads.deltaBias = p.deltaPerTime
      ? delta.sum(1).sum().reshape([1])
      : tm
        ? sumLeading(delta, b, L).reshape(s.deltaAlong === 'full' ? [D, N] : [s.deltaAlong === 'state' ? N : D])
        : s.deltaAlong === 'full'
          ? delta.sum(3).sum(0)
          : delta.sum(2).sum(0);
  return grads;
}

/**
 * The gradient of the [b, L, W] tensor whose columns hold B and C ({@link ScanPlan.bcColumns}): in B's columns
 * Σ_g of the partial sums [b, G, L, n] at `gb`, in C's those at `gc`, 0 elsewhere; one invocation per element,
 * consecutive invocations on consecutive columns.
 */
function sumColumns(x: Tensor, gb: number, gc: number, b: number, G: number, L: number, N: number, c: BCColumns) {
  const total = b * L * c.W;
  const groups = Math.ceil(total / 256);
  const sum = (at: number, off: number) =>
    `for (var g = 0; g < ${G}; g++) { acc += x[${at} + ((bb * ${G} + g) * ${L} + t) * ${N} + col - ${off}]; }`;
  const prog: Program = {
    outputShape: [total],
    shaderKey: `ssmSumColumns_${gb}_${gc}_${b}_${G}_${L}_${N}_${c.W}_${c.bOff}_${c.cOff}`,
    dispatchLayout: { x: [0], y: [0] },
    dispatch: grid(groups),
    variableNames: ['x'],
    workgroupSize: [256, 1, 1],
    uniforms: 'scTotal : i32,',
    getUserCode: () => `
fn main() {
  let i = (i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x)) * 256 + i32(localId.x);
  if (i >= uniforms.scTotal) { return; }
  let col = i % ${c.W};
  let bt = i / ${c.W};
  let bb = bt / ${L};
  let t = bt % ${L};
  var acc = 0.0;
  if (col >= ${c.bOff} && col < ${c.bOff + N}) { ${sum(gb, c.bOff)} }
  if (col >= ${c.cOff} && col < ${c.cOff + N}) { ${sum(gc, c.cOff)} }
  result[i] = acc;
}
`,
  };
  return runProgram('ssmSumColumns', prog, [x], [{ type: 'int32', data: [total] }]);
}

/** Σ over the first two axes of `x` viewed as [b, L, M]: [M], two passes of {@link sumGroups}. */
function sumLeading(x: Tensor, b: number, L: number): Tensor {
  const M = x.size / (b * L);
  const overB = b === 1 ? x : sumGroups(x, 0, 1, b, L * M);
  return L === 1 ? overB.reshape([M]) : sumGroups(overB, 0, 1, L, M);
}

/**
 * Σ_g x[at + (o·G + g)·M + j] for o < outer, j < M: the sum over the middle axis of an [outer, G, M] region of the
 * flat tensor `x`, one invocation per output, reading consecutive j together. (tf.sum over a middle axis transposes
 * it innermost first, and reduces each output in one workgroup.)
 */
function sumGroups(x: Tensor, at: number, outer: number, G: number, M: number): Tensor {
  const total = outer * M;
  const groups = Math.ceil(total / 256);
  const prog: Program = {
    outputShape: [total],
    shaderKey: `ssmSumGroups_${at}_${outer}_${G}_${M}`,
    dispatchLayout: { x: [0], y: [0] },
    dispatch: grid(groups),
    variableNames: ['x'],
    workgroupSize: [256, 1, 1],
    // the bind group always carries tfjs's uniform buffer, so the shader must use it
    uniforms: 'sgTotal : i32,',
    getUserCode: () => `
fn main() {
  let i = (i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x)) * 256 + i32(localId.x);
  if (i >= uniforms.sgTotal) { return; }
  let o = i / ${M};
  let j = i % ${M};
  var acc = 0.0;
  for (var g = 0; g < ${G}; g++) { acc += x[${at} + (o * ${G} + g) * ${M} + j]; }
  result[i] = acc;
}
`,
  };
  return runProgram('ssmSumGroups', prog, [x], [{ type: 'int32', data: [total] }]);
}

/** The scan of validated `args` (dimensions `s`) on the WebGPU backend, with its gradient. */
export function webgpuScan(s: ScanDims, args: SelectiveScanArgs): SelectiveScanResult {
  return scanTensors(s, args, { lastState: Boolean(args.returnLastState) });
}

/**
 * The scan of tensors `args` with dimensions `s`, differentiable in every tensor (options: {@link ScanOptions});
 * out [b, d, L] ('reference') or [b, L, d] ('timeMajor') and, with `lastState`, lastState [b, d, n]. Without a
 * gradient tape and without `lastState` the forward writes out alone, and out is that program's output.
 */
export function scanTensors(s: ScanDims, args: ScanTensors, o: ScanOptions = {}): SelectiveScanResult {
  const keys = SCAN_KEYS.filter((k) => args[k] !== undefined);
  const limits = (tf.backend() as unknown as WebGPUBackendLike).device.limits;
  const recording = isRecording();
  const p = planFor(s, recording, limits, o);
  const { batch: b, dInner: D, dState: N, L } = s;
  const rows = b * D;
  const outShape = p.layout === 'timeMajor' ? [b, L, D] : [b, D, L];
  if (!p.states) return { out: forward(p, args).reshape(outShape) };
  let packed: Tensor; // disposed by the caller's tidy; the slices carry the gradient
  if (recording) {
    const op = tf.customGrad(((...xs: unknown[]) => {
      const save = xs[keys.length] as (ts: Tensor[]) => void;
      const given = Object.fromEntries(keys.map((k, i) => [k, xs[i] as Tensor])) as ScanTensors;
      const prm = packParams(given); // kept for the backward
      const value = forward(p, given, prm);
      save([...(xs.slice(0, keys.length) as Tensor[]), value, prm]);
      const gradFunc = (dy: Tensor, saved: Tensor[]) => {
        const x = Object.fromEntries(keys.map((k, i) => [k, saved[i]])) as ScanTensors;
        const grads = backward(p, x, saved[keys.length + 1], saved[keys.length], dy);
        return keys.map((k) => grads[k]!);
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    packed = op(...keys.map((k) => args[k] as Tensor)) as Tensor;
  } else packed = forward(p, args);
  const out = packed.slice([0], [rows * L]).reshape(outShape);
  if (!o.lastState) return { out };
  // the last chunk's states are the final state, the last b·d·n floats
  const lastState = packed.slice([p.S_OFF + (p.NC - 1) * rows * N], [rows * N]).reshape([b, D, N]);
  return { out, lastState };
}
