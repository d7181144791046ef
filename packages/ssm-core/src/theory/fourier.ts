/**
 * Fourier bases — what an S4D layer can at best project onto (Sec. 4.1, Eq. 9 with
 * e^{−λ_n} → e^{i2πn/N}; App. A.2 Eq. 27) — and the best N-term Fourier approximation error
 * of a piecewise-constant target, exactly (Parseval, no truncation).
 *
 * Notation
 *   f_n(s) = e^{i2πns}, n ∈ ℤ       orthonormal on [0, 1]
 *   c_n = ⟨ρ, f_n⟩ = ∫_0^1 ρ(s) e^{−i2πns} ds,   |c_n| = O(n^{−1}) for discontinuous ρ   (27)
 *   N                              number of (complex) basis functions kept
 */
import type { PiecewiseConstant } from './piecewise.js';
import { piecewiseNormSquared } from './piecewise.js';
import { int } from '../validate.js';

/** |c_n|² for n = −M..M (index n + M), from the closed form Σ_p v_p (e^{−i2πn e_p} − e^{−i2πn e_{p+1}})/(i2πn). */
export function fourierCoefficients2(rho: PiecewiseConstant, M: number): Float64Array {
  int(M, 'M', 0, 1 << 20);
  const e = [0, ...rho.breaks, 1];
  const out = new Float64Array(2 * M + 1);
  for (let n = -M; n <= M; n++) {
    let re = 0,
      im = 0;
    for (let p = 0; p < rho.values.length; p++) {
      if (n === 0) {
        re += rho.values[p] * (e[p + 1] - e[p]);
        continue;
      }
      // ∫_{e_p}^{e_{p+1}} e^{−i2πns} ds = (sin θ₁ − sin θ₀)/(2πn) + i(cos θ₁ − cos θ₀)/(2πn),  θ = 2πn·e
      const t0 = 2 * Math.PI * n * e[p],
        t1 = 2 * Math.PI * n * e[p + 1];
      re += (rho.values[p] * (Math.sin(t1) - Math.sin(t0))) / (2 * Math.PI * n);
      im += (rho.values[p] * (Math.cos(t1) - Math.cos(t0))) / (2 * Math.PI * n);
    }
    out[n + M] = re * re + im * im;
  }
  return out;
}

/** Best N-term Fourier error² of ρ for N = 0..NMax (Eq. 27). */
export interface FourierBestNTerm {
  /** N = 0..NMax basis functions kept. */
  N: number[];
  /** ‖ρ − Σ_{kept} c_n f_n‖² = ‖ρ‖² − Σ_{kept}|c_n|² (Parseval), exact. */
  error2: number[];
}

/** Best N-term Fourier approximation: keep the N largest |c_n| among |n| ≤ M (M ≫ N). */
export function fourierBestNTerm(rho: PiecewiseConstant, NMax: number, M = 4096): FourierBestNTerm {
  int(NMax, 'NMax', 0, 2 * M + 1);
  const c2 = Array.from(fourierCoefficients2(rho, M)).sort((a, b) => b - a);
  const total = piecewiseNormSquared(rho);
  const N: number[] = [],
    error2: number[] = [];
  let kept = 0;
  for (let i = 0; i <= NMax; i++) {
    if (i > 0) kept += c2[i - 1];
    N.push(i);
    error2.push(Math.max(0, total - kept));
  }
  return { N, error2 };
}
