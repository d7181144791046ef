/**
 * theory — sensitivity: autodiff through the real S4D / S6 / Mamba-2 mixers against float64
 * closed forms of Lemma 1 (Eq. 35–41) built from the same parameters, Lemma 2's bound (Eq. 13)
 * with its exact form and a constructed counterexample to its literal statement, and softmax
 * attention against Eq. 44 and the O(1/t) bound (45).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Rng, ShapeError, ready, tf } from '../src/index.js';
import {
  attentionSensitivity,
  fitLine,
  lemma2Demo,
  sensitivityProfile,
  sensitivityTable,
  type SensitivityProfile,
} from '../src/theory/index.js';

beforeAll(async () => {
  await ready();
});

const softplus = (z: number) => (z > 20 ? z : Math.log1p(Math.exp(z))); // torch's, as the mixers use
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const P = (p: SensitivityProfile, name: string) => p.params[name].data;
const randomInput = (L: number, seed: number) => {
  const r = new Rng(seed);
  return Array.from({ length: L }, () => r.normal());
};

/** Σ_{r=j+1}^{t} Δ_r for each t of the profile (Δ 1-indexed through `delta(r)`). */
const cumDelta = (t: number[], j: number, delta: (r: number) => number) =>
  t.map((tt) => Array.from({ length: tt - j }, (_, i) => delta(j + 1 + i)).reduce((s, v) => s + v, 0));

