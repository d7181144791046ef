/**
 * Where element (b, d, n, t) of each scan argument lives in its flat row-major array.
 * Broadcast axes get stride 0, so one indexing rule serves every layout variant
 * (fixed vs input-dependent B/C, Δ along channels, states, or both).
 */
import type { ScanDims } from './types.js';

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
    s.deltaAlong === 'channel' ? [D * L, L, 0, 1] : s.deltaAlong === 'state' ? [N * L, 0, L, 1] : [D * N * L, N * L, L, 1];
  const bias: Strides = s.deltaAlong === 'channel' ? [0, 1, 0, 0] : s.deltaAlong === 'state' ? [0, 0, 1, 0] : [0, N, 1, 0];
  const bc = (fixed: boolean): Strides => (fixed ? [0, N, 1, 0] : [N * L, 0, L, 1]);
  return { u: [D * L, L, 0, 1], delta, bias, A: [0, N, 1, 0], B: bc(s.bFixed), C: bc(s.cFixed) };
}

export const at = (s: Strides, b: number, d: number, n: number, t: number) => b * s[0] + d * s[1] + n * s[2] + t * s[3];

/** Element count of delta's own array. */
export const deltaSize = (s: ScanDims) => s.batch * s.L * (s.deltaAlong === 'channel' ? s.dInner : s.deltaAlong === 'state' ? s.dState : s.dInner * s.dState);

/** torch.nn.functional.softplus with beta = 1, threshold = 20. */
export const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));
/** d softplus / dx, consistent with torch's thresholded backward. */
export const softplusGrad = (x: number) => (x > 20 ? 1 : 1 / (1 + Math.exp(-x)));
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
