/**
 * The Johnson–Lindenstrauss embedding of App. C.1, Lem. 4 (paper l. 2952–3043): a random matrix
 * M ∈ R^{p×n} with i.i.d. entries (1/√p)·Unif{±1}, so that the images M e_1 … M e_n of the standard
 * basis are almost orthogonal, |⟨M e_i, M e_j⟩| ≤ ε for i ≠ j, once p = ⌈4 ε⁻² ln(n/δ)⌉ (proof of
 * Lem. 4: failure probability < δ², eq. (51)).
 *
 * Shapes: M is row-major [p, n]; column j (= M e_j) is the embedding of item j.
 */
import { Rng } from '../random.js';

/** Lem. 4's M ∈ R^{p×n}, entries ±1/√p drawn from Rng(seed). Row-major [p, n]. */
export function jlMatrix(p: number, n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const s = 1 / Math.sqrt(p);
  const M = new Float32Array(p * n);
  for (let i = 0; i < M.length; i++) M[i] = rng.uint32() >>> 31 ? s : -s;
  return M;
}

/** Column j of a row-major [p, n] matrix. */
export function jlColumn(M: Float32Array, p: number, n: number, j: number): Float64Array {
  const v = new Float64Array(p);
  for (let r = 0; r < p; r++) v[r] = M[r * n + j];
  return v;
}

/** Gram matrix G[i, j] = ⟨M e_i, M e_j⟩, [n, n] row-major (float64). */
export function jlGram(M: Float32Array, p: number, n: number): Float64Array {
  const G = new Float64Array(n * n);
  for (let r = 0; r < p; r++) {
    const row = M.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) {
      const a = row[i];
      for (let j = i; j < n; j++) G[i * n + j] += a * row[j];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) G[i * n + j] = G[j * n + i];
  return G;
}

/** Largest n for which ε(M) is measured (the pairwise scan is O(n²p)); above it ε is reported as NaN. */
export const JL_EPSILON_MAX_N = 8192;

/** ε(M) = max_{i≠j} |⟨M e_i, M e_j⟩| (eq. (48)) and the largest signed ⟨M e_i, M e_j⟩ (< 1 iff no two codes coincide). */
export function jlCoherence(M: Float32Array, p: number, n: number): { epsilon: number; maxInner: number } {
  if (n > JL_EPSILON_MAX_N) return { epsilon: NaN, maxInner: NaN };
  const cols = new Float64Array(n * p); // [n, p]: column j contiguous
  for (let r = 0; r < p; r++) for (let j = 0; j < n; j++) cols[j * p + r] = M[r * n + j];
  let eps = 0;
  let maxInner = n > 1 ? -Infinity : 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let g = 0;
      for (let r = 0; r < p; r++) g += cols[i * p + r] * cols[j * p + r];
      if (Math.abs(g) > eps) eps = Math.abs(g);
      if (g > maxInner) maxInner = g;
    }
  }
  return { epsilon: eps, maxInner };
}

/** ε(M) = max_{i≠j} |⟨M e_i, M e_j⟩| (0 when n = 1): the almost-orthogonality of Lem. 4, eq. (48). */
export const jlEpsilon = (M: Float32Array, p: number, n: number): number => jlCoherence(M, p, n).epsilon;

/** Lem. 4's dimension p = ⌈4 ε⁻² ln(n/δ)⌉ for n vectors (defaults ε = ½, δ = ½: the lemma's ε < ½). */
export function jlLemmaDim(n: number, epsilon = 0.5, delta = 0.5): number {
  return Math.max(1, Math.ceil((4 / (epsilon * epsilon)) * Math.log(Math.max(n, 2) / delta)));
}
