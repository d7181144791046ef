/**
 * Where element (b, d, n, t) of each scan argument lives in its flat row-major array.
 * Broadcast axes get stride 0, so one indexing rule serves every layout variant
 * (fixed vs input-dependent B/C, Δ along channels, states, or both).
 */
import type { BDiscretization, ScanDims, TimeMajor } from '../../core/types.js';

/** Strides along (batch, channel d, state n, time t). */
export type Strides = readonly [number, number, number, number];

export interface ScanLayout {
  u: Strides; // also z and out
  delta: Strides; // also the softplus'd Δ and its gradient
  bias: Strides;
  A: Strides;
  B: Strides;
  C: Strides;
}

export function scanLayout(s: ScanDims): ScanLayout {
  const { dInner: D, dState: N, L } = s;
  const delta: Strides =
    s.deltaAlong === 'channel'
      ? [D * L, L, 0, 1]
      : s.deltaAlong === 'state'
        ? [N * L, 0, L, 1]
        : [D * N * L, N * L, L, 1];
  const bias: Strides =
    s.deltaAlong === 'channel' ? [0, 1, 0, 0] : s.deltaAlong === 'state' ? [0, 0, 1, 0] : [0, N, 1, 0];
  const bc = (fixed: boolean): Strides => (fixed ? [0, N, 1, 0] : [N * L, 0, L, 1]);
  return { u: [D * L, L, 0, 1], delta, bias, A: [0, N, 1, 0], B: bc(s.bFixed), C: bc(s.cFixed) };
}

export const at = (s: Strides, b: number, d: number, n: number, t: number) => b * s[0] + d * s[1] + n * s[2] + t * s[3];

/** Element count of delta's own array. */
export const deltaSize = (s: ScanDims) =>
  s.batch * s.L * (s.deltaAlong === 'channel' ? s.dInner : s.deltaAlong === 'state' ? s.dState : s.dInner * s.dState);

/** ZOH input coefficient (e^{Δa} − 1)/a, equal to Δ at a = 0; exact near 0 via a series. */
export function zohCoef(dt: number, a: number): number {
  const x = dt * a;
  return Math.abs(x) < 1e-5 ? dt * (1 + x / 2 + (x * x) / 6) : Math.expm1(x) / a;
}
/** ∂/∂a of {@link zohCoef}: Δ²·(x eˣ − (eˣ − 1))/x² with x = Δa, series near 0. */
export function zohCoefGradA(dt: number, a: number): number {
  const x = dt * a;
  if (Math.abs(x) < 1e-3) return dt * dt * (0.5 + x / 3 + (x * x) / 8);
  return (dt * dt * (x * Math.exp(x) - Math.expm1(x))) / (x * x);
}

/** B-discretisation codes for the inner loops. */
export const DISC = { euler: 0, zoh: 1, identity: 2 } as const;

export type Floats = Float32Array | Float64Array;

/** [rows, n, L] → [rows, L, n] (and back with `inverse`), as float64. */
export function swapLastTwo(
  src: ArrayLike<number>,
  rows: number,
  n: number,
  L: number,
  out: Float64Array | Float32Array,
  inverse = false,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n * L;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < L; t++) {
        if (inverse) out[o + i * L + t] = src[o + t * n + i];
        else out[o + t * n + i] = src[o + i * L + t];
      }
    }
  }
}

/** Where row (b, d) starts in each time-major array, and the step per t. */
export function rowLayout(s: ScanDims, b: number, d: number) {
  const { dInner: Dn, dState: N, L } = s;
  const chan = s.deltaAlong === 'channel';
  const tm = s.timeMajor;
  if (tm) {
    const uo = b * L * Dn + d; // u, z, out and Δ̄, all [b, L, d]; Δ̄ [d] when constant
    const row = b * L * tm.stride; // B and C: columns of x_proj's rows
    return {
      uo,
      uT: Dn,
      dBase: tm.deltaConstant ? d : uo,
      dT: tm.deltaConstant ? 0 : Dn,
      dN: 0,
      bBase: row + tm.bOffset,
      bT: tm.stride,
      cBase: row + tm.cOffset,
      cT: tm.stride,
      so: (b * Dn + d) * L * N,
    };
  }
  return {
    uo: (b * Dn + d) * L, // u, z, out; Δ̄ too when Δ is per channel
    uT: 1, // step of u, z, out per t
    dBase: chan ? (b * Dn + d) * L : s.deltaAlong === 'state' ? b * L * N : (b * Dn + d) * L * N,
    dT: chan ? 1 : N, // step of Δ̄ per t
    dN: chan ? 0 : 1, // step of Δ̄ per n
    bBase: s.bFixed ? d * N : b * L * N,
    bT: s.bFixed ? 0 : N,
    cBase: s.cFixed ? d * N : b * L * N,
    cT: s.cFixed ? 0 : N,
    so: (b * Dn + d) * L * N, // states, decay
  };
}

/**
 * Dims of an inner op's scan (S6 and Mamba-2, host and WebGPU kernels): Δ per channel with a bias and softplus,
 * input-dependent B and C, no gate z; arrays in the model's time-major layout `tm` when given, else the reference's.
 */
export function innerScanDims(
  batch: number,
  dInner: number,
  dState: number,
  L: number,
  hasD: boolean,
  disc: BDiscretization,
  tm?: TimeMajor,
): ScanDims {
  return {
    batch,
    dInner,
    dState,
    L,
    deltaAlong: 'channel',
    bFixed: false,
    cFixed: false,
    hasD,
    hasZ: false,
    hasBias: true,
    softplus: true,
    disc,
    ...(tm && { timeMajor: tm }),
  };
}

/** The row layout of {@link rowLayout}. */
export type RowLayout = ReturnType<typeof rowLayout>;

/** B or C, time-major when input-dependent, in the input's precision (a float64 copy of float32 data only costs memory). */
export function timeMajor(s: ScanDims, v: Floats, fixed: boolean): Floats {
  const out = v instanceof Float64Array ? new Float64Array(v.length) : new Float32Array(v.length);
  if (fixed) out.set(v);
  else swapLastTwo(v, s.batch, s.dState, s.L, out);
  return out;
}
