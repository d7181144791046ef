/**
 * The paper's analytic constructions (Cor. 2, Prop. 1, Thm. 2–4, Lem. 3) as weights of the ordinary
 * block: every prediction on ≥ 10⁴ random instances at several sizes equals a brute-force answer
 * computed here from the task definitions; long sequences (T = 2048); the loaded block is the
 * ordinary MambaModel; ablations of the ingredients the constructions rely on do fail; no tensor
 * leaks; bad options name the argument.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, MambaModel, ValueError, ready, tf } from '../src/index.js';
import {
  clockConstruction, inductionHeadsConstruction, keepNthConstruction, mqarConstruction,
  type Construction, type MqarConstructionOptions,
} from '../src/constructions/index.js';
import { inductionHeads, keepNth, mqar } from '../src/tasks/index.js';

beforeAll(async () => {
  await ready();
});

// ── brute-force answers, straight from the task definitions ──────────────────────────────────────

/** MQAR (46)–(47): at a key in the query region, the value index that followed it in the pair region. */
function mqarExpected(x: ArrayLike<number>, K: number): Map<number, number> {
  const out = new Map<number, number>();
  for (let t = 2 * K; t < x.length; t++) {
    if (x[t] >= K) continue;
    let found = -1;
    for (let s = 0; s < 2 * K; s++) if (x[s] === x[t]) found = x[s + 1] - K;
    out.set(t, found);
  }
  return out;
}

/** INDUCTION HEADS: the token after the latest earlier occurrence of x_t, or −1. */
function ihExpected(x: ArrayLike<number>): number[] {
  return Array.from(x, (v, t) => {
    for (let j = t - 1; j >= 0; j--) if (x[j] === v) return x[j + 1];
    return -1;
  });
}

interface Tally {
  checked: number;
  wrong: number;
  example?: string;
}

/**
 * Run `c` on inputs [S, T] and compare each scored position with `expected`. Chunks of 500 instances,
 * yielding to the event loop between them so that vitest's worker stays responsive in long tests.
 */
