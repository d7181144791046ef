/**
 * Theorem 1 made executable: three Mamba basis functions g1, g2, g3 (Eq. 22 with
 * t̂ ∈ {2^{−j}k, 2^{−j}k + 2^{−(j+1)}, 2^{−j}(k+1)}, B = 2^{j/2}, λ = 1) combine into
 * g1 − 2g2 + g3 → ψ_{j,k} (Eq. 18, 23), and the error as a function of w_Δ.
 *
 * Notation
 *   ψ̂_{j,k}(s) = g1(s) − 2g2(s) + g3(s)          the construction (Thm 1)
 *   e(s) = |ψ_{j,k}(s) − ψ̂_{j,k}(s)|
 *   δ(w) = min(1, √(2 ln max(|w|, e) / |w|))    width of the layer left of each jump where e is O(1)
 *   Exact bounds (softplus(z) ≥ z left of t̂, ≤ e^{z} right of it), for every s outside ∪[t̂_i − δ, t̂_i):
 *     e(s) ≤ Σ_i |c_i|·2^{j/2}/|w| = 4·2^{j/2}/|w|                      (c = 1, −2, 1)
 *   A continuous ψ̂ cannot approach the discontinuous ψ uniformly on all of [0, 1]: the
 *   sup over [0, 1] stays ≈ 2^{j/2}; Thm 1's "∀s" holds off the shrinking layers (and in L²).
 */
import { heavisideBasis } from './bases.js';
import { haarHeavisideTerms, haarWavelet } from './haar.js';
import { int, negative, nonEmptyArray, powerOfTwo } from '../validate.js';

/** ψ̂_{j,k}(s) = g1 − 2g2 + g3 at the points s, each g from (22) with B = 2^{j/2}  (Thm 1, Eq. 23). */
export function mambaHaarWavelet(j: number, k: number, w: number, s: ArrayLike<number>): Float64Array {
  const out = new Float64Array(s.length);
  for (const { tHat, coef } of haarHeavisideTerms(j, k)) {
    const g = heavisideBasis(tHat, negative(w, 'wDelta'), s, 2 ** (j / 2)); // B_{j,k} = 2^{j/2}
    const c = coef / 2 ** (j / 2); // 1, −2, 1
    for (let i = 0; i < s.length; i++) out[i] += c * g[i];
  }
  return out;
}

/** δ(w) = min(1, √(2 ln max(|w|, e)/|w|)): outside [t̂ − δ, t̂) every g_i is within 2^{j/2}/|w| of 2^{j/2}H. */
export const transitionWidth = (w: number): number => Math.min(1, Math.sqrt((2 * Math.log(Math.max(-w, Math.E))) / -w));

/** Thm. 1's approximation error of ψ_{j,k} by three Mamba bases, per w_Δ. */
export interface Theorem1Report {
  /** Scale j of the wavelet ψ_{j,k} built. */
  j: number;
  /** Shift k. */
  k: number;
  /** The w_Δ < 0 evaluated; every array below has one entry per w_Δ. */
  wDelta: number[];
  /** sup of |ψ − ψ̂| over the evaluation points outside ∪_i [t̂_i − δ(w), t̂_i): → 0 like 1/|w|. */
  supError: number[];
  /** 4·2^{j/2}/|w|: the proven bound on supError. */
  bound: number[];
  /** δ(w), the width excluded left of each of the three jumps. */
  layerWidth: number[];
  /** ‖ψ − ψ̂‖_{L²[0,1]} (cellwise trapezoid; ψ is constant on every cell): → 0 like |w|^{−1/4}. */
  l2Error: number[];
  /** sup over all evaluation points: stays ≈ 2^{j/2} (a continuous function cannot match a jump). */
  supErrorAll: number[];
  /** Number of evaluation points (a dyadic grid plus the layer edges). */
  points: number;
}

/** Dyadic grid plus the layer edges t̂_i − δ(w) (where the bound is tight). */
function evaluationPoints(j: number, k: number, w: number, grid: number): number[] {
  const pts = new Set<number>();
  for (let i = 0; i <= grid; i++) pts.add(i / grid);
  for (const { tHat } of haarHeavisideTerms(j, k))
    if (tHat - transitionWidth(w) > 0) pts.add(tHat - transitionWidth(w));
  return [...pts].sort((a, b) => a - b);
}

/** sup off the layers, sup everywhere and L² error of ψ − ψ̂ at one w_Δ  (Eq. 23). */
function errorsAt(j: number, k: number, w: number, grid: number) {
  const s = evaluationPoints(j, k, w, grid);
  const approx = mambaHaarWavelet(j, k, w, s);
  const jumps = haarHeavisideTerms(j, k).map((h) => h.tHat);
  const delta = transitionWidth(w);
  let sup = 0,
    supAll = 0,
    l2 = 0;
  for (let i = 0; i < s.length; i++) {
    const e = Math.abs(haarWavelet(j, k, s[i]) - approx[i]);
    supAll = Math.max(supAll, e);
    if (!jumps.some((t) => s[i] >= t - delta && s[i] < t)) sup = Math.max(sup, e);
    if (i + 1 < s.length) {
      const psi = haarWavelet(j, k, (s[i] + s[i + 1]) / 2); // constant on the cell
      l2 += ((s[i + 1] - s[i]) * ((psi - approx[i]) ** 2 + (psi - approx[i + 1]) ** 2)) / 2;
    }
  }
  return { sup, supAll, l2: Math.sqrt(l2), points: s.length };
}

/**
 * Thm. 1 (Eq. 18, 22–23): the error of ψ̂_{j,k} = g1 − 2g2 + g3 against ψ_{j,k} as a function of w_Δ, on a dyadic
 * grid of `grid` cells (default max(4096, 2^{j+3})): sup off the transition layers (→ 0 like 1/|w|, under the bound
 * 4·2^{j/2}/|w|), sup everywhere, and L².
 * @param j - scale, an integer in [0, 12]; k - translation in [0, 2^j − 1].
 * @param wDeltas - w_Δ values, each finite and negative.
 * @throws ConfigError naming `j`, `k`, `wDeltas[i]` or `grid`.
 * @example
 * ```ts
 * const r = theory.theorem1Errors(1, 0, [-1e2, -1e4]);
 * r.supError; // each ≤ r.bound = 4·√2/|w|
 * ```
 */
export function theorem1Errors(j: number, k: number, wDeltas: number[], grid?: number): Theorem1Report {
  int(j, 'j', 0, 12);
  nonEmptyArray(wDeltas, 'wDeltas', 'a non-empty array of finite negative numbers');
  wDeltas.forEach((w, i) => negative(w, `wDeltas[${i}]`));
  const G = powerOfTwo(grid ?? Math.max(4096, 2 ** (j + 3)), 'grid', 2 ** (j + 1), 1 << 16);
  const r: Theorem1Report = {
    j,
    k,
    wDelta: [...wDeltas],
    supError: [],
    bound: [],
    layerWidth: [],
    l2Error: [],
    supErrorAll: [],
    points: 0,
  };
  for (const w of wDeltas) {
    const e = errorsAt(j, k, w, G);
    r.supError.push(e.sup);
    r.bound.push((4 * 2 ** (j / 2)) / -w);
    r.layerWidth.push(transitionWidth(w));
    r.l2Error.push(e.l2);
    r.supErrorAll.push(e.supAll);
    r.points = e.points;
  }
  return r;
}
