/**
 * Piecewise-constant targets ρ on [0, 1] (Cor. 1, App. A.2 Eq. 25–31): exact integrals,
 * norms and cell averages, so every approximation error in this module is computed exactly
 * rather than on a sampling grid.
 *
 * Notation
 *   m                   number of discontinuities (Cor. 1), 0 < b_1 < … < b_m < 1 = `breaks`
 *   v_0 … v_m           the value on each piece [0, b_1), [b_1, b_2), …, [b_m, 1] = `values`
 *   L                   number of cells of a grid, cell i = [(i−1)/L, i/L), i = 1..L
 *   ρ̄_i                 the average of ρ over cell i (what a discrete layer is fed)
 */
import type { Rng } from '../random.js';
import { configError, valueError } from '../errors.js';
import { finiteArray, int } from '../validate.js';

/** ρ on [0, 1]: value v_p on the piece [b_p, b_{p+1}) (Cor. 1's targets). */
export interface PiecewiseConstant {
  /** Interior discontinuities, strictly increasing in (0, 1); m = breaks.length. */
  breaks: number[];
  /** m + 1 values, one per piece. */
  values: number[];
}

/**
 * A validated copy of ρ with `breaks` strictly increasing in (0, 1) and one finite value per piece.
 * @throws ConfigError / ValueError naming `<name>.breaks` or `<name>.values`.
 */
export function piecewiseConstant(breaks: number[], values: number[], name = 'rho'): PiecewiseConstant {
  if (!Array.isArray(breaks) || !Array.isArray(values))
    throw configError(name, '{ breaks: number[], values: number[] }', typeof breaks);
  if (values.length !== breaks.length + 1)
    throw configError(`${name}.values`, `${breaks.length + 1} values (one per piece)`, `${values.length}`);
  finiteArray(breaks, `${name}.breaks`);
  finiteArray(values, `${name}.values`);
  breaks.forEach((b, i) => {
    if (!(b > (i === 0 ? 0 : breaks[i - 1]) && b < 1))
      throw valueError(`${name}.breaks`, 'strictly increasing values in (0, 1)', `${b} at index ${i}`);
  });
  return { breaks: [...breaks], values: [...values] };
}

/** A random ρ with exactly m discontinuities: uniform breaks, jumps of size U(0.5, 1.5) with random sign. */
export function randomPiecewiseConstant(m: number, rng: Rng): PiecewiseConstant {
  int(m, 'm', 1, 1000);
  const breaks = Array.from({ length: m }, () => rng.range(0.001, 0.999)).sort((a, b) => a - b);
  for (let i = 1; i < m; i++) if (breaks[i] <= breaks[i - 1]) breaks[i] = breaks[i - 1] + 1e-6;
  const values = [rng.normal()];
  for (let i = 0; i < m; i++) values.push(values[i] + (rng.uniform() < 0.5 ? -1 : 1) * rng.range(0.5, 1.5));
  return piecewiseConstant(breaks, values);
}

/** Piece boundaries 0 = e_0 < e_1 < … < e_{m+1} = 1. */
const edges = (rho: PiecewiseConstant) => [0, ...rho.breaks, 1];

/** ρ(s), right-continuous at the breaks. */
export function evaluatePiecewise(rho: PiecewiseConstant, s: number): number {
  let i = 0;
  while (i < rho.breaks.length && s >= rho.breaks[i]) i++;
  return rho.values[i];
}

/** ∫_a^b ρ(s) ds for 0 ≤ a ≤ b ≤ 1, summed piece by piece (lengths are differences of nearby numbers: exact). */
export function integratePiecewise(rho: PiecewiseConstant, a: number, b: number): number {
  const e = edges(rho);
  let sum = 0;
  for (let i = 0; i < rho.values.length; i++) {
    const len = Math.min(b, e[i + 1]) - Math.max(a, e[i]);
    if (len > 0) sum += rho.values[i] * len;
  }
  return sum;
}

/** ‖ρ‖²_{L²[0,1]}. */
export function piecewiseNormSquared(rho: PiecewiseConstant): number {
  const e = edges(rho);
  return rho.values.reduce((s, v, i) => s + v * v * (e[i + 1] - e[i]), 0);
}

/** Cell averages ρ̄_i (i = 1..L) and Σ_i ∫_cell (ρ − ρ̄_i)², the part of ‖ρ‖² no cell-constant function can capture. */
export function cellAverages(rho: PiecewiseConstant, L: number): { averages: Float64Array; withinCellError2: number } {
  int(L, 'L', 1);
  const e = edges(rho);
  const averages = new Float64Array(L);
  let within = 0;
  let piece = 0;
  for (let i = 0; i < L; i++) {
    const a = i / L,
      b = (i + 1) / L;
    while (e[piece + 1] <= a) piece++;
    const parts: [number, number][] = [];
    for (let p = piece; p < rho.values.length && e[p] < b; p++)
      parts.push([Math.min(b, e[p + 1]) - Math.max(a, e[p]), rho.values[p]]);
    const mean = parts.reduce((s, [len, v]) => s + len * v, 0) * L;
    averages[i] = mean;
    for (const [len, v] of parts) within += len * (v - mean) ** 2;
  }
  return { averages, withinCellError2: within };
}
