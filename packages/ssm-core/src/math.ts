/**
 * Scalar functions shared by kernels, references, theory and constructions, in float64.
 *
 * softplus follows torch.nn.functional.softplus (β = 1, threshold 20): x for x > 20, else log(1 + eˣ),
 * so that every mixer (Eq. 14c, 15) behaves as in mamba_ssm. The continuous-time bases of Sec. 4 use the
 * same function: above the threshold it differs from the exact log(1 + eˣ) by log1p(e^{−x}) < 2.1·10⁻⁹
 * (relative < 10⁻¹⁰), which changes ∫ softplus(w_Δ(r − t̂)) dr of Eq. 8, 22 by ≤ 2·10⁻¹⁴ relative.
 */

/** torch's softplus: x for x > 20, else log1p(eˣ). */
export const softplus = (x: number): number => (x > 20 ? x : Math.log1p(Math.exp(x)));

/** d softplus / dx with torch's threshold: 1 for x > 20, else σ(x). */
export const softplusGrad = (x: number): number => (x > 20 ? 1 : 1 / (1 + Math.exp(-x)));

/**
 * The inverse of torch's softplus for y > 0: y + log(1 − e^{−y}) = log(eʸ − 1), and y itself above the
 * threshold 20 (where softplus is the identity). softplusInverse(0) = −∞; negative y gives NaN.
 */
export const softplusInverse = (y: number): number => (y > 20 ? y : y + Math.log(-Math.expm1(-y)));

/** σ(x) = 1 / (1 + e^{−x}). */
export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** silu(x) = x·σ(x). */
export const silu = (x: number): number => x / (1 + Math.exp(-x));
