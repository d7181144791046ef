/**
 * The paper's analytic constructions (Cor. 2, Prop. 1, Thm. 2–4, Lem. 3) as weights of the ordinary
 * block: every prediction on 10³ random instances at every mixer × embedding equals a brute-force answer
 * computed here from the task definitions; long sequences (T = 2048); the loaded block is the
 * ordinary MambaModel; ablations of the ingredients the constructions rely on do fail; no tensor
 * leaks; bad options name the argument.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, MambaModel, ValueError, ready, tf } from '../src/index.js';
import {
  clockConstruction,
  inductionHeadsConstruction,
  keepNthConstruction,
  mqarConstruction,
  type Construction,
  type MqarConstructionOptions,
} from '../src/constructions/index.js';
import { inductionHeads, keepNth, mqar } from '../src/tasks/index.js';
import {
  LONG,
  SMALL,
  expectMqarPerfect,
  expectPerfect,
  ihExpected,
  ihTally,
  keepTally,
  mqarExpected,
  withConstruction,
} from './constructionScoring.js';

beforeAll(async () => {
  await ready();
});

// ── Cor. 2: KEEP n-TH ─────────────────────────────────────────────────────────────────────────────

describe('Cor. 2 — KEEP n-TH with S6 + PE only', () => {
  it('10³ instances, n = 5, |V| = 16, T = 64: x_n at every t ≥ n', async () => {
    expectPerfect(await keepTally(5, 16, 64, 1_000, 11), 1_000 * 60);
  });

  it('10³ instances, n = 1 and n = T, |V| = 128, T = 12', async () => {
    expectPerfect(await keepTally(1, 128, 12, 1_000, 12), 1_000 * 12);
    expectPerfect(await keepTally(12, 128, 12, 1_000, 13), 1_000);
  });

  it('long sequences: T = 2048, n = 700, 64 instances', async () => {
    expectPerfect(await keepTally(700, 32, 2048, 64, 14), 64 * 1349);
  });

  it('reports d = |V| + 1, N = 1 and no stated bound', () => {
    const c = keepNthConstruction({ n: 3, vocabSize: 9 });
    expect([c.dims.d, c.dims.N]).toEqual([10, 1]);
    expect(c.dims.bound.d.nominal).toBeNull();
    c.dispose();
  });
});

// ── Prop. 1: clock ────────────────────────────────────────────────────────────────────────────────

describe('Prop. 1 — clock from an all-ones input', () => {
  it('outputs exactly t at every position up to T = 2048', () => {
    withConstruction(clockConstruction(), (c) => {
      const T = 2048;
      const out = c.predict([new Array(T).fill(0), new Array(T).fill(0)]);
      const expected = Array.from({ length: T }, (_, t) => t + 1);
      expect(out[0]).toEqual(expected);
      expect(out[1]).toEqual(expected);
      expect(c.params['mixer.A_log'][0]).toBe(-Infinity); // λ = 0
    });
  });
});

// ── Thm. 2–4: MQAR ───────────────────────────────────────────────────────────────────────────────

describe('Thm. 2–4 — MQAR: 100% against brute force', () => {
  for (const [label, opts, T] of SMALL) {
    it(`${label}, T=${T}: 10³ instances`, () => expectMqarPerfect(opts, T, 1_000));
  }
  for (const [label, opts, T, S] of LONG) {
    it(`${label}, T=${T}: ${S} instances`, () => expectMqarPerfect(opts, T, S));
  }

  it('dims: d and N as in the theorems', () => {
    const dims = (o: MqarConstructionOptions) => withConstruction(mqarConstruction(o), (c) => [c.dims.d, c.dims.N]);
    expect(dims({ mixer: 'mamba', numKeys: 5, vocabSize: 7 })).toEqual([12, 5]);
    expect(dims({ mixer: 'mamba', numKeys: 5, vocabSize: 7, embedding: 'jl', jlDim: 6 })).toEqual([11, 5]);
    expect(dims({ mixer: 'mamba2', numKeys: 5, vocabSize: 7 })).toEqual([12, 5]);
    expect(dims({ mixer: 'mamba2', numKeys: 5, vocabSize: 7, embedding: 'jl', jlDim: { keys: 3, values: 4 } })).toEqual(
      [7, 3],
    );
    expect(dims({ mixer: 's4d', numKeys: 5, vocabSize: 7 })).toEqual([35, 1]);
    expect(dims({ mixer: 's4d', numKeys: 5, vocabSize: 7, embedding: 'jl', jlDim: 3 })).toEqual([15, 1]);
  });

  it('block structure follows the theorems: Thm. 2 and 3 without gate, Thm. 4 S4D with gate, Mamba-2 with conv_B shifting', () => {
    const m2 = mqarConstruction({ mixer: 'mamba2', numKeys: 3, vocabSize: 4 });
    expect([m2.config.mixer, m2.config.gate]).toEqual(['mamba2', false]);
    expect(Array.from(m2.params['mixer.conv_B.weight'].subarray(0, 2))).toEqual([1, 0]); // taps [x_{t−1}, x_t]
    expect(Array.from(m2.params['mixer.conv_C.weight'].subarray(0, 2))).toEqual([0, 1]);
    m2.dispose();
    const s6 = mqarConstruction({ mixer: 'mamba', numKeys: 3, vocabSize: 4 });
    expect([s6.config.mixer, s6.config.gate]).toEqual(['s6', false]);
    s6.dispose();
    const s4 = mqarConstruction({ mixer: 's4d', numKeys: 3, vocabSize: 4 });
    expect(s4.config.mixer).toBe('s4d');
    expect(s4.config.gate).toEqual({ activation: 'identity' });
    s4.dispose();
  });
});

// ── Lem. 3: INDUCTION HEADS ──────────────────────────────────────────────────────────────────────

describe('Lem. 3 — INDUCTION HEADS with Mamba-Δ⊤: 100% against brute force', () => {
  it('10³ instances, |V| = 5, T = 100, standard', async () =>
    expectPerfect(await ihTally(5, 100, 1_000, 'standard', 21), 1e5));
  it('10³ instances, |V| = 5, T = 100, hard setting', async () =>
    expectPerfect(await ihTally(5, 100, 1_000, 'hard', 22), 1e5));
  it('10³ instances, |V| = 20, T = 100, hard setting', async () =>
    expectPerfect(await ihTally(20, 100, 1_000, 'hard', 23), 1e5));
  it('long sequences: |V| = 20, T = 2048, 64 instances', async () =>
    expectPerfect(await ihTally(20, 2048, 64, 'standard', 25), 64 * 2048));

  it('decoding rule: −1 (blank) at first occurrences, else the token after the latest previous occurrence', () => {
    withConstruction(inductionHeadsConstruction({ vocabSize: 4 }), (c) => {
      // the paper's example (l. 4021–4024), ids shifted down by one: x = [2,1,3,2,4,3,2,4] → y = [×,×,×,1,×,2,4,3]
      expect(c.predict([[1, 0, 2, 1, 3, 2, 1, 3]])).toEqual([[-1, -1, -1, 0, -1, 1, 3, 2]]);
      expect(c.predict([[3, 3, 3, 0]])).toEqual([[-1, 3, 3, -1]]);
    });
  });
});

// ── the weights live in the ordinary block ───────────────────────────────────────────────────────

describe('constructions load into the ordinary MambaModel', () => {
  it('createModel() has exactly the construction params; its forward argmax equals predict()', () => {
    const c = mqarConstruction({ mixer: 'mamba', numKeys: 4, vocabSize: 6, embedding: 'jl', jlDim: 5, seed: 3 });
    const m = c.createModel();
    try {
      expect(m.paramNames().sort()).toEqual(Object.keys(c.params).sort());
      for (const n of m.paramNames()) expect(Array.from(m.getParam(n).dataSync())).toEqual(Array.from(c.params[n]));
      const data = mqar({ numKeys: 4, vocabSize: 6, T: 20, numSamples: 8, seed: 5 });
      const tokens = Array.from({ length: 8 }, (_, s) => Array.from(data.inputs.subarray(s * 20, (s + 1) * 20)));
      const logits = m.forward(tokens);
      const am = logits.argMax(2);
      expect(am.arraySync()).toEqual(c.predict(tokens));
      tf.dispose([logits, am]);
    } finally {
      m.dispose();
      c.dispose();
    }
  });

  it('params are float32 and finite except A_log = −∞ (Λ = 0)', () => {
    for (const c of [
      mqarConstruction({ mixer: 's4d', numKeys: 2, vocabSize: 3 }),
      inductionHeadsConstruction({ vocabSize: 3 }),
      keepNthConstruction({ n: 2, vocabSize: 3 }),
    ]) {
      for (const [name, v] of Object.entries(c.params)) {
        expect(v).toBeInstanceOf(Float32Array);
        for (const x of v)
          if (!Number.isFinite(x)) expect(name.endsWith('A_log') && x === -Infinity, `${name} holds ${x}`).toBe(true);
      }
      c.dispose();
    }
  });

  it('no tensor leaks: build, predict, createModel, dispose', () => {
    const before = tf.memory().numTensors;
    for (const c of [
      keepNthConstruction({ n: 2, vocabSize: 5 }),
      clockConstruction(),
      inductionHeadsConstruction({ vocabSize: 4 }),
      mqarConstruction({ mixer: 'mamba', numKeys: 2, vocabSize: 4 }),
      mqarConstruction({ mixer: 'mamba2', numKeys: 2, vocabSize: 4, embedding: 'jl', jlDim: { keys: 3, values: 3 } }),
      mqarConstruction({ mixer: 's4d', numKeys: 2, vocabSize: 4, embedding: 'jl', jlDim: 3 }),
    ]) {
      c.predict([[0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 0, 1].map((v) => Math.min(v, c.config.vocabSize - 1))]);
      c.createModel().dispose();
      c.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ── the ingredients matter: ablations fail ───────────────────────────────────────────────────────

/** Argmax predictions of a block with the construction's weights, some replaced. */
function ablatedPredict(
  c: Construction,
  patch: Record<string, (v: Float32Array) => Float32Array>,
  inputs: Int32Array,
  S: number,
  T: number,
  config = c.config,
): Float64Array {
  const m = new MambaModel(config);
  try {
    for (const n of m.paramNames()) m.setParam(n, patch[n] ? patch[n](Float32Array.from(c.params[n])) : c.params[n]);
    const logits = m.forward(tf.tensor2d(inputs, [S, T], 'int32'));
    const am = logits.argMax(2);
    const out = Float64Array.from(am.dataSync());
    tf.dispose([logits, am]);
    return out;
  } finally {
    m.dispose();
  }
}

