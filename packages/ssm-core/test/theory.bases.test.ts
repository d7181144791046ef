/**
 * theory — bases: Haar wavelets (Eq. 10, 16–18), the Mamba basis by quadrature (Eq. 8) against
 * closed forms (constant, linear and softplus Δ; the last through the dilogarithm), Thm 1's
 * construction error against its proven bound, Prop. 1 on the real MambaModel, and the bases
 * realised by the real S6 mixer against the continuous ones and against exact Heavisides.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, ValueError, ready, tf } from '../src/index.js';
import {
  haarHeavisideTerms,
  haarWavelet,
  heaviside,
  heavisideBasis,
  mambaBasis,
  mambaHaarWavelet,
  recoverAbsoluteTime,
  s4dBasis,
  s6HaarDictionary,
  s6HeavisideBases,
  s6MambaBasis,
  theorem1Errors,
  transitionWidth,
} from '../src/theory/index.js';

beforeAll(async () => {
  await ready();
});

/** Li₂(z) for z ∈ [−1, 1] (series on |z| ≤ ½, reflection/duplication otherwise). */
function li2(z: number): number {
  if (z < 0) return 0.5 * li2(z * z) - li2(-z); // Li₂(−x) = ½Li₂(x²) − Li₂(x)
  if (z === 1) return Math.PI ** 2 / 6;
  if (z > 0.5) return Math.PI ** 2 / 6 - Math.log(z) * Math.log(1 - z) - li2(1 - z);
  let s = 0,
    p = z;
  for (let k = 1; k < 200 && p > 1e-20; k++, p *= z) s += p / (k * k);
  return s;
}

/** F(u) = ∫_{−∞}^u softplus = −Li₂(−e^u), with F(u) = 2F(0) + u²/2 − F(−u) for u > 0. */
const F = (u: number): number => (u <= 0 ? -li2(-Math.exp(u)) : 2 * (Math.PI ** 2 / 12) + (u * u) / 2 - F(-u));

/** Closed form of Eq. 22's basis: B·exp(−∫_s^1 softplus(w(r − t̂)) dr) = B·exp(−(F(w(s−t̂)) − F(w(1−t̂)))/|w|). */
const heavisideExact = (tHat: number, w: number, s: number, B = 1) =>
  B * Math.exp(-(F(w * (s - tHat)) - F(w * (1 - tHat))) / -w);

describe('Haar wavelets (Eq. 10, 16–18)', () => {
  it('ψ_{j,k} equals its three-Heaviside split (18) at every point of a fine grid, and is orthonormal', () => {
    const G = 1 << 10;
    const grid = Array.from({ length: G }, (_, i) => (i + 0.5) / G);
    const pairs: [number, number][] = [
      [0, 0],
      [1, 1],
      [2, 3],
      [3, 5],
      [5, 17],
    ];
    for (const [j, k] of pairs) {
      const terms = haarHeavisideTerms(j, k);
      for (const s of [...grid, ...terms.map((t) => t.tHat).filter((t) => t < 1)]) {
        const split = terms.reduce((acc, t) => acc + t.coef * heaviside(s - t.tHat), 0);
        expect(split, `ψ_${j},${k}(${s})`).toBeCloseTo(haarWavelet(j, k, s), 12);
      }
      for (const [j2, k2] of pairs) {
        const ip = grid.reduce((acc, s) => acc + haarWavelet(j, k, s) * haarWavelet(j2, k2, s), 0) / G; // exact: ψ constant on cells
        expect(ip, `⟨ψ_${j},${k}, ψ_${j2},${k2}⟩`).toBeCloseTo(j === j2 && k === k2 ? 1 : 0, 12);
      }
    }
  });

  it('rejects a translation outside [0, 2^j − 1], naming k', () => {
    expect(() => haarWavelet(2, 4, 0.5)).toThrow(/k: expected an integer in \[0, 2\^j − 1\] = \[0, 3\], got 4/);
    expect(() => haarHeavisideTerms(-1, 0)).toThrow(ConfigError);
  });
});

