/**
 * Basis functions of a linear RNN seen as a time projection h(t) = ⟨g, x⟩ (Sec. 4.1), in
 * continuous time: the Mamba basis (Eq. 8) for any Δ(·), the S4D basis (Eq. 9), and the
 * Heaviside-shaped Mamba basis of the Thm 1 construction (App. A.2, Eq. 19–22).
 *
 * Notation (1-D input, one state component n, dropped from names)
 *   s ∈ [0, t]              the time the basis is evaluated at;  t  the read-out time (Thm 1: t = 1)
 *   Δ(x_r) ≥ 0              input-dependent step; passed as the function r ↦ Δ(x(r))
 *   λ ≥ 0, B                decay rate (Λ = −λ) and input weight
 *   g^M(s; t, x)   = B·exp(−λ ∫_s^t Δ(x_r) dr)                               (8)
 *   g^S4D(s; t)    = B·e^{−λ(t−s)}                                          (9)
 *   Δ(s) = softplus(w_Δ s + b_Δ),  b_Δ = −w_Δ t̂,  w_Δ → −∞  ⇒  g^M → B·H(s − t̂)   (21–22)
 */
import { valueError } from '../errors.js';
import { softplus } from '../math.js';
import { finite, finiteArray, fn, negative, nonNegative } from '../validate.js';
import { integralsToEnd } from './quadrature.js';

/** r ↦ Δ(x(r)) ≥ 0. */
export type DeltaFunction = (r: number) => number;

/** Read-out time and SSM constants of a basis function (Eq. 8, 9). */
export interface BasisOptions {
  /** Read-out time t (default 1). */
  t?: number;
  /** λ ≥ 0 (default 1). */
  lambda?: number;
  /** B (default 1). */
  B?: number;
  /** Points in (0, t) where Δ is not smooth; the quadrature splits there. */
  breakpoints?: number[];
}

/** softplus(z) = log(1 + e^z) (torch's, z for z > 20; see math.ts): the Δ of Eq. 21–22. */
export { softplus };

/** Finite points sorted ascending, with their original indices. */
const sorted = (s: ArrayLike<number>) => {
  finiteArray(s, 's');
  const idx = Array.from({ length: s.length }, (_, i) => i).sort((a, b) => s[a] - s[b]);
  return { idx, pts: idx.map((i) => s[i]) };
};

/**
 * The Mamba basis g^M(s; t, x) = B·exp(−λ∫_s^t Δ(x_r) dr) (Eq. 8), by adaptive Gauss–Legendre quadrature.
 * @param delta - r ↦ Δ(x(r)) ≥ 0, finite on [min s, t].
 * @param s - evaluation times s ≤ t (any order; the result keeps it).
 * @returns g^M(s_i) for each s_i, float64.
 * @throws ConfigError naming `delta` or `options.<field>`; ValueError when Δ(r) < 0, non-finite, or s_i > t.
 * @example
 * ```ts
 * // Δ ≡ 1 gives the S4D basis B·e^{−λ(t−s)}:
 * theory.mambaBasis(() => 1, [0, 0.5, 1], { lambda: 2 }); // [e^{−2}, e^{−1}, 1]
 * ```
 */
export function mambaBasis(delta: DeltaFunction, s: ArrayLike<number>, opts: BasisOptions = {}): Float64Array {
  fn(delta, 'delta');
  const t = finite(opts.t ?? 1, 'options.t'),
    lambda = nonNegative(opts.lambda ?? 1, 'options.lambda'),
    B = finite(opts.B ?? 1, 'options.B');
  const { idx, pts } = sorted(s);
  const checked = (r: number) => {
    const v = delta(r);
    if (!(v >= 0) || !Number.isFinite(v)) throw valueError('delta', 'Δ(r) finite and ≥ 0', `Δ(${r}) = ${v}`);
    return v;
  };
  const I = integralsToEnd(checked, pts, t, opts.breakpoints ?? []);
  const out = new Float64Array(s.length);
  idx.forEach((orig, i) => (out[orig] = B * Math.exp(-lambda * I[i])));
  return out;
}

/** g^S4D(s; t) = B·e^{−λ(t−s)}  (Eq. 9; the Mamba basis with Δ ≡ 1). */
export function s4dBasis(s: ArrayLike<number>, opts: Omit<BasisOptions, 'breakpoints'> = {}): Float64Array {
  const t = finite(opts.t ?? 1, 'options.t'),
    lambda = nonNegative(opts.lambda ?? 1, 'options.lambda'),
    B = finite(opts.B ?? 1, 'options.B');
  return Float64Array.from(s, (x) => B * Math.exp(-lambda * (t - x)));
}

/** Δ(s) = softplus(w_Δ s + b_Δ) with b_Δ = −w_Δ t̂: ∞ before t̂, 0 after, as w_Δ → −∞  (Eq. 21–22). */
export function heavisideDelta(tHat: number, w: number): DeltaFunction {
  finite(tHat, 'tHat');
  negative(w, 'wDelta');
  return (r) => softplus(w * (r - tHat));
}

/** g^M(s; 1, x̃) with λ = 1 and Δ of (22): → B·H(s − t̂) as w_Δ → −∞  (Eq. 22). */
export function heavisideBasis(tHat: number, w: number, s: ArrayLike<number>, B = 1): Float64Array {
  const bp = tHat > 0 && tHat < 1 ? [tHat] : [];
  return mambaBasis(heavisideDelta(tHat, w), s, { t: 1, lambda: 1, B, breakpoints: bp });
}