async function tally(c: Construction, inputs: Int32Array, S: number, T: number, expected: (x: Int32Array) => Map<number, number>): Promise<Tally> {
  const r: Tally = { checked: 0, wrong: 0 };
  for (let s0 = 0; s0 < S; s0 += 500) {
    const b = Math.min(500, S - s0);
    const wanted = Array.from({ length: b }, (_, i) => expected(inputs.subarray((s0 + i) * T, (s0 + i + 1) * T)));
    const readAt = new Uint8Array(b * T); // decode only the scored positions (the others come back NaN)
    wanted.forEach((m, i) => m.forEach((_, t) => (readAt[i * T + t] = 1)));
    const pred = c.predictFlat(inputs.subarray(s0 * T, (s0 + b) * T), b, T, readAt);
    for (let s = s0; s < s0 + b; s++) {
      for (const [t, want] of wanted[s - s0]) {
        r.checked++;
        const got = pred[(s - s0) * T + t];
        if (got !== want) {
          r.wrong++;
          r.example ??= `instance ${s}, t=${t}: expected ${want}, got ${got}`;
        }
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return r;
}

function expectPerfect(r: Tally, minChecked: number) {
  expect(r.example, 'first wrong answer').toBeUndefined();
  expect(r.wrong).toBe(0);
  expect(r.checked).toBeGreaterThanOrEqual(minChecked);
}

/** Score an MQAR construction on S instances of tasks.mqar; also counts queries right after a key (the edge case (64)). */
async function mqarTally(c: Construction, K: number, V: number, T: number, S: number, seed: number): Promise<Tally & { keyKeyQueries: number }> {
  const data = mqar({ numKeys: K, vocabSize: V, T, numSamples: S, seed });
  let keyKeyQueries = 0;
  for (let s = 0; s < S; s++) for (let t = 2 * K + 1; t < T; t++) if (data.inputs[s * T + t] < K && data.inputs[s * T + t - 1] < K) keyKeyQueries++;
  return { ...(await tally(c, data.inputs, S, T, (x) => mqarExpected(x, K))), keyKeyQueries };
}

function withConstruction<R>(c: Construction, f: (c: Construction) => R): R {
  try {
    return f(c);
  } finally {
    c.dispose();
  }
}

async function withConstructionAsync<R>(c: Construction, f: (c: Construction) => Promise<R>): Promise<R> {
  try {
    return await f(c);
  } finally {
    c.dispose();
  }
}

// ── Cor. 2: KEEP n-TH ─────────────────────────────────────────────────────────────────────────────

describe('Cor. 2 — KEEP n-TH with S6 + PE only', () => {
  const keepTally = (n: number, V: number, T: number, S: number, seed: number) =>
    withConstructionAsync(keepNthConstruction({ n, vocabSize: V, T }), async (c) => {
      expect(c.config.conv).toBe(false);
      expect(c.config.gate).toBe(false);
      expect(c.config.mixer).toBe('s6');
      const data = keepNth({ n, vocabSize: V, T, numSamples: S, seed });
      return tally(c, data.inputs, S, T, (x) => new Map(Array.from({ length: T - n + 1 }, (_, i) => [n - 1 + i, x[n - 1]])));
    });

  it('10⁴ instances, n = 5, |V| = 16, T = 64: x_n at every t ≥ n', async () => {
    expectPerfect(await keepTally(5, 16, 64, 10_000, 11), 10_000 * 60);
  });

  it('10⁴ instances, n = 1 and n = T, |V| = 128, T = 12', async () => {
    expectPerfect(await keepTally(1, 128, 12, 10_000, 12), 10_000 * 12);
    expectPerfect(await keepTally(12, 128, 12, 10_000, 13), 10_000);
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

type Case = [label: string, opts: MqarConstructionOptions, T: number, S: number];

/** 10⁴-instance cases: every mixer × embedding at two small sizes. */
const TEN_K: Case[] = [
  ['Thm. 2 one-hot κ=4 |V|=16', { mixer: 'mamba', numKeys: 4, vocabSize: 16 }, 16, 10_000],
  ['Thm. 2 one-hot κ=8 |V|=32', { mixer: 'mamba', numKeys: 8, vocabSize: 32 }, 28, 10_000],
  ['Thm. 2 JL (Lem. 4 p) κ=4 |V|=16', { mixer: 'mamba', numKeys: 4, vocabSize: 16, embedding: 'jl' }, 16, 10_000],
  ['Thm. 2 JL p=24 κ=8 |V|=128', { mixer: 'mamba', numKeys: 8, vocabSize: 128, embedding: 'jl', jlDim: 24 }, 28, 10_000],
  ['Thm. 3 one-hot κ=4 |V|=16', { mixer: 'mamba2', numKeys: 4, vocabSize: 16 }, 16, 10_000],
  ['Thm. 3 one-hot κ=8 |V|=32', { mixer: 'mamba2', numKeys: 8, vocabSize: 32 }, 28, 10_000],
  ['Thm. 3 JL p_k=32 p_v=24 κ=4 |V|=16', { mixer: 'mamba2', numKeys: 4, vocabSize: 16, embedding: 'jl', jlDim: { keys: 32, values: 24 } }, 12, 10_000],
  ['Thm. 4 one-hot κ=4 |V|=16', { mixer: 's4d', numKeys: 4, vocabSize: 16 }, 16, 10_000],
  ['Thm. 4 JL p=8 κ=4 |V|=16', { mixer: 's4d', numKeys: 4, vocabSize: 16, embedding: 'jl', jlDim: 8 }, 16, 10_000],
  ['Thm. 4 JL p=24 κ=8 |V|=128', { mixer: 's4d', numKeys: 8, vocabSize: 128, embedding: 'jl', jlDim: 24 }, 28, 10_000],
];

/** Larger sizes: every theorem at 10⁴ instances up to κ = 16, Thm. 2 and Thm. 3 up to κ = 64, |V| = 512, T = 256. */
const LARGER: Case[] = [
  ['Thm. 2 one-hot κ=16 |V|=128', { mixer: 'mamba', numKeys: 16, vocabSize: 128 }, 64, 10_000],
  ['Thm. 2 JL p=24 κ=64 |V|=512', { mixer: 'mamba', numKeys: 64, vocabSize: 512, embedding: 'jl', jlDim: 24 }, 256, 10_000],
  ['Thm. 3 one-hot κ=16 |V|=128', { mixer: 'mamba2', numKeys: 16, vocabSize: 128 }, 64, 10_000],
  ['Thm. 3 one-hot κ=64 |V|=512', { mixer: 'mamba2', numKeys: 64, vocabSize: 512 }, 256, 10_000],
  ['Thm. 4 JL p=24 κ=16 |V|=128', { mixer: 's4d', numKeys: 16, vocabSize: 128, embedding: 'jl', jlDim: 24 }, 64, 10_000],
];

/** Long sequences: T = 2048, one-hot, every mixer. */
const LONG: Case[] = (['mamba', 'mamba2', 's4d'] as const).map((mixer) => [`${mixer} one-hot κ=4 |V|=16 T=2048`, { mixer, numKeys: 4, vocabSize: 16 }, 2048, 64]);

describe('Thm. 2–4 — MQAR: 100% against brute force', () => {
  for (const [label, opts, T, S] of [...TEN_K, ...LARGER, ...LONG]) {
    it(`${label}, T=${T}: ${S} instances`, async () => {
      await withConstructionAsync(mqarConstruction(opts), async (c) => {
        if (opts.embedding === 'jl' && opts.mixer !== 'mamba2') expect(c.dims.jl!.values!.maxInner).toBeLessThan(1 - 1e-6); // distinct value codes
        const r = await mqarTally(c, opts.numKeys, opts.vocabSize, T, S, 100 + T);
        expectPerfect(r, S * opts.numKeys);
        if (T <= 4 * opts.numKeys) expect(r.keyKeyQueries).toBeGreaterThan(0); // the edge case is exercised
      });
    }, 400_000); // κ = 64, T = 256, 10⁴ instances: Thm. 2 ~11 s, Thm. 3 (d = 576) ~75 s alone, more beside the Tab. 1 test on 2 cores
  }

  it('dims: d and N as in the theorems', () => {
    const dims = (o: MqarConstructionOptions) => withConstruction(mqarConstruction(o), (c) => [c.dims.d, c.dims.N]);
    expect(dims({ mixer: 'mamba', numKeys: 5, vocabSize: 7 })).toEqual([12, 5]);
    expect(dims({ mixer: 'mamba', numKeys: 5, vocabSize: 7, embedding: 'jl', jlDim: 6 })).toEqual([11, 5]);
    expect(dims({ mixer: 'mamba2', numKeys: 5, vocabSize: 7 })).toEqual([12, 5]);
    expect(dims({ mixer: 'mamba2', numKeys: 5, vocabSize: 7, embedding: 'jl', jlDim: { keys: 3, values: 4 } })).toEqual([7, 3]);
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
  const ihTally = (V: number, T: number, S: number, setting: 'standard' | 'hard', seed: number) =>
    withConstructionAsync(inductionHeadsConstruction({ vocabSize: V }), async (c) => {
      expect([c.dims.d, c.dims.N]).toEqual([2 * V, V]);
      const data = inductionHeads({ vocabSize: V, T, numSamples: S, seed, setting });
      if (setting === 'hard') expect(data.hard.reduce((a, b) => a + b, 0)).toBeGreaterThan(S / 2);
      return tally(c, data.inputs, S, T, (x) => new Map(ihExpected(x).map((y, t) => [t, y])));
    });

  it('10⁴ instances, |V| = 5, T = 100, standard', async () => expectPerfect(await ihTally(5, 100, 10_000, 'standard', 21), 1e6));
  it('10⁴ instances, |V| = 5, T = 100, hard setting', async () => expectPerfect(await ihTally(5, 100, 10_000, 'hard', 22), 1e6));
  it('10⁴ instances, |V| = 20, T = 100, hard setting', async () => expectPerfect(await ihTally(20, 100, 10_000, 'hard', 23), 1e6));
  it('10⁴ instances, |V| = 40, T = 100, hard setting', async () => expectPerfect(await ihTally(40, 100, 10_000, 'hard', 24), 1e6), 300_000);
  it('long sequences: |V| = 20, T = 2048, 64 instances', async () => expectPerfect(await ihTally(20, 2048, 64, 'standard', 25), 64 * 2048));

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
    for (const c of [mqarConstruction({ mixer: 's4d', numKeys: 2, vocabSize: 3 }), inductionHeadsConstruction({ vocabSize: 3 }), keepNthConstruction({ n: 2, vocabSize: 3 })]) {
      for (const [name, v] of Object.entries(c.params)) {
        expect(v).toBeInstanceOf(Float32Array);
        for (const x of v) if (!Number.isFinite(x)) expect(name.endsWith('A_log') && x === -Infinity, `${name} holds ${x}`).toBe(true);
      }
      c.dispose();
    }
  });

  it('no tensor leaks: build, predict, createModel, dispose', () => {
    const before = tf.memory().numTensors;
    for (const c of [
      keepNthConstruction({ n: 2, vocabSize: 5 }), clockConstruction(), inductionHeadsConstruction({ vocabSize: 4 }),
      mqarConstruction({ mixer: 'mamba', numKeys: 2, vocabSize: 4 }), mqarConstruction({ mixer: 'mamba2', numKeys: 2, vocabSize: 4, embedding: 'jl', jlDim: { keys: 3, values: 3 } }),
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
function ablatedPredict(c: Construction, patch: Record<string, (v: Float32Array) => Float32Array>, inputs: Int32Array, S: number, T: number, config = c.config): Float64Array {
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
    withConstruction(mqarConstruction({ mixer: 'mamba', numKeys: 8, vocabSize: 64, embedding: 'jl', jlDim: 16 }), (c) => {
      const S = 300;
      const data = mqar({ numKeys: 8, vocabSize: 64, T: 32, numSamples: S, seed: 9 });
      const pred = ablatedPredict(c, { 'lm_head.bias': (b) => b.fill(0) }, data.inputs, S, 32);
      let wrong = 0;
      for (let s = 0; s < S; s++) for (const [t, y] of mqarExpected(data.inputs.subarray(s * 32, (s + 1) * 32), 8)) if (pred[s * 32 + t] !== y) wrong++;
      expect(wrong).toBeGreaterThan(S); // and with the bias: 0 wrong (tests above)
    });
  });

  it('Thm. 2 JL with the bias scale of (72) as printed, −(c0k − b) W_o s (without C_t\'s factor c1k − b), fails', () => {
    withConstruction(mqarConstruction({ mixer: 'mamba', numKeys: 8, vocabSize: 64, embedding: 'jl', jlDim: 16 }), (c) => {
      const S = 300;
      const data = mqar({ numKeys: 8, vocabSize: 64, T: 32, numSamples: S, seed: 9 });
      const pred = ablatedPredict(c, { 'lm_head.bias': (b) => b.map((x) => x / (10 * 10 - 3)) }, data.inputs, S, 32);
      let wrong = 0;
      for (let s = 0; s < S; s++) for (const [t, y] of mqarExpected(data.inputs.subarray(s * 32, (s + 1) * 32), 8)) if (pred[s * 32 + t] !== y) wrong++;
      expect(wrong).toBeGreaterThan(S);
    });
  });

  it("Lem. 3 with (102a) literally (no Δ bias: other columns decay by softplus(0) = ln 2 per step) fails", () => {
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
    expect(bad({ mixer: 'mamba', numKeys: 0, vocabSize: 4 })).toThrow(/options.numKeys: expected an integer in \[1, 2\^20\], got 0/);
    expect(bad({ mixer: 'mamba', numKeys: 2.5, vocabSize: 4 })).toThrow(ConfigError);
    expect(bad({ mixer: 'rnn', numKeys: 2, vocabSize: 4 })).toThrow(/options.mixer: expected 'mamba' \| 'mamba2' \| 's4d', got "rnn"/);
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: -1 })).toThrow(/options.vocabSize/);
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: 4, embedding: 'hash' })).toThrow(/options.embedding/);
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: 4, jlDim: 3 })).toThrow(/options.jlDim: expected undefined with embedding 'onehot'/);
    expect(bad({ mixer: 'mamba', numKeys: 2, vocabSize: 4, embedding: 'jl', jlDim: 0 })).toThrow(/options.jlDim: expected an integer in \[1, 65536\]/);
    expect(bad({ mixer: 's4d', numKeys: 2, vocabSize: 4, embedding: 'jl', jlDim: { keys: 3 } })).toThrow(/options.jlDim.keys/);
    expect(bad({ mixer: 'mamba2', numKeys: 2, vocabSize: 4, embedding: 'jl', seed: -1 })).toThrow(/options.seed/);
    expect(bad({ mixer: 's4d', numKeys: 64, vocabSize: 512 })).toThrow(/options.numKeys\/vocabSize: expected sizes giving at most 2\^26 weights/);
    expect(bad(null)).toThrow(/options: expected an object/);
    expect(bad({ mixer: '__proto__', numKeys: 2, vocabSize: 4 })).toThrow(/options.mixer: expected 'mamba' \| 'mamba2' \| 's4d', got "__proto__"/);
    expect(bad({ mixer: 'constructor', numKeys: 2, vocabSize: 4 })).toThrow(/options.mixer/);
  });

  it('KEEP n-TH, INDUCTION HEADS options', () => {
    expect(() => keepNthConstruction({ n: 0, vocabSize: 4 })).toThrow(/options.n: expected an integer ≥ 1, got 0/);
    expect(() => keepNthConstruction({ n: 9, vocabSize: 4, T: 8 })).toThrow(/options.n: expected an integer in \[1, T=8\], got 9/);
    expect(() => keepNthConstruction({ n: 2, vocabSize: 0 })).toThrow(/options.vocabSize/);
    expect(() => inductionHeadsConstruction({ vocabSize: 1.5 })).toThrow(/options.vocabSize/);
  });

  it('predict: ragged rows, out-of-range ids and non-integers are refused', () => {
    withConstruction(inductionHeadsConstruction({ vocabSize: 3 }), (c) => {
      expect(() => c.predict([[0, 1], [2]])).toThrow(/tokens: expected a non-empty rectangular number\[\]\[\]/);
      expect(() => c.predict([[0, 3]])).toThrow(/tokens: expected integer token ids in \[0, 3\), got 3 at \[0\]\[1\]/);
      expect(() => c.predict([[0, 0.5]])).toThrow(ConfigError);
      expect(() => c.predictFlat(new Int32Array(5), 2, 3)).toThrow(/tokens: expected an Int32Array of numSeqs·T = 2·3 ids/);
      expect(() => c.predictFlat(Int32Array.of(0, 7), 1, 2)).toThrow(ValueError);
    });
  });
});

// ── JL matrices ──────────────────────────────────────────────────────────────────────────────────

describe('JL embeddings (Lem. 4)', () => {
  it('entries are ±1/√p, ε is the largest |⟨M e_i, M e_j⟩|, and the seed reproduces the matrix', () => {
    const c = mqarConstruction({ mixer: 'mamba2', numKeys: 6, vocabSize: 9, embedding: 'jl', jlDim: { keys: 5, values: 7 }, seed: 42 });
    const again = mqarConstruction({ mixer: 'mamba2', numKeys: 6, vocabSize: 9, embedding: 'jl', jlDim: { keys: 5, values: 7 }, seed: 42 });
    const E = c.params['embedding.weight']; // [κ+|V|, d], values on channels [5, 12)
    expect(Array.from(E)).toEqual(Array.from(again.params['embedding.weight']));
    let eps = 0;
    let maxInner = -Infinity;
    for (let i = 0; i < 9; i++) {
      for (let r = 0; r < 7; r++) expect(Math.abs(Math.abs(E[(6 + i) * 12 + 5 + r]) - 1 / Math.sqrt(7))).toBeLessThan(1e-7);
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