describe('ablations: removing what the proofs rely on breaks the 100%', () => {
  it('Thm. 2 JL without the shift-undo bias (72) fails', () => {
    withConstruction(
      mqarConstruction({ mixer: 'mamba', numKeys: 8, vocabSize: 64, embedding: 'jl', jlDim: 16 }),
      (c) => {
        const S = 300;
        const data = mqar({ numKeys: 8, vocabSize: 64, T: 32, numSamples: S, seed: 9 });
        const pred = ablatedPredict(c, { 'lm_head.bias': (b) => b.fill(0) }, data.inputs, S, 32);
        let wrong = 0;
        for (let s = 0; s < S; s++)
          for (const [t, y] of mqarExpected(data.inputs.subarray(s * 32, (s + 1) * 32), 8))
            if (pred[s * 32 + t] !== y) wrong++;
        expect(wrong).toBeGreaterThan(S); // and with the bias: 0 wrong (tests above)
      },
    );
  });

  it("Thm. 2 JL with the bias scale of (72) as printed, −(c0k − b) W_o s (without C_t's factor c1k − b), fails", () => {
    withConstruction(
      mqarConstruction({ mixer: 'mamba', numKeys: 8, vocabSize: 64, embedding: 'jl', jlDim: 16 }),
      (c) => {
        const S = 300;
        const data = mqar({ numKeys: 8, vocabSize: 64, T: 32, numSamples: S, seed: 9 });
        const pred = ablatedPredict(c, { 'lm_head.bias': (b) => b.map((x) => x / (10 * 10 - 3)) }, data.inputs, S, 32);
        let wrong = 0;
        for (let s = 0; s < S; s++)
          for (const [t, y] of mqarExpected(data.inputs.subarray(s * 32, (s + 1) * 32), 8))
            if (pred[s * 32 + t] !== y) wrong++;
        expect(wrong).toBeGreaterThan(S);
      },
    );
  });

  it('Lem. 3 with (102a) literally (no Δ bias: other columns decay by softplus(0) = ln 2 per step) fails', () => {
    withConstruction(inductionHeadsConstruction({ vocabSize: 10 }), (c) => {
      const S = 200;
      const T = 100;
      const data = inductionHeads({ vocabSize: 10, T, numSamples: S, seed: 3 });
      const pred = ablatedPredict(c, { 'mixer.dt_proj.bias': (b) => b.fill(0) }, data.inputs, S, T);
      let wrong = 0;
      for (let s = 0; s < S; s++) {
        ihExpected(data.inputs.subarray(s * T, (s + 1) * T)).forEach((y, t) => {
          const got = pred[s * T + t] === 10 ? -1 : pred[s * T + t];
          if (got !== y) wrong++;
        });
      }
      expect(wrong).toBeGreaterThan(S);
    });
  });

  it('Cor. 2 with the identity discretisation (B̄ = B) instead of ZOH fails (the state keeps every x_s, s ≥ n)', () => {
    withConstruction(keepNthConstruction({ n: 4, vocabSize: 8 }), (c) => {
      const S = 200;
      const T = 20;
      const data = keepNth({ n: 4, vocabSize: 8, T, numSamples: S, seed: 4 });
      const pred = ablatedPredict(c, {}, data.inputs, S, T, { ...c.config, discretization: 'identity' });
      let wrong = 0;
      for (let s = 0; s < S; s++) for (let t = 3; t < T; t++) if (pred[s * T + t] !== data.inputs[s * T + 3]) wrong++;
      expect(wrong).toBeGreaterThan(S);
    });
  });
});