describe('Mamba basis g^M(s; t, x) by quadrature (Eq. 8) and the S4D basis (Eq. 9)', () => {
  const s = Array.from({ length: 101 }, (_, i) => i / 100);

  it('Δ ≡ 1 gives the S4D basis B·e^{−λ(t−s)}; Δ(r) = a + br gives B·exp(−λ(a(t−s) + b(t²−s²)/2))', () => {
    const g = mambaBasis(() => 1, s, { lambda: 2.5, B: 0.7 });
    const ref = s4dBasis(s, { lambda: 2.5, B: 0.7 });
    s.forEach((_, i) => expect(g[i]).toBeCloseTo(ref[i], 13));
    s.forEach((x, i) => expect(ref[i]).toBeCloseTo(0.7 * Math.exp(-2.5 * (1 - x)), 14));
    const lin = mambaBasis((r) => 0.3 + 2 * r, s, { lambda: 1.5, t: 1 });
    s.forEach((x, i) => expect(lin[i]).toBeCloseTo(Math.exp(-1.5 * (0.3 * (1 - x) + (1 - x * x))), 13));
  });

  it('the Heaviside basis of Eq. 22 matches the dilogarithm closed form to 1e−10 for |w_Δ| up to 1e5', () => {
    for (const w of [-3, -50, -2e3, -1e5]) {
      for (const tHat of [0, 0.3, 0.625, 1]) {
        const g = heavisideBasis(tHat, w, s, 2);
        s.forEach((x, i) => {
          const ref = heavisideExact(tHat, w, x, 2);
          expect(Math.abs(g[i] - ref), `w=${w} t̂=${tHat} s=${x}`).toBeLessThanOrEqual(1e-10 * Math.max(1, ref));
        });
      }
    }
  });

  it('points need not be sorted; a negative or non-finite Δ and bad options are refused by name', () => {
    const g = mambaBasis((r) => 1 + r, [0.9, 0.1, 0.5]);
    expect(g[0]).toBeCloseTo(Math.exp(-(0.1 + (1 - 0.81) / 2)), 13);
    expect(g[1]).toBeCloseTo(Math.exp(-(0.9 + (1 - 0.01) / 2)), 13);
    expect(() => mambaBasis(() => -1, [0.5])).toThrow(/delta: expected Δ\(r\) finite and ≥ 0/);
    expect(() => mambaBasis(() => 1, [0.5], { lambda: -1 })).toThrow(
      /options.lambda: expected a finite number ≥ 0, got -1/,
    );
    expect(() => mambaBasis(() => 1, [1.5])).toThrow(ValueError);
    expect(() => heavisideBasis(0.5, 3, [0.5])).toThrow(/wDelta: expected a finite negative number, got 3/);
  });
});

describe('Theorem 1: g1 − 2g2 + g3 → ψ_{j,k} as w_Δ → −∞ (Eq. 18, 22, 23)', () => {
  const ws = [-1e1, -1e2, -1e3, -1e4, -1e5, -1e6, -1e7];

  it.each([
    [0, 0],
    [2, 1],
    [4, 9],
    [6, 63],
  ])('(j, k) = (%i, %i): sup-error off the layers ≤ 4·2^{j/2}/|w| and is Θ(1/|w|); L² error → 0', (j, k) => {
    const r = theorem1Errors(j, k, ws);
    const amp = 2 ** (j / 2);
    r.wDelta.forEach((w, i) => {
      expect(r.bound[i]).toBeCloseTo((4 * amp) / -w, 12);
      expect(r.supError[i], `w=${w}`).toBeLessThanOrEqual(r.bound[i]);
      // at s = t̂_1 (off the layers once δ(w) < 2^{−(j+1)}): error ≥ 2^{j/2}(1 − g1(t̂_1)/2^{j/2})
      //   = 2^{j/2}(1 − e^{−(F(0) − F(w(1 − t̂_1)))/|w|}) ≈ 2^{j/2}π²/(12|w|): the rate 1/|w| is attained
      const t1 = k / 2 ** j;
      if (r.layerWidth[i] < 2 ** -(j + 1))
        expect(r.supError[i], `w=${w}`).toBeGreaterThanOrEqual(
          (1 - 1e-9) * amp * (1 - Math.exp(-(F(0) - F(w * (1 - t1))) / -w)),
        );
      expect(r.layerWidth[i]).toBeCloseTo(transitionWidth(w), 15);
      // a continuous ψ̂ cannot follow a jump: the sup over all of [0, 1] does not vanish
      if (-w >= 1e3) expect(r.supErrorAll[i]).toBeGreaterThanOrEqual(0.4 * amp);
    });
    expect(r.supError[6]).toBeLessThanOrEqual(1e-6 * amp);
    expect(r.l2Error[6] / r.l2Error[4]).toBeLessThan(0.4); // ≈ 100^{−1/4} = 0.32: the layers shrink like |w|^{−1/2}
    expect(r.l2Error[6]).toBeLessThan(0.05 * amp);
  });

  it('the construction evaluated directly agrees with the three closed-form Heavisides', () => {
    const s = [0.01, 0.2, 0.26, 0.3, 0.45, 0.5, 0.55, 0.9];
    const got = mambaHaarWavelet(2, 1, -400, s);
    s.forEach((x, i) => {
      const ref = haarHeavisideTerms(2, 1).reduce((acc, t) => acc + t.coef * heavisideExact(t.tHat, -400, x), 0);
      expect(got[i]).toBeCloseTo(ref, 9);
    });
  });

  it('refuses w_Δ ≥ 0 and an empty list, naming the argument', () => {
    expect(() => theorem1Errors(1, 0, [-10, 0])).toThrow(/wDeltas\[1\]: expected a finite negative number, got 0/);
    expect(() => theorem1Errors(1, 0, [])).toThrow(ConfigError);
    expect(() => theorem1Errors(1, 0, [-10], 3)).toThrow(/grid: expected a power of two/);
  });
});

