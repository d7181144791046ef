/**
 * src/math.ts against independent float64 formulas: softplus is torch's (log(1 + eˣ), the identity above
 * the threshold 20), softplusInverse undoes it, softplusGrad is its derivative, sigmoid and silu as defined.
 */
import { describe, expect, it } from 'vitest';
import { sigmoid, silu, softplus, softplusGrad, softplusInverse } from '../src/math.js';

/** Relative difference, with an absolute floor for values near 0. */
const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** log(1 + eˣ) by a different route than math.ts: max(x, 0) + log1p(e^{−|x|}). */
const softplusRef = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** Points from −50 to 50 avoiding [19.5, 20.5], where torch's threshold applies. */
const awayFromThreshold = Array.from({ length: 2001 }, (_, i) => -50 + i * 0.05).filter((x) => Math.abs(x - 20) > 0.5);

describe('softplus (torch.nn.functional.softplus, β = 1, threshold 20)', () => {
  it('equals the float64 log(1 + eˣ) below the threshold and x above it, to 1e−15 relative', () => {
    for (const x of awayFromThreshold) {
      const want = x > 20 ? x : softplusRef(x);
      expect(rel(softplus(x), want)).toBeLessThanOrEqual(1e-15);
    }
    // above the threshold the exact function differs from x by log1p(e^{−x}) < 2.1e−9
    for (const x of awayFromThreshold.filter((v) => v > 20)) expect(softplusRef(x) - softplus(x)).toBeLessThan(2.1e-9);
  });

  it('at the threshold: log1p(e^20) at x = 20 itself, x just above it (torch uses x > threshold)', () => {
    expect(softplus(20)).toBe(Math.log1p(Math.exp(20)));
    expect(softplus(20)).not.toBe(20);
    const above = 20 + 2 ** -48; // next doubles above 20
    expect(softplus(above)).toBe(above);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(-745)).toBeGreaterThan(0); // e^−745 is the smallest denormal
  });

  it('softplusInverse ∘ softplus = id on [1e−6, 50] (to 1e−9 relative)', () => {
    for (let e = -6; e <= Math.log10(50); e += 0.01) {
      const x = 10 ** e;
      expect(rel(softplusInverse(softplus(x)), x)).toBeLessThanOrEqual(1e-9);
    }
    expect(softplusInverse(softplus(50))).toBe(50);
    expect(softplusInverse(1)).toBeCloseTo(Math.log(Math.E - 1), 15);
    expect(softplusInverse(0)).toBe(-Infinity);
    expect(softplusInverse(-1)).toBeNaN();
  });

  it('softplusGrad equals central differences of softplus away from the threshold, and is 1 above it', () => {
    const h = 1e-5;
    for (const x of awayFromThreshold) {
      const fd = (softplus(x + h) - softplus(x - h)) / (2 * h);
      expect(Math.abs(softplusGrad(x) - fd)).toBeLessThanOrEqual(1e-9);
    }
    expect(softplusGrad(20 + 2 ** -48)).toBe(1);
    expect(softplusGrad(0)).toBe(0.5);
  });
});

describe('sigmoid and silu', () => {
  it('σ(x) = 1/(1 + e^{−x}) and silu(x) = x·σ(x), with σ(−x) = 1 − σ(x)', () => {
    for (const x of [-40, -3, -0.5, 0, 0.5, 3, 40]) {
      expect(rel(sigmoid(x), 1 / (1 + Math.exp(-x)))).toBeLessThanOrEqual(1e-15);
      expect(Math.abs(sigmoid(-x) - (1 - sigmoid(x)))).toBeLessThanOrEqual(1e-15);
      expect(Math.abs(silu(x) - x * sigmoid(x))).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(x)));
    }
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(1000)).toBe(1);
  });
});