// ── errors ───────────────────────────────────────────────────────────────────────────────────────

describe('bad input names the argument', () => {
  it('MQAR options', () => {
    const bad = (o: unknown) => () => mqarConstruction(o as MqarConstructionOptions);
    expect(bad({ mixer: 'mamba', numKeys: 0, vocabSize: 4 })).toThrow(
      /options.numKeys: expected an integer in \[1, 2\^20\], got 0/,
    );
    expect(bad({ mixer: 'mamba', numKeys: 2.5, vocabSize: 4 })).toThrow(ConfigError);
    expect(bad({ mixer: 'rnn', numKeys: 2, vocabSize: 4 })).toThrow(
      /options.mixer: expected 'mamba' \| 'mamba2' \| 's4d', got "rnn"/,
    );
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: -1 })).toThrow(/options.vocabSize/);
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: 4, embedding: 'hash' })).toThrow(/options.embedding/);
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: 4, jlDim: 3 })).toThrow(
      /options.jlDim: expected undefined with embedding 'onehot'/,
    );
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: 4, embedding: 'jl', jlDim: 0 })).toThrow(
      /options.jlDim: expected an integer in \[1, 65536\]/,
    );
    expect(bad({ mixer: 's4d', numKeys: 2, vocabSize: 4, embedding: 'jl', jlDim: { keys: 3 } })).toThrow(
      /options.jlDim.keys/,
    );
    expect(bad({ mixer: 'mamba2', numKeys: 2, vocabSize: 4, embedding: 'jl', seed: -1 })).toThrow(/options.seed/);
    expect(bad({ mixer: 's4d', numKeys: 64, vocabSize: 512 })).toThrow(
      /options.numKeys\/vocabSize: expected sizes giving at most 2\^26 weights/,
    );
    expect(bad(null)).toThrow(/options: expected an object/);
    expect(bad({ mixer: '__proto__', numKeys: 2, vocabSize: 4 })).toThrow(
      /options.mixer: expected 'mamba' \| 'mamba2' \| 's4d', got "__proto__"/,
    );
    expect(bad({ mixer: 'constructor', numKeys: 2, vocabSize: 4 })).toThrow(/options.mixer/);
  });

  it('KEEP n-TH, INDUCTION HEADS options', () => {
    expect(() => keepNthConstruction({ n: 0, vocabSize: 4 })).toThrow(/options.n: expected an integer ≥ 1, got 0/);
    expect(() => keepNthConstruction({ n: 9, vocabSize: 4, T: 8 })).toThrow(
      /options.n: expected an integer in \[1, T=8\], got 9/,
    );
    expect(() => keepNthConstruction({ n: 2, vocabSize: 0 })).toThrow(/options.vocabSize/);
    expect(() => inductionHeadsConstruction({ vocabSize: 1.5 })).toThrow(/options.vocabSize/);
  });

  it('predict: ragged rows, out-of-range ids and non-integers are refused', () => {
    withConstruction(inductionHeadsConstruction({ vocabSize: 3 }), (c) => {
      expect(() => c.predict([[0, 1], [2]])).toThrow(/tokens: expected a non-empty rectangular number\[\]\[\]/);
      expect(() => c.predict([[0, 3]])).toThrow(/tokens: expected integer token ids in \[0, 3\), got 3 at \[0\]\[1\]/);
      expect(() => c.predict([[0, 0.5]])).toThrow(ConfigError);
      expect(() => c.predictFlat(new Int32Array(5), 2, 3)).toThrow(
        /tokens: expected an Int32Array of numSeqs·T = 2·3 ids/,
      );
      expect(() => c.predictFlat(Int32Array.of(0, 7), 1, 2)).toThrow(ValueError);
    });
  });
});