describe('Lemma 1 through the real mixers (Eq. 11, 35–41)', () => {
  it('S4D: |∂h_t[n]/∂x_j| = |B_n|·e^{−λ_n(t−j)} and ∂y_t/∂x_j = Σ_n C_n B_n e^{−λ_n(t−j)}; fitted rate = λ_n', () => {
    const before = tf.memory().numTensors;
    const p = sensitivityProfile('s4d', { L: 64, j: 3, N: 4, seed: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const [A, B, C] = [P(p, 'A_log'), P(p, 'B'), P(p, 'C')];
    p.states.forEach((s, n) => {
      const lam = Math.exp(A[n]);
      expect(s.lambda).toBeCloseTo(lam, 12);
      p.t.forEach((t, i) => {
        const ref = Math.abs(B[n]) * Math.exp(-lam * (t - p.j));
        if (ref > 1e-30) expect(Math.abs(s.values[i] - ref), `n=${n} t=${t}`).toBeLessThanOrEqual(1e-4 * ref);
      });
      expect(Math.abs(s.fit!.rate / lam - 1)).toBeLessThan(1e-4);
      expect(s.lemma1Spread).toBeLessThan(1e-4);
    });
    p.t.forEach((t, i) => {
      if (t === p.j) return;
      const ref = Math.abs(B.reduce((acc, b, n) => acc + C[n] * b * Math.exp(-Math.exp(A[n]) * (t - p.j)), 0));
      if (ref > 1e-30) expect(Math.abs(p.output.values[i] - ref), `y, t=${t}`).toBeLessThanOrEqual(1e-4 * ref + 1e-12);
    });
  });

  it('S6: sensitivity·e^{λ_nΣ_{r=j+1}^tΔ_r} is constant in t with Δ recomputed in float64; at j = 1 the whole curve has a closed form', () => {
    const x = randomInput(96, 5);
    const p = sensitivityProfile('s6', { L: 96, j: 1, N: 4, seed: 4, input: x });
    const [Wx, Wdt, bdt, A] = [P(p, 'x_proj.weight'), P(p, 'dt_proj.weight'), P(p, 'dt_proj.bias'), P(p, 'A_log')];
    const delta = (r: number) => softplus(Wdt[0] * Wx[0] * x[r - 1] + bdt[0]); // Δ_r = softplus(W_dt (W_x x_r)_0 + b)
    const cum = cumDelta(p.t, 1, delta);
    p.states.forEach((s, n) => {
      const lam = Math.exp(A[n]),
        w = Wx[1 + n]; // B_n(x) = w x
      const a = Wdt[0] * Wx[0],
        z = a * x[0] + bdt[0];
      const c1 = Math.abs(sigmoid(z) * a * w * x[0] ** 2 + softplus(z) * 2 * w * x[0]); // ∂(Δ(x_1) B_n(x_1) x_1)/∂x_1, h_0 = 0
      p.t.forEach((t, i) => {
        const ref = c1 * Math.exp(-lam * cum[i]);
        expect(Math.abs(s.values[i] - ref), `n=${n} t=${t}`).toBeLessThanOrEqual(1e-4 * ref);
      });
      // the fitted exponential rate is λ_n times the slope of Σ_{r≤t} Δ_r on t; close to λ_n·mean Δ
      const slope = fitLine(p.t.slice(1), cum.slice(1)).slope;
      expect(Math.abs(s.fit!.rate / (lam * slope) - 1)).toBeLessThan(1e-3);
      expect(Math.abs(s.fit!.rate / s.predictedRate - 1)).toBeLessThan(0.05);
      expect(s.meanDelta).toBeCloseTo(
        Array.from({ length: 95 }, (_, i) => delta(i + 2)).reduce((q, v) => q + v, 0) / 95,
        6,
      );
    });
  });

  it('S6 (d = 2, j = 7) and Mamba-2: Lemma 1 factorisation holds to float32 accuracy; rates within 5 % of λ_n·mean Δ', () => {
    const s6 = sensitivityProfile('s6', { L: 80, j: 7, d: 2, N: 3, seed: 1 });
    expect(s6.states).toHaveLength(6);
    for (const s of s6.states) {
      expect(s.lemma1Spread).toBeLessThan(1e-4);
      expect(Math.abs(s.fit!.rate / s.predictedRate - 1)).toBeLessThan(0.05);
    }
    const x = randomInput(80, 9);
    const m2 = sensitivityProfile('mamba2', { L: 80, j: 4, N: 3, seed: 3, input: x });
    const [w, b, a] = [P(m2, 'dt_proj.weight')[0], P(m2, 'dt_bias')[0], P(m2, 'A_log')[0]];
    const cum = cumDelta(m2.t, 4, (r) => softplus(w * x[r - 1] + b)); // Δ_t = softplus(w_Δ x_t + b_Δ), scalar
    for (const s of m2.states) {
      expect(s.lambda).toBeCloseTo(Math.exp(a), 5);
      const inv = s.values.map((v, i) => v * Math.exp(s.lambda * cum[i])).filter((_, i) => m2.t[i] > 4);
      inv.forEach((v) => expect(Math.abs(v / inv[0] - 1)).toBeLessThan(1e-4));
      expect(Math.abs(s.fit!.rate / s.predictedRate - 1)).toBeLessThan(0.05);
    }
  });

  it('refuses bad arguments by name', () => {
    expect(() => sensitivityProfile('mamba3' as 's6')).toThrow(/mixer: expected 's4d' \| 's6' \| 'mamba2'/);
    expect(() => sensitivityProfile('s6', { L: 8, j: 8 })).toThrow(/options.j: expected an integer in \[1, 7\], got 8/);
    expect(() => sensitivityProfile('s4d', { params: { A: [1] } })).toThrow(/options.params: expected names among/);
    expect(() => sensitivityProfile('s4d', { N: 2, params: { B: [1, 2, 3] } })).toThrow(ShapeError);
    expect(() => sensitivityProfile('s4d', { L: 4, input: [1, 2] })).toThrow(/options.input: expected 4 values/);
    expect(() => sensitivityProfile('s4d', { L: 4, times: [0] })).toThrow(ConfigError);
    // names that exist on every object's prototype are not parameters
    expect(() => sensitivityProfile('__proto__' as 's6')).toThrow(
      /mixer: expected 's4d' \| 's6' \| 'mamba2', got "__proto__"/,
    );
    for (const name of ['__proto__', 'constructor', 'toString']) {
      const params = JSON.parse(`{"${name}": [1]}`) as Record<string, number[]>;
      expect(() => sensitivityProfile('s4d', { params })).toThrow(
        new RegExp(`options.params: expected names among .*, got "${name}"`),
      );
    }
  });
});

describe('Lemma 2 (Eq. 12–13) on a hand-set S6 layer', () => {
  it('λΣΔ = c recomputed in float64; |∂h_t/∂x_j| ≥ e^{−c}|∂h_j/∂x_j| at every t and j; Eq. 13 holds at j = 1 and when Δ ignores x', () => {
    const x = randomInput(128, 21);
    const before = tf.memory().numTensors;
    const r = lemma2Demo({ L: 128, input: x, js: [1, 2, 8, 32, 64] });
    expect(tf.memory().numTensors).toBe(before);
    const c = x.reduce((s, v) => s + softplus(0.5 * v - 8), 0);
    expect(Math.abs(r.c / c - 1)).toBeLessThan(1e-5);
    expect(r.c).toBeLessThan(0.2);
    for (const row of r.rows) {
      expect(row.minRatioExact, `j=${row.j}`).toBeGreaterThanOrEqual(1 - 1e-4);
      row.sensitivity.forEach((s) => expect(s).toBeGreaterThanOrEqual((1 - 1e-4) * row.exactBound));
    }
    const j1 = r.rows[0];
    expect(Math.abs(j1.paperBound / j1.exactBound - 1)).toBeLessThan(1e-4); // h_0 = 0: Eq. 13 is exact at j = 1
    expect(j1.minRatioPaper).toBeGreaterThanOrEqual(1 - 1e-4);
    const frozen = lemma2Demo({ L: 128, input: x, wDelta: 0, bDelta: -6, js: [1, 5, 40, 100] }); // Δ independent of x
    frozen.rows.forEach((row) => expect(row.minRatioPaper, `j=${row.j}`).toBeGreaterThanOrEqual(1 - 1e-4));
  });

  it('the literal Eq. 13 can fail for j > 1: an input where ∂Λ_j/∂x_j·h_{j−1} cancels ∂(BΔx)_j/∂x_j', () => {
    // float64 model: Δ(x) = softplus(x/2 − 8), B(x) = x, λ = 1, Euler; x_r = 2 before j = 20
    const D = (v: number) => softplus(0.5 * v - 8),
      dD = (v: number) => 0.5 * sigmoid(0.5 * v - 8);
    let h = 0;
    for (let r = 1; r < 20; r++) h = Math.exp(-D(2)) * h + D(2) * 2 * 2;
    const g = (v: number) => -dD(v) * Math.exp(-D(v)) * h + (dD(v) * v * v + 2 * v * D(v)); // ∂h_j/∂x_j
    let [lo, hi] = [1e-6, 1];
    for (let i = 0; i < 200; i++) [lo, hi] = g((lo + hi) / 2) < 0 ? [(lo + hi) / 2, hi] : [lo, (lo + hi) / 2];
    const input = Array.from({ length: 40 }, (_, r) => (r < 19 ? 2 : r === 19 ? lo : 0.5));
    const r = lemma2Demo({ L: 40, input, js: [20] });
    const row = r.rows[0];
    expect(row.paperBound).toBeGreaterThan(1e-7);
    expect(row.exactBound).toBeLessThan(1e-3 * row.paperBound);
    expect(row.minRatioPaper).toBeLessThan(0.01);
  });
});

describe('softmax attention (App. B, Eq. 44–45) through the real TransformerModel', () => {
  it('autodiff equals the closed form (44), stays under the O(1/t) bound (45), and decays like t^{−1}', () => {
    const before = tf.memory().numTensors;
    const a = attentionSensitivity({ L: 128, j: 2, dModel: 4, seed: 0 });
    expect(tf.memory().numTensors).toBe(before);
    a.t.forEach((t, i) => {
      expect(Math.abs(a.values[i] - a.closedForm[i]), `t=${t}`).toBeLessThanOrEqual(1e-3 * a.closedForm[i] + 1e-9);
      expect(a.values[i], `t=${t}`).toBeLessThanOrEqual(a.bound[i]);
    });
    expect(a.fit.exponent).toBeGreaterThan(-1.3);
    expect(a.fit.exponent).toBeLessThan(-0.75);
    expect(() => attentionSensitivity({ L: 16, j: 16 })).toThrow(/options.j: expected an integer in \[1, 15\]/);
  });
});

describe('sensitivity table', () => {
  it('has one row per state and output of each mixer plus attention, with finite fitted rates', () => {
    const t = sensitivityTable({ L: 48, N: 2, attentionL: 48 });
    expect(t.rows.map((r) => r.layer)).toEqual([
      'S4D',
      'S4D',
      'S4D',
      'S6',
      'S6',
      'S6',
      'Mamba-2',
      'Mamba-2',
      'Mamba-2',
      'Attention',
    ]);
    t.rows.forEach((r) => expect(Number.isFinite(r.fitted!)).toBe(true));
    expect(t.rows[0].fitted!).toBeCloseTo(t.rows[0].predicted, 3);
  });
});
