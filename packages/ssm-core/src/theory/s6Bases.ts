/**
 * Mamba basis functions realised by an actual discrete S6 layer (the repo's `s6` mixer, run
 * forward and differentiated with tf.grad): the discrete counterpart of Eq. 8, and the
 * shifted Heavisides of the Thm 1 construction (Eq. 22) driven by time positional encoding.
 *
 * Notation (one S6 mixer, batch 1, state size N = 1, Δ rank R = 1, no conv, no skip)
 *   x̂ [T, d]      mixer input; "signal" channels carry the 1-D input x, one channel is the
 *                 constant 1 (B_t, C_t and biases come from it), one carries the time t = 1..T
 *   Δ_{t,c} = softplus(W_dt[c]·(W_x x̂_t)_0 + b_dt[c]),  B_t = (W_x x̂_t)_1,  C_t = (W_x x̂_t)_2   (14c–e)
 *   h_T[c] = Σ_{s ≤ T} exp(−λ_d Σ_{r=s+1}^{T} Δ_{r,c}) · B_s · x̂_{s,c}        (4) with B̄ = B (see below)
 *   basis  ĝ_c(s) := ∂y_T[c]/∂x̂_{s,c}  (y_T = C_T h_T, C ≡ 1)   — the discrete g^M of Eq. 8
 *   grid   L cells of width h = t/L;  cell i = [(i−1)h, ih),  τ_i = (i − ½)h;  λ_d = λ·h
 *
 * B discretisation: Eq. 8 keeps B outside the Δ-integral ("input-dependence only affects the
 * state matrix"), i.e. B̄_t = B_t — the repo's 'identity' discretisation (Eq. 15). With Euler's
 * B̄ = Δ·B the basis picks up a factor Δ_s, which → 0 exactly where H should be 1.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { s6 } from '../mixers/s6.js';
import type { MixerContext } from '../mixers/types.js';
import type { DeltaFunction } from './bases.js';
import { getter, param, toPlain, toTensors, type Param, type PlainParams } from './mixerParams.js';
import { softplusInverse } from '../math.js';
import {
  finite,
  finiteArray,
  fn,
  int,
  negative,
  nonEmptyArray,
  nonNegative,
  numberIn,
  positive,
  powerOfTwo,
} from '../validate.js';
import { configError, valueError } from '../errors.js';

interface S6Problem {
  d: number;
  T: number;
  params: Record<string, Param>;
  /** x̂ row-major [T, d]. */
  xhat: Float32Array;
  /** Channels that carry the signal. */
  signal: number[];
}

/** One S6 pass: y_T[c] and ∂y_T[c]/∂x̂_{s,c} for every signal channel c (Eq. 4 read at t = T). */
function runReadout(pr: S6Problem): { projections: Float64Array; bases: Float64Array[] } {
  const { d, T } = pr;
  const ctx: MixerContext = { d, N: 1, dtRank: 1, disc: 'identity', conv: false, skip: false };
  const P = toTensors(pr.params);
  const p = getter(P);
  const x = tf.tensor3d(pr.xhat, [1, T, d]);
  const mask = new Float32Array(T * d);
  for (const c of pr.signal) mask[(T - 1) * d + c] = 1;
  const m = tf.tensor3d(mask, [1, T, d]);
  try {
    const yT = tf.tidy(() => s6.forward(p, x, ctx, false).y.slice([0, T - 1, 0], [1, 1, d]));
    const g = tf.tidy(() => tf.grad((xx: Tensor) => s6.forward(p, xx, ctx, false).y.mul(m).sum())(x));
    const yv = yT.dataSync(),
      gv = g.dataSync();
    tf.dispose([yT, g]);
    return {
      projections: Float64Array.from(pr.signal, (c) => yv[c]),
      bases: pr.signal.map((c) => Float64Array.from({ length: T }, (_, s) => gv[s * d + c])),
    };
  } finally {
    tf.dispose([x, m, ...Object.values(P)]);
  }
}

/**
 * softplus⁻¹(Δ) as the layer's input: Δ = 0 (and Δ below ~1e−35) would give −∞ or a value past what
 * float32 softplus resolves, so it is clamped at −80 (softplus(−80) ≈ 2e−35, i.e. Δ ≈ 0 to float32).
 */
const deltaInput = (delta: number) => Math.max(-80, softplusInverse(delta));

/** The discrete Mamba basis read off a real S6 layer on L cells. */
export interface S6Basis {
  /** Right cell edges s_i = i·h, i = 1..L: the discrete basis at cell i approximates g^M(s_i). */
  s: Float64Array;
  /** ĝ(s_i) = ∂y_L/∂x̂_i from the S6 layer. */
  values: Float64Array;
  /** Number of cells (= sequence length). */
  L: number;
  /** The parameters the layer ran with (plain data). */
  params: PlainParams;
}

/**
 * The Mamba basis of Eq. 8 for a user-given Δ(·), realised by an S6 layer: the input carries
 * z_t = softplus⁻¹(Δ(τ_t)) in a channel that x_proj routes to the Δ path (dt_proj = 1, bias 0),
 * A = −λh, B_t = B, C_t = 1. Discrete Eq. 4 at T = L approximates g^M(ih; t, x) (midpoint rule).
 * @param delta - r ↦ Δ(x(r)) ≥ 0 on [0, t], sampled at the cell midpoints τ_i = (i − ½)h.
 * @param opts - L cells (an integer in [1, 65536]), read-out time t > 0, λ ≥ 0, B (defaults 1).
 * @throws ConfigError naming `delta` or `options.<field>`; ValueError when Δ(τ_i) < 0 or is not finite.
 * @example
 * ```ts
 * const b = theory.s6MambaBasis(() => 1, { L: 64 }); // Δ ≡ 1: b.values[i] ≈ e^{−(1 − s_i)}
 * ```
 */