describe('Proposition 1: λ = 0, B = 1, all-ones input ⇒ h_t = t (Eq. 24), on the real MambaModel', () => {
  it.each(['euler', 'zoh', 'identity'] as const)('%s discretisation', (disc) => {
    const before = tf.memory().numTensors;
    const r = recoverAbsoluteTime(1000, disc);
    expect(r.h).toHaveLength(1000);
    r.h.forEach((h, i) => expect(Math.abs(h - (i + 1)), `t=${i + 1}`).toBeLessThanOrEqual(1e-6 * (i + 1)));
    expect(r.lastState).toBeCloseTo(1000, 3);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('bases realised by the real S6 mixer (discrete Eq. 4 / 8)', () => {
  it('ĝ(ih) = ∂y_L/∂x_i converges to the continuous g^M(ih) for a smooth Δ (midpoint rule: O(1/L²))', () => {
    const delta = (r: number) => 1 + Math.sin(6 * r) ** 2;
    const err = (L: number) => {
      const b = s6MambaBasis(delta, { L, lambda: 2, B: 1.5 });
      const ref = mambaBasis(delta, b.s, { lambda: 2, B: 1.5 });
      return Math.max(...b.values.map((v, i) => Math.abs(v - ref[i])));
    };
    const [e64, e256] = [err(64), err(256)];
    expect(e256).toBeLessThan(2e-5);
    expect(e64 / e256).toBeGreaterThan(6);
  });

  it('λ = 0 turns the S6 basis into the constant B (no forgetting)', () => {
    const b = s6MambaBasis((r) => 5 + r, { L: 32, lambda: 0, B: 0.25 });
    b.values.forEach((v) => expect(v).toBeCloseTo(0.25, 6));
  });

  it('with time PE and w_Δ = −1e8 the layer gives exact cell Heavisides H(τ_i − t̂), and its outputs are ⟨ĝ_c, x⟩', () => {
    const L = 64,
      tHats = [0, 0.25, 17 / 64, 0.5, 1];
    const rng = new Rng(3);
    const signal = Array.from({ length: L }, () => rng.normal());
    const before = tf.memory().numTensors;
    const r = s6HeavisideBases(tHats, { L, wDelta: -1e8, signal });
    expect(tf.memory().numTensors).toBe(before);
    tHats.forEach((t, c) => {
      for (let i = 0; i < L; i++)
        expect(Math.abs(r.bases[c][i] - heaviside((i + 0.5) / L - t)), `t̂=${t} cell ${i}`).toBeLessThanOrEqual(1e-6);
      const dot = r.bases[c].reduce((s, g, i) => s + g * signal[i], 0);
      expect(Math.abs(r.projections[c] - dot)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(dot)));
    });
  });

  it('S6-realised ψ̂_{j,k} → ψ_{j,k} in the sup norm over the cells as |w_Δ| grows', () => {
    const L = 64,
      dictErr = [-1e3, -1e4, -1e5, -1e7].map((w) => {
        const dict = s6HaarDictionary(L, w);
        let worst = 0;
        for (const [j, k] of [
          [0, 0],
          [2, 3],
          [4, 7],
          [5, 31],
        ]) {
          const [p1, p2, p3] = haarHeavisideTerms(j, k).map((t) => Math.round(t.tHat * L));
          for (let i = 0; i < L; i++) {
            const psiHat = 2 ** (j / 2) * (dict.bases[p1][i] - 2 * dict.bases[p2][i] + dict.bases[p3][i]);
            worst = Math.max(worst, Math.abs(psiHat - haarWavelet(j, k, (i + 0.5) / L)) / 2 ** (j / 2));
          }
        }
        return worst;
      });
    for (let i = 1; i < dictErr.length; i++) expect(dictErr[i]).toBeLessThan(dictErr[i - 1]);
    expect(dictErr[0]).toBeGreaterThan(0.1); // |w| = 1e3 is visibly too soft on 64 cells
    expect(dictErr[3]).toBeLessThan(1e-5);
  });

  it('refuses bad options by name', () => {
    expect(() => s6HeavisideBases([0.5], { L: 48, wDelta: -1 })).toThrow(/options.L: expected a power of two/);
    expect(() => s6HeavisideBases([1.5], { L: 16, wDelta: -1 })).toThrow(/tHats\[0\]: expected a number in \[0, 1\]/);
    expect(() => s6HeavisideBases([0.5], { L: 16, wDelta: 2 })).toThrow(
      /options.wDelta: expected a finite negative number, got 2/,
    );
    expect(() => s6HeavisideBases([0.5], { L: 16, wDelta: -5, signal: [1, 2] })).toThrow(
      /options.signal: expected 16 values/,
    );
    expect(() => s6MambaBasis(() => Number.NaN, { L: 8 })).toThrow(ValueError);
  });
});
