/**
 * theory — Cor. 1: exact Fourier and Haar best N-term errors against closed forms, the fitted
 * rates against the predicted O(2^{−N/(3m)}) and O(N^{−1}), and the S6-realised wavelets against
 * an independent float64 discrete Haar transform of the cell averages.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, ValueError, ready, tf } from '../src/index.js';
import {
  cellAverages,
  corollary1,
  corollary1Table,
  fitBase2Rate,
  fitExponentialRate,
  fitPowerLaw,
  fourierBestNTerm,
  fourierCoefficients2,
  haarBestNTerm,
  haarCoefficient,
  piecewiseConstant,
  piecewiseNormSquared,
  randomPiecewiseConstant,
  s6HaarBestNTerm,
  s6HaarDictionary,
  type PiecewiseConstant,
} from '../src/theory/index.js';

beforeAll(async () => {
  await ready();
});

describe('fits', () => {
  it('recover the exponent of exact exponential, base-2 and power-law data, skipping zeros', () => {
    const x = [1, 2, 3, 5, 8, 13];
    expect(
      fitExponentialRate(
        x,
        x.map((t) => 3 * Math.exp(-0.7 * t)),
      ).rate,
    ).toBeCloseTo(0.7, 12);
    expect(
      fitBase2Rate(
        x,
        x.map((t) => 2 ** (-t / 9)),
      ).rate,
    ).toBeCloseTo(1 / 9, 12);
    expect(
      fitPowerLaw(
        x,
        x.map((t) => 5 / t),
      ).exponent,
    ).toBeCloseTo(-1, 12);
    expect(fitExponentialRate([...x, 20], [...x.map((t) => Math.exp(-t)), 0]).points).toBe(6);
    expect(() => fitExponentialRate([1, 2], [0, 0])).toThrow(ValueError);
  });
});

describe('piecewise-constant targets', () => {
  it('cell averages and the within-cell error reproduce ‖ρ‖² exactly', () => {
    const rho = piecewiseConstant([0.1234567, 0.5, 0.8765], [1, -2, 0.5, 3]);
    const { averages, withinCellError2 } = cellAverages(rho, 64);
    const energy = averages.reduce((s, v) => s + (v * v) / 64, 0) + withinCellError2;
    expect(energy).toBeCloseTo(piecewiseNormSquared(rho), 13);
    expect(piecewiseNormSquared(rho)).toBeCloseTo(
      0.1234567 + 4 * (0.5 - 0.1234567) + 0.25 * (0.8765 - 0.5) + 9 * 0.1235,
      13,
    );
  });

  it('refuses unsorted breaks and a wrong number of values, naming the field', () => {
    expect(() => piecewiseConstant([0.5, 0.2], [1, 2, 3])).toThrow(
      /rho.breaks: expected strictly increasing values in \(0, 1\), got 0.2 at index 1/,
    );
    expect(() => piecewiseConstant([0.5], [1])).toThrow(/rho.values: expected 2 values/);
    expect(() => piecewiseConstant([0.5], [1, Number.NaN])).toThrow(ValueError);
  });
});

describe('Fourier / S4D side of Cor. 1 (Eq. 27)', () => {
  it('|c_n|² of a step matches (a₀ − a₁)² sin²(πnb)/(πn)², and the N-term error uses Parseval exactly', () => {
    const [a0, a1, b] = [1.3, -0.4, 0.3141];
    const rho = piecewiseConstant([b], [a0, a1]);
    const M = 64;
    const c2 = fourierCoefficients2(rho, M);
    for (let n = -M; n <= M; n++) {
      const ref =
        n === 0 ? (a0 * b + a1 * (1 - b)) ** 2 : ((a0 - a1) ** 2 * Math.sin(Math.PI * n * b) ** 2) / (Math.PI * n) ** 2;
      expect(c2[n + M], `n=${n}`).toBeCloseTo(ref, 13);
    }
    const all = Array.from({ length: 2 * 4096 + 1 }, (_, i) => i - 4096)
      .map((n) =>
        n === 0 ? (a0 * b + a1 * (1 - b)) ** 2 : ((a0 - a1) ** 2 * Math.sin(Math.PI * n * b) ** 2) / (Math.PI * n) ** 2,
      )
      .sort((x, y) => y - x);
    const r = fourierBestNTerm(rho, 40);
    for (const N of [1, 5, 17, 40]) {
      const kept = all.slice(0, N).reduce((s, v) => s + v, 0);
      expect(r.error2[N]).toBeCloseTo(piecewiseNormSquared(rho) - kept, 12);
    }
  });
});

/** |⟨1_{s ≥ a}, ψ_{j,k}⟩| at the one k whose support holds a: 2^{j/2}·min(u, 2^{−j} − u), u = a − 2^{−j}⌊2^j a⌋. */
const stepCoef = (a: number, j: number) => {
  const u = a - Math.floor(a * 2 ** j) / 2 ** j;
  return 2 ** (j / 2) * Math.min(u, 2 ** -j - u);
};