export function s6MambaBasis(
  delta: DeltaFunction,
  opts: { L: number; t?: number; lambda?: number; B?: number },
): S6Basis {
  fn(delta, 'delta');
  const L = int(opts?.L, 'options.L', 1, 1 << 16);
  const t = positive(opts.t ?? 1, 'options.t'),
    lambda = nonNegative(opts.lambda ?? 1, 'options.lambda'),
    B = finite(opts.B ?? 1, 'options.B');
  const h = t / L;
  const z = Float64Array.from({ length: L }, (_, i) => {
    const v = delta((i + 0.5) * h);
    if (!(v >= 0) || !Number.isFinite(v))
      throw valueError('delta', 'Δ(r) finite and ≥ 0', `Δ(${(i + 0.5) * h}) = ${v}`);
    return deltaInput(v);
  });
  const params = {
    A_log: param([3, 1], () => Math.log(lambda * h)), // A = −λ_d = −λh  (−∞ ⇒ λ = 0)
    'x_proj.weight': param([3, 3], (i) => [0, 0, 1, 0, B, 0, 0, 1, 0][i]), // rows: dtLow = z, B_t = B·1, C_t = 1
    'dt_proj.weight': param([3, 1], (i) => (i === 0 ? 1 : 0)),
    'dt_proj.bias': param([3], () => 0),
  };
  const xhat = new Float32Array(L * 3);
  for (let i = 0; i < L; i++) xhat.set([0, 1, z[i]], i * 3);
  const r = runReadout({ d: 3, T: L, params, xhat, signal: [0] });
  return { s: Float64Array.from({ length: L }, (_, i) => (i + 1) * h), values: r.bases[0], L, params: toPlain(params) };
}

/** Shifted Heavisides H(s − t̂_c) realised by one S6 layer on L cells, one channel per t̂_c. */
export interface S6HeavisideBases {
  /** Number of cells. */
  L: number;
  /** w_Δ < 0 of Eq. 22. */
  wDelta: number;
  /** Jump locations t̂_c ∈ [0, 1]. */
  tHats: number[];
  /** bases[c][i] = ∂y_{L+1}[c]/∂x̂_{i,c} for cells i = 1..L: ≈ H(τ_i − t̂_c) for large |w_Δ|. */
  bases: Float64Array[];
  /** y_{L+1}[c] when the signal channels carry `signal` (= Σ_i ĝ_c(i)·signal_i): the layer's projections. */
  projections: Float64Array;
}

/** S6 parameters for K Heavisides at t̂_c on L cells (Thm 1 construction, Eq. 22, with time PE). */
function heavisideParams(tHats: number[], L: number, w: number): Record<string, Param> {
  const K = tHats.length,
    d = K + 2,
    one = K,
    time = K + 1;
  return {
    A_log: param([d, 1], () => -Math.log(L)), // λ_d = 1/L  ⇔  λ = 1 in continuous time
    // dtLow = τ_t = t/L − 1/(2L) from the time and constant channels; B_t = C_t = 1
    'x_proj.weight': param([3, d], (i) =>
      i === one ? -1 / (2 * L) : i === time ? 1 / L : i === d + one || i === 2 * d + one ? 1 : 0,
    ),
    'dt_proj.weight': param([d, 1], (c) => (c < K ? w : 0)),
    // b_Δ = −w_Δ(t̂ + 1/L): Eq. 22's bias, one step later (the state at s carries x_s undecayed)
    'dt_proj.bias': param([d], (c) => (c < K ? -w * (tHats[c] + 1 / L) : 0)),
  };
}

/**
 * Shifted Heavisides H(s − t̂_c) from one S6 layer on the grid of L cells (Thm 1 / Eq. 22 with
 * time PE): channel c has Δ_t = softplus(w_Δ τ_t + b_Δ,c). The layer is read one step after the
 * signal ends (x̂_{L+1} = 0), so that t̂ = 1 is representable too.
 * @param tHats - K jump locations in [0, 1].
 * @param opts - L cells (a power of two in [2, 8192]), w_Δ < 0, and an optional signal [L] whose projections
 *   Σ_i ĝ_c(i)·signal_i are returned.
 * @throws ConfigError naming `tHats[i]` or `options.<field>`; ValueError when the signal is not finite.
 */
export function s6HeavisideBases(
  tHats: number[],
  opts: { L: number; wDelta: number; signal?: ArrayLike<number> },
): S6HeavisideBases {
  nonEmptyArray(tHats, 'tHats', 'a non-empty array of jump locations in [0, 1]');
  tHats.forEach((t, i) => numberIn(t, `tHats[${i}]`, 0, 1));
  const L = powerOfTwo(opts?.L, 'options.L', 2, 1 << 13),
    w = negative(opts.wDelta, 'options.wDelta');
  const signal = opts.signal ?? new Float64Array(L);
  if (signal.length !== L) throw configError('options.signal', `${L} values (one per cell)`, `${signal.length}`);
  finiteArray(signal, 'options.signal');
  const K = tHats.length,
    d = K + 2,
    T = L + 1;
  const xhat = new Float32Array(T * d);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < K; c++) xhat[t * d + c] = t < L ? signal[t] : 0;
    xhat[t * d + K] = 1;
    xhat[t * d + K + 1] = t + 1;
  }
  const r = runReadout({
    d,
    T,
    params: heavisideParams(tHats, L, w),
    xhat,
    signal: Array.from({ length: K }, (_, c) => c),
  });
  return { L, wDelta: w, tHats: [...tHats], bases: r.bases.map((b) => b.slice(0, L)), projections: r.projections };
}
