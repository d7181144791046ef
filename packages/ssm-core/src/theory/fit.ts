/**
 * Rate fits for the theory tables: least-squares lines through transformed data.
 *
 * Notation: x the abscissa (t − j, N, …), v > 0 the measured quantity (sensitivity, error²).
 *   exponential  v ≈ c·e^{−r x}      → r = −slope of ln v on x        (Lem. 1: r = λ_n·mean Δ)
 *   base-2       v ≈ c·2^{−r x}      → r = −slope of log₂ v on x      (Cor. 1 Mamba: r = 1/(3m))
 *   power law    v ≈ c·x^{p}         → p =  slope of ln v on ln x     (Cor. 1 S4D: p = −1; Eq. 45: p = −1)
 * Points with v ≤ 0 or non-finite v are dropped (underflow to 0 in float32 is common at large t − j).
 */
import { valueError } from '../errors.js';

/** A least-squares line y ≈ slope·x + intercept in the transformed coordinates. */
export interface LineFit {
  /** Slope of the least-squares line. */
  slope: number;
  /** Its intercept. */
  intercept: number;
  /** Number of points used. */
  points: number;
  /** Coefficient of determination of the line in the transformed coordinates. */
  r2: number;
}

/** Ordinary least squares y ≈ slope·x + intercept (needs ≥ 2 distinct x). */
export function fitLine(x: ArrayLike<number>, y: ArrayLike<number>, what = 'fitLine'): LineFit {
  const n = Math.min(x.length, y.length);
  let sx = 0,
    sy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
  }
  const mx = sx / n,
    my = sy / n;
  let sxx = 0,
    sxy = 0,
    syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    sxy += (x[i] - mx) * (y[i] - my);
    syy += (y[i] - my) ** 2;
  }
  if (n < 2 || !(sxx > 0)) throw valueError(what, 'at least 2 usable points with distinct abscissae', `${n} point(s)`);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, points: n, r2: syy > 0 ? (sxy * sxy) / (sxx * syy) : 1 };
}

/** Transformed (x, v) pairs, dropping v ≤ 0 and non-finite values. */
function usable(x: ArrayLike<number>, v: ArrayLike<number>, tx: (a: number) => number, tv: (a: number) => number) {
  const xs: number[] = [],
    ys: number[] = [];
  for (let i = 0; i < Math.min(x.length, v.length); i++) {
    if (v[i] > 0 && Number.isFinite(v[i]) && Number.isFinite(tx(x[i]))) {
      xs.push(tx(x[i]));
      ys.push(tv(v[i]));
    }
  }
  return { xs, ys };
}

/** v ≈ c·e^{−rate·x}: returns rate (Lem. 1's exponent per step). */
export function fitExponentialRate(x: ArrayLike<number>, v: ArrayLike<number>): LineFit & { rate: number } {
  const { xs, ys } = usable(x, v, (a) => a, Math.log);
  const f = fitLine(xs, ys, 'fitExponentialRate');
  return { ...f, rate: -f.slope };
}

/** v ≈ c·2^{−rate·x}: returns rate (Cor. 1's exponent per basis function). */
export function fitBase2Rate(x: ArrayLike<number>, v: ArrayLike<number>): LineFit & { rate: number } {
  const { xs, ys } = usable(x, v, (a) => a, Math.log2);
  const f = fitLine(xs, ys, 'fitBase2Rate');
  return { ...f, rate: -f.slope };
}

/** v ≈ c·x^{exponent} (x > 0): returns exponent. */
export function fitPowerLaw(x: ArrayLike<number>, v: ArrayLike<number>): LineFit & { exponent: number } {
  const { xs, ys } = usable(x, v, (a) => (a > 0 ? Math.log(a) : NaN), Math.log);
  const f = fitLine(xs, ys, 'fitPowerLaw');
  return { ...f, exponent: f.slope };
}