// ── JL matrices ──────────────────────────────────────────────────────────────────────────────────

describe('JL embeddings (Lem. 4)', () => {
  it('entries are ±1/√p, ε is the largest |⟨M e_i, M e_j⟩|, and the seed reproduces the matrix', () => {
    const c = mqarConstruction({
      mixer: 'mamba2',
      numKeys: 6,
      vocabSize: 9,
      embedding: 'jl',
      jlDim: { keys: 5, values: 7 },
      seed: 42,
    });
    const again = mqarConstruction({
      mixer: 'mamba2',
      numKeys: 6,
      vocabSize: 9,
      embedding: 'jl',
      jlDim: { keys: 5, values: 7 },
      seed: 42,
    });
    const E = c.params['embedding.weight']; // [κ+|V|, d], values on channels [5, 12)
    expect(Array.from(E)).toEqual(Array.from(again.params['embedding.weight']));
    let eps = 0;
    let maxInner = -Infinity;
    for (let i = 0; i < 9; i++) {
      for (let r = 0; r < 7; r++)
        expect(Math.abs(Math.abs(E[(6 + i) * 12 + 5 + r]) - 1 / Math.sqrt(7))).toBeLessThan(1e-7);
      for (let j = i + 1; j < 9; j++) {
        let g = 0;
        for (let r = 0; r < 7; r++) g += E[(6 + i) * 12 + 5 + r] * E[(6 + j) * 12 + 5 + r];
        eps = Math.max(eps, Math.abs(g));
        maxInner = Math.max(maxInner, g);
      }
    }
    expect(c.dims.jl!.values!.epsilon).toBeCloseTo(eps, 6);
    expect(c.dims.jl!.values!.maxInner).toBeCloseTo(maxInner, 6);
    c.dispose();
    again.dispose();
  });

  it("default dimension is Lem. 4's p = ⌈4ε⁻² ln(n/δ)⌉ with ε = δ = ½", () => {
    const c = mqarConstruction({ mixer: 'mamba2', numKeys: 5, vocabSize: 30, embedding: 'jl' });
    expect(c.dims.jl!.values!.p).toBe(Math.ceil(16 * Math.log(60)));
    expect(c.dims.jl!.keys!.p).toBe(Math.ceil(16 * Math.log(10)));
    c.dispose();
  });
});
