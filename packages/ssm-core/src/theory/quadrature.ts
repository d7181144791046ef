/**
 * Adaptive Gauss–Legendre quadrature for ∫ Δ(x_r) dr in the Mamba basis function (Eq. 8),
 * accurate even when Δ has a kink of width 1/|w_Δ| (the Heaviside construction, Eq. 22).
 *
 * Notation
 *   f          integrand (finite on the interval)
 *   [a, b]     interval;  breakpoints  points where f is not smooth (always split there)
 *   I(s)       ∫_s^t f(r) dr on a sorted list of points s ≤ t (cumulative from the right)
 */
import { valueError } from '../errors.js';

// 10-point Gauss–Legendre nodes and weights on [−1, 1] (positive half; symmetric)
const X = [0.1488743389816312, 0.4333953941292472, 0.6794095682990244, 0.8650633666889845, 0.9739065285171717];
const W = [0.2955242247147529, 0.2692667193099963, 0.219086362515982, 0.1494513491505806, 0.0666713443086881];

/** 10-point Gauss–Legendre rule on [a, b]. */
function gl10(f: (r: number) => number, a: number, b: number): number {
  const c = (a + b) / 2,
    h = (b - a) / 2;
  let s = 0;
  for (let i = 0; i < 5; i++) s += W[i] * (f(c - h * X[i]) + f(c + h * X[i]));
  return s * h;
}

/** Recursive bisection until the two halves agree with the whole. */
function adaptive(f: (r: number) => number, a: number, b: number, whole: number, tol: number, depth: number): number {
  const m = (a + b) / 2;
  const l = gl10(f, a, m),
    r = gl10(f, m, b);
  if (depth >= 40 || Math.abs(l + r - whole) <= Math.max(tol, 1e-14 * Math.abs(l + r))) return l + r;
  return adaptive(f, a, m, l, tol / 2, depth + 1) + adaptive(f, m, b, r, tol / 2, depth + 1);
}

/** ∫_a^b f(r) dr, split at `breakpoints` in (a, b), to absolute accuracy ≈ tol (or 1e-14 relative). */
export function integrate(
  f: (r: number) => number,
  a: number,
  b: number,
  breakpoints: number[] = [],
  tol = 1e-13,
): number {
  const cuts = [a, ...breakpoints.filter((p) => p > a && p < b).sort((x, y) => x - y), b];
  let sum = 0;
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [lo, hi] = [cuts[i], cuts[i + 1]];
    const v = adaptive(f, lo, hi, gl10(f, lo, hi), tol, 0);
    if (!Number.isFinite(v))
      throw valueError(
        'delta',
        'a function that is finite on the integration interval',
        `∫ over [${lo}, ${hi}] = ${v}`,
      );
    sum += v;
  }
  return sum;
}

/** I(s_i) = ∫_{s_i}^{t} f(r) dr for sorted points s_0 ≤ … ≤ s_{M−1} ≤ t (one pass from the right). */
export function integralsToEnd(
  f: (r: number) => number,
  points: ArrayLike<number>,
  t: number,
  breakpoints: number[] = [],
): Float64Array {
  const out = new Float64Array(points.length);
  let acc = 0,
    right = t;
  for (let i = points.length - 1; i >= 0; i--) {
    if (i + 1 < points.length && points[i] > points[i + 1])
      throw valueError('s', 'points sorted ascending', `${points[i]} before ${points[i + 1]}`);
    if (points[i] > t) throw valueError('s', `points ≤ t = ${t}`, String(points[i]));
    acc += integrate(f, points[i], right, breakpoints);
    out[i] = acc;
    right = points[i];
  }
  return out;
}
