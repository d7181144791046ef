/**
 * Haar wavelets on [0, 1] (Eq. 10, 16–17), their split into three shifted Heavisides
 * (Eq. 18), exact Haar coefficients of piecewise-constant targets, and the best n-term Haar
 * approximation error used in the proof of Cor. 1 (Eq. 28–31).
 *
 * Notation
 *   j ≥ 0, k = 0..2^j − 1     scale and translation; support [2^{−j}k, 2^{−j}(k+1))
 *   ψ_{j,k}(s) = 2^{j/2} ψ(2^j s − k),  ψ = 1_[0,½) − 1_[½,1)            (10)
 *   φ(s) = 1                  the scaling function (the mean; Eq. 28 leaves it implicit)
 *   H(s) = 1_{s ≥ 0}           right-continuous Heaviside, so (18) equals (16)–(17) at every s
 *   c_{j,k} = ⟨ρ, ψ_{j,k}⟩      Haar coefficient;   n  number of wavelets kept
 */
import { integratePiecewise, piecewiseNormSquared, type PiecewiseConstant } from './piecewise.js';
import { int } from '../validate.js';

/** H(s) = 1 for s ≥ 0, else 0 (right-continuous; see the module note). */
export const heaviside = (s: number): number => (s >= 0 ? 1 : 0);

/** j ≥ 0 and 0 ≤ k < 2^j (Eq. 10), else a ConfigError naming j or k. */
function checkJK(j: number, k: number): void {
  int(j, 'j', 0, 52);
  int(k, 'k', 0, 2 ** j - 1, `an integer in [0, 2^j − 1] = [0, ${2 ** j - 1}]`);
}

/** ψ_{j,k}(s) on [0, 1] (Eq. 16–17). */
export function haarWavelet(j: number, k: number, s: number): number {
  checkJK(j, k);
  const a = k / 2 ** j,
    mid = a + 2 ** -(j + 1),
    e = (k + 1) / 2 ** j;
  if (s < a || s >= e) return 0;
  return (s < mid ? 1 : -1) * 2 ** (j / 2);
}

/** One term c·H(s − t̂) of Eq. 18. */
export interface HeavisideTerm {
  /** Jump location t̂ of H(s − t̂). */
  tHat: number;
  /** Coefficient of H(s − t̂) in ψ_{j,k}. */
  coef: number;
}

/** ψ_{j,k} = 2^{j/2}[H(s − 2^{−j}k) − 2H(s − 2^{−j}k − 2^{−(j+1)}) + H(s − 2^{−j}(k+1))]  (Eq. 18). */
export function haarHeavisideTerms(j: number, k: number): [HeavisideTerm, HeavisideTerm, HeavisideTerm] {
  checkJK(j, k);
  const a = k / 2 ** j,
    s = 2 ** (j / 2);
  return [
    { tHat: a, coef: s },
    { tHat: a + 2 ** -(j + 1), coef: -2 * s },
    { tHat: (k + 1) / 2 ** j, coef: s },
  ];
}

/** ⟨ρ, ψ_{j,k}⟩, exactly (differences of nearby numbers only). */
export function haarCoefficient(rho: PiecewiseConstant, j: number, k: number): number {
  checkJK(j, k);
  const a = k / 2 ** j,
    mid = a + 2 ** -(j + 1),
    e = (k + 1) / 2 ** j;
  return 2 ** (j / 2) * (integratePiecewise(rho, a, mid) - integratePiecewise(rho, mid, e));
}

/** A Haar coefficient c_{j,k} = ⟨ρ, ψ_{j,k}⟩ with its scale j and translation k. */
export interface HaarTerm {
  /** Scale j of ψ_{j,k}. */
  j: number;
  /** Shift k (0 ≤ k < 2^j). */
  k: number;
  /** The coefficient ⟨f, ψ_{j,k}⟩. */
  coef: number;
}

/**
 * All Haar coefficients of ρ that can be non-zero up to scale `maxScale`: only a wavelet whose
 * support holds a break has one (Eq. 29–30), so there are at most m per scale.
 */
export function haarCandidates(rho: PiecewiseConstant, maxScale = 48): HaarTerm[] {
  int(maxScale, 'maxScale', 0, 50);
  const out: HaarTerm[] = [];
  for (let j = 0; j <= maxScale; j++) {
    const ks = new Set(rho.breaks.map((b) => Math.floor(b * 2 ** j)));
    for (const k of ks) {
      const coef = haarCoefficient(rho, j, k);
      if (coef !== 0) out.push({ j, k, coef });
    }
  }
  return out;
}

/** Best n-term Haar error² of ρ for n = 0..nMax (Eq. 28). */
export interface HaarBestNTerm {
  /** n = 0..nMax wavelets kept (the scaling function φ is always kept). */
  n: number[];
  /** ‖ρ − ⟨ρ,φ⟩φ − Σ_{kept} c_{j,k} ψ_{j,k}‖²_{L²}, exact. */
  error2: number[];
  /** The wavelets in the order they are added (largest |c_{j,k}| first). */
  order: HaarTerm[];
}

/** Best n-term Haar approximation (Eq. 28): keep the n largest |c_{j,k}|; error² = energy left over. */
export function haarBestNTerm(rho: PiecewiseConstant, nMax: number): HaarBestNTerm {
  int(nMax, 'nMax', 0, 2000);
  const cands = haarCandidates(rho).sort((x, y) => Math.abs(y.coef) - Math.abs(x.coef));
  const mean = integratePiecewise(rho, 0, 1);
  const waveletEnergy = piecewiseNormSquared(rho) - mean * mean;
  const listed = cands.reduce((s, c) => s + c.coef * c.coef, 0);
  // energy beyond scale 48: ≤ m·2^{−49}·max jump², taken exactly as what Parseval leaves over
  const beyond = Math.max(0, waveletEnergy - listed);
  const n: number[] = [],
    error2: number[] = [];
  let left = listed;
  for (let i = 0; i <= nMax; i++) {
    if (i > 0 && i <= cands.length) left = cands.slice(i).reduce((s, c) => s + c.coef * c.coef, 0);
    n.push(i);
    error2.push((i <= cands.length ? left : 0) + beyond);
  }
  return { n, error2, order: cands.slice(0, nMax) };
}