describe('Haar / Mamba side of Cor. 1 (Eq. 28–31)', () => {
  it('the best n-term Haar error of a step equals the tail of the closed-form coefficients', () => {
    const [a, jump] = [0.637219, -1.7];
    const rho = piecewiseConstant([a], [0.4, 0.4 + jump]);
    const coefs = Array.from({ length: 61 }, (_, j) => (jump * stepCoef(a, j)) ** 2).sort((x, y) => y - x);
    const r = haarBestNTerm(rho, 30);
    for (const n of [0, 1, 4, 10, 20, 30]) {
      const tail = coefs.slice(n).reduce((s, v) => s + v, 0);
      // 5e−16: the Parseval remainder beyond scale 48 is taken in double precision
      expect(Math.abs(r.error2[n] - tail), `n=${n}`).toBeLessThanOrEqual(1e-9 * tail + 5e-16);
    }
    expect(Math.abs(haarCoefficient(rho, 3, Math.floor(a * 8)))).toBeCloseTo(Math.abs(jump) * stepCoef(a, 3), 14);
    expect(haarCoefficient(rho, 3, 0)).toBe(0); // no break in the support ⇒ zero (Eq. 30)
  });

  it.each([1, 2, 4])(
    'm = %i: fitted rates sit at the predicted 1/(3m) per basis and N^{−1}, and Mamba beats S4D at N = 64',
    (m) => {
      const r = corollary1(m, { targets: 16, NMax: 64, seed: 0 });
      expect(r.mamba.N.at(-1)).toBe(64);
      expect(r.mamba.fit.rate!).toBeGreaterThanOrEqual(0.95 * r.mamba.predictedRate); // the O(·) is an upper bound on error²
      expect(r.mamba.fit.rate!).toBeLessThanOrEqual(1.3 * r.mamba.predictedRate);
      expect(r.fourier.fit.exponent!).toBeGreaterThan(-1.15);
      expect(r.fourier.fit.exponent!).toBeLessThan(-0.9);
      expect(r.mamba.error2.at(-1)!).toBeLessThan(r.fourier.error2[63]);
      for (let i = 1; i < r.mamba.error2.length; i++)
        expect(r.mamba.error2[i]).toBeLessThanOrEqual(r.mamba.error2[i - 1]);
    },
  );

  it('refuses bad arguments by name', () => {
    expect(() => corollary1(0)).toThrow(/m: expected an integer in \[1, 64\], got 0/);
    expect(() => corollary1(1, { NMax: 2 })).toThrow(/options.NMax/);
    expect(() => corollary1(1, { s6: [{ L: 64, wDelta: 1 }] })).toThrow(ConfigError);
    expect(() => fourierBestNTerm(piecewiseConstant([0.5], [0, 1]), 20, 4)).toThrow(
      /NMax: expected an integer in \[0, 9\]/,
    );
  });
});

/** Independent float64 discrete Haar transform of cell averages: error²(n) = within-cell + Σ of the unkept |d_{j,k}|². */
function discreteHaarErrors(rho: PiecewiseConstant, L: number, nMax: number): number[] {
  const { averages, withinCellError2 } = cellAverages(rho, L);
  const d: number[] = [];
  for (let j = 0; 2 ** (j + 1) <= L; j++) {
    const w = L / 2 ** j;
    for (let k = 0; k < 2 ** j; k++) {
      let s = 0;
      for (let i = k * w; i < (k + 1) * w; i++) s += (i < k * w + w / 2 ? 1 : -1) * averages[i];
      d.push(((2 ** (j / 2) * s) / L) ** 2);
    }
  }
  d.sort((x, y) => y - x);
  return Array.from({ length: nMax + 1 }, (_, n) => withinCellError2 + d.slice(n).reduce((s, v) => s + v, 0));
}

describe('Cor. 1 with the wavelets realised by an actual S6 layer', () => {
  it('w_Δ = −1e8 on L = 256 cells reproduces the discrete Haar transform of the cell averages; soft w_Δ shows the gap', () => {
    const before = tf.memory().numTensors;
    const sharp = s6HaarDictionary(256, -1e8);
    const soft = s6HaarDictionary(256, -1e3);
    expect(tf.memory().numTensors).toBe(before);
    const rng = new Rng(11);
    for (const m of [1, 3]) {
      const rho = randomPiecewiseConstant(m, rng);
      const ref = discreteHaarErrors(rho, 256, 21);
      const got = s6HaarBestNTerm(rho, sharp, 21);
      ref.forEach((e, n) => expect(Math.abs(got[n] - e), `m=${m} n=${n}`).toBeLessThanOrEqual(1e-5 * e + 1e-12));
      const { withinCellError2 } = cellAverages(rho, 256);
      got.forEach((e) => expect(e).toBeGreaterThanOrEqual(withinCellError2 * (1 - 1e-9)));
      const theory = haarBestNTerm(rho, 21).error2;
      expect(got[21]).toBeGreaterThanOrEqual(theory[21] * (1 - 1e-9)); // the grid cannot beat the continuum
      expect(s6HaarBestNTerm(rho, soft, 21)[21]).toBeGreaterThan(2 * got[21]); // finite w_Δ blurs the Heavisides
    }
  });

  it('corollary1 / corollary1Table carry the S6 curves as plain data', () => {
    const t = corollary1Table({ ms: [1], targets: 4, s6: [{ L: 64, wDelta: -1e7 }] });
    expect(t.rows).toHaveLength(1);
    const r = t.rows[0];
    expect(r.haarRatePerWavelet).toBeCloseTo(3 * r.mambaRate, 12);
    expect(r.s6Rates).toHaveLength(1);
    expect(r.error2AtNMax.s6[0]).toBeGreaterThanOrEqual(r.error2AtNMax.mamba);
    expect(JSON.parse(JSON.stringify(t.results[0].s6[0])).L).toBe(64);
    expect(() =>
      s6HaarBestNTerm(piecewiseConstant([0.5], [0, 1]), { ...s6HaarDictionary(4, -1e6), bases: [] }, 3),
    ).toThrow(/dict: expected a dictionary/);
    expect(() => s6HaarDictionary(100, -1e6)).toThrow(/L: expected a power of two/);
  });
});
