/**
 * The 1-layer Transformer baseline against an independent float64 loop (embedding, causal
 * attention with explicit softmax loops over s ≤ t, LayerNorm, MLP, output layer), causality of
 * values and gradients, gradients against finite differences, safetensors, parameter counts
 * against the paper (Tab. 1, Tab. A.1/A.2), input checking, leaks, and a tiny learning check.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  ConfigError,
  MambaModel,
  Rng,
  ShapeError,
  ValueError,
  backendInfo,
  ready,
  tf,
} from '../src/index.js';
import { TransformerModel, type TransformerConfig } from '../src/models/transformer.js';
import { expectClose, expectGradsMatchFiniteDifferences, matvec, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

const randomTokens = (b: number, L: number, V: number, seed: number) => {
  const r = new Rng(seed);
  return Array.from({ length: b }, () => Array.from({ length: L }, () => r.int(V)));
};

/** Move every parameter off its init (LN weight 1, bias 0, ...) so the test sees every term. */
function perturb(m: TransformerModel, seed: number, scale = 0.3) {
  const r = new Rng(seed);
  for (const name of m.paramNames()) {
    const v = m.getParam(name);
    m.setParam(
      name,
      tf.tensor(
        Float32Array.from(v.dataSync(), (x) => x + scale * r.normal()),
        v.shape,
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Independent float64 reference: loops only, no tfjs, no code shared with the library.

/** erf in float64: Maclaurin series for |u| < 2.5, Lentz continued fraction for erfc beyond. */
function erf64(u: number): number {
  const a = Math.abs(u);
  if (a < 2.5) {
    let term = a,
      sum = a;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(u) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + …)))))
  const tiny = 1e-300;
  let f = a,
    C = a,
    D = 0;
  for (let k = 1; k < 300; k++) {
    const num = k / 2;
    D = a + num * D;
    D = Math.abs(D) < tiny ? tiny : D;
    C = a + num / C;
    C = Math.abs(C) < tiny ? tiny : C;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(u) * (1 - erfc);
}

function layerNorm64(v: Float64Array, w: Float64Array, b: Float64Array): Float64Array {
  const n = v.length;
  let mu = 0;
  for (let i = 0; i < n; i++) mu += v[i] / n;
  let va = 0;
  for (let i = 0; i < n; i++) va += (v[i] - mu) ** 2 / n;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = ((v[i] - mu) / Math.sqrt(va + 1e-5)) * w[i] + b[i];
  return r;
}

/** logits [b, L, C] and attention probabilities [b, H, L, L] of the model, in float64. */
function transformerRef64(m: TransformerModel, tokens: number[][]): { logits: Float64Array; attention: Float64Array } {
  const c = m.config;
  const W: Record<string, Float64Array> = {};
  for (const n of m.paramNames()) W[n] = Float64Array.from(m.getParam(n).dataSync());
  const { dModel: d, numHeads: H, numClasses: C } = c;
  const dh = d / H;
  const L = tokens[0].length;
  const logits = new Float64Array(tokens.length * L * C);
  const attention = new Float64Array(tokens.length * H * L * L);
  tokens.forEach((seq, bi) => {
    const xs = seq.map((tok, t) =>
      Float64Array.from(
        { length: d },
        (_, i) => W['embedding.weight'][tok * d + i] + W['pos_embedding.weight'][t * d + i],
      ),
    );
    const a = xs.map((x) => (c.layerNorm ? layerNorm64(x, W['ln_attn.weight'], W['ln_attn.bias']) : x));
    const q = a.map((v) => matvec(W['attn.q_proj.weight'], d, d, v, W['attn.q_proj.bias']));
    const k = a.map((v) => matvec(W['attn.k_proj.weight'], d, d, v, W['attn.k_proj.bias']));
    const val = a.map((v) => matvec(W['attn.v_proj.weight'], d, d, v, W['attn.v_proj.bias']));
    const o = xs.map(() => new Float64Array(d));
    for (let hh = 0; hh < H; hh++) {
      for (let t = 0; t < L; t++) {
        const sc: number[] = [];
        for (let s = 0; s <= t; s++) {
          // causal: keys s ≤ t only
          let dot = 0;
          for (let j = 0; j < dh; j++) dot += q[t][hh * dh + j] * k[s][hh * dh + j];
          sc.push(dot / Math.sqrt(dh));
        }
        const mx = Math.max(...sc);
        const e = sc.map((v) => Math.exp(v - mx));
        const Z = e.reduce((x, y) => x + y, 0);
        for (let s = 0; s <= t; s++) {
          const p = e[s] / Z;
          attention[((bi * H + hh) * L + t) * L + s] = p;
          for (let j = 0; j < dh; j++) o[t][hh * dh + j] += p * val[s][hh * dh + j];
        }
      }
    }
    for (let t = 0; t < L; t++) {
      const h = matvec(W['attn.out_proj.weight'], d, d, o[t], W['attn.out_proj.bias']).map((v, i) => v + xs[t][i]);
      if (c.mlp) {
        const F = c.mlp.hidden;
        const mi = c.layerNorm ? layerNorm64(h, W['ln_mlp.weight'], W['ln_mlp.bias']) : h;
        const z = matvec(W['mlp.fc1.weight'], F, d, mi, W['mlp.fc1.bias']).map((v) =>
          c.mlp && c.mlp.activation === 'gelu' ? 0.5 * v * (1 + erf64(v / Math.SQRT2)) : Math.max(0, v),
        );
        const y = matvec(W['mlp.fc2.weight'], d, F, z, W['mlp.fc2.bias']);
        for (let i = 0; i < d; i++) h[i] += y[i];
      }
      const f = c.layerNorm ? layerNorm64(h, W['ln_f.weight'], W['ln_f.bias']) : h;
      logits.set(matvec(W['lm_head.weight'], C, d, f, W['lm_head.bias']), (bi * L + t) * C);
    }
  });
  return { logits, attention };
}

// ---------------------------------------------------------------------------------------------

const CONFIGS: [string, TransformerConfig][] = [
  ['1 head, LN, no MLP (the default layout)', { vocabSize: 11, dModel: 8, maxLen: 12 }],
  ['2 heads, LN, no MLP', { vocabSize: 9, dModel: 8, maxLen: 10, numHeads: 2 }],
  ['2 heads, no LN, no MLP', { vocabSize: 9, dModel: 6, maxLen: 9, numHeads: 2, layerNorm: false }],
  ['1 head, LN, GELU MLP (F = 12)', { vocabSize: 7, dModel: 6, maxLen: 9, mlp: { hidden: 12 } }],
  [
    '2 heads, LN, ReLU MLP (F = 5), numClasses 5',
    { vocabSize: 10, numClasses: 5, dModel: 4, maxLen: 9, numHeads: 2, mlp: { hidden: 5, activation: 'relu' } },
  ],
  [
    '4 heads, no LN, GELU MLP (default F = 4d)',
    { vocabSize: 8, dModel: 8, maxLen: 9, numHeads: 4, layerNorm: false, mlp: {} },
  ],
];

describe('TransformerModel forward = float64 loop (embedding, causal softmax attention, LN, MLP, output)', () => {
  for (const [name, cfg] of CONFIGS) {
    it(name, () => {
      const m = new TransformerModel({ ...cfg, seed: 3 });
      perturb(m, 4);
      const tokens = randomTokens(2, 9, cfg.vocabSize, 5);
      const C = cfg.numClasses ?? cfg.vocabSize;
      const ref = transformerRef64(m, tokens);
      const logits = m.forward(tokens);
      expect(logits.shape).toEqual([2, 9, C]);
      expectClose(read(logits), ref.logits, 'logits', 2e-5, 2e-4);
      const r = m.forwardWithInternals(tokens);
      expect(r.attention.shape).toEqual([2, m.config.numHeads, 9, 9]);
      expectClose(read(r.attention), ref.attention, 'attention probabilities', 1e-6, 1e-4);
      expectClose(read(r.logits), ref.logits, 'internals.logits', 2e-5, 2e-4);
      tf.dispose([logits, r as unknown as tf.TensorContainer]);
      m.dispose();
    });
  }

  it('shorter inputs use the first L rows of pos_embedding; a tensor input gives the same logits', () => {
    const m = new TransformerModel({ vocabSize: 6, dModel: 4, maxLen: 20, numHeads: 2, seed: 1 });
    const tokens = randomTokens(3, 1, 6, 2);
    const a = m.forward(tokens);
    const tt = tf.tensor2d(tokens, [3, 1], 'int32');
    const b = m.forward(tt);
    expectClose(read(a), transformerRef64(m, tokens).logits, 'L = 1 logits', 2e-5, 2e-4);
    expect(Array.from(read(b))).toEqual(Array.from(read(a)));
    tf.dispose([a, b, tt]);
    m.dispose();
  });
});

describe('causality', () => {
  it('changing token t changes no logit before t (exactly), and changes logit t', () => {
    for (const cfg of [CONFIGS[1], CONFIGS[4]]) {
      const m = new TransformerModel({ ...cfg[1], seed: 1 });
      perturb(m, 2);
      const V = cfg[1].vocabSize,
        C = cfg[1].numClasses ?? V;
      const a = randomTokens(2, 9, V, 1);
      const b = a.map((r) => r.slice());
      b[0][6] = (b[0][6] + 1) % V;
      b[1][6] = (b[1][6] + 3) % V;
      const [la, lb] = [m.forward(a), m.forward(b)];
      const [A, B] = [read(la), read(lb)];
      for (let bi = 0; bi < 2; bi++) {
        const off = bi * 9 * C;
        expectClose(
          B.subarray(off, off + 6 * C),
          A.subarray(off, off + 6 * C),
          `${cfg[0]}: batch ${bi} logits before t=6`,
          0,
          0,
        );
        expect(
          Math.max(...B.subarray(off + 6 * C, off + 7 * C).map((v, i) => Math.abs(v - A[off + 6 * C + i]))),
        ).toBeGreaterThan(1e-4);
      }
      tf.dispose([la, lb]);
      m.dispose();
    }
  });

  it('attention is exactly zero right of the diagonal and each row sums to 1', () => {
    const m = new TransformerModel({ vocabSize: 9, dModel: 8, maxLen: 10, numHeads: 2, seed: 5 });
    perturb(m, 1, 1);
    const r = m.forwardWithInternals(randomTokens(2, 7, 9, 3));
    const P = read(r.attention);
    for (let row = 0; row < 2 * 2 * 7; row++) {
      const t = row % 7;
      let s = 0;
      for (let k = 0; k < 7; k++) {
        const p = P[row * 7 + k];
        if (k > t) expect(p).toBe(0);
        s += p;
      }
      expect(Math.abs(s - 1)).toBeLessThan(1e-5);
    }
    tf.dispose(r as unknown as tf.TensorContainer);
    m.dispose();
  });

  it('gradients are causal and finite, even with huge attention scores', () => {
    const m = new TransformerModel({ vocabSize: 9, dModel: 8, maxLen: 10, numHeads: 2, mlp: { hidden: 8 }, seed: 2 });
    perturb(m, 3);
    // scores of order 1e3–1e4: the −1e9 mask must still zero the future, with no NaN/∞ in the gradients
    for (const n of ['attn.q_proj.weight', 'attn.k_proj.weight']) m.setParam(n, m.getParam(n).mul(40));
    const tokens = randomTokens(2, 8, 9, 4);
    const s = 3;
    const { value, grads } = tf.variableGrads(
      () =>
        m
          .forward(tokens)
          .slice([0, 0, 0], [2, s + 1, 9])
          .sum() as tf.Scalar,
    );
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const [n, g] of Object.entries(grads))
      expect(read(g).every(Number.isFinite), `grad of ${n} finite`).toBe(true);
    const gpos = read(grads[m.getParam('pos_embedding.weight').name]);
    // rows t > s of the positional embedding only reach logits at positions ≥ t > s
    expect(Array.from(gpos.subarray((s + 1) * 8)).every((v) => v === 0)).toBe(true);
    expect(Array.from(gpos.subarray(0, (s + 1) * 8)).some((v) => v !== 0)).toBe(true);
    tf.dispose([value, ...Object.values(grads)]);
    m.dispose();
  });
});

describe('TransformerModel gradients = finite differences of the float64 loop', () => {
  for (const [name, cfg] of [CONFIGS[1], CONFIGS[2], CONFIGS[3], CONFIGS[5]]) {
    it(name, () => {
      const m = new TransformerModel({ ...cfg, seed: 2 });
      perturb(m, 6);
      const tokens = randomTokens(2, 6, cfg.vocabSize, 3);
      const C = cfg.numClasses ?? cfg.vocabSize;
      const Wl = new Rng(9).fill(2 * 6 * C, (r) => r.normal());
      const Wt = tf.tensor3d(Wl, [2, 6, C]);
      const { value, grads } = tf.variableGrads(() => m.forward(tokens).mul(Wt).sum() as tf.Scalar);
      expect(Object.keys(grads).length).toBe(m.paramNames().length); // every parameter gets a gradient
      const loss64 = () => transformerRef64(m, tokens).logits.reduce((s, v, i) => s + v * Wl[i], 0);
      expectGradsMatchFiniteDifferences(m, grads, loss64);
      tf.dispose([Wt, value, ...Object.values(grads)]);
      m.dispose();
    });
  }
});

describe('parameters', () => {
  it('are created in a fixed, documented order with torch-style names', () => {
    const m = new TransformerModel({ vocabSize: 5, dModel: 4, maxLen: 3, mlp: { hidden: 6 } });
    const lin = (n: string) => [`${n}.weight`, `${n}.bias`];
    expect(m.paramNames()).toEqual([
      'embedding.weight',
      'pos_embedding.weight',
      ...lin('ln_attn'),
      ...lin('attn.q_proj'),
      ...lin('attn.k_proj'),
      ...lin('attn.v_proj'),
      ...lin('attn.out_proj'),
      ...lin('ln_mlp'),
      ...lin('mlp.fc1'),
      ...lin('mlp.fc2'),
      ...lin('ln_f'),
      ...lin('lm_head'),
    ]);
    expect(m.getParam('mlp.fc1.weight').shape).toEqual([6, 4]); // torch Linear layout [out, in]
    expect(m.getParam('pos_embedding.weight').shape).toEqual([3, 4]);
    expect(Array.from(read(m.getParam('ln_attn.weight')))).toEqual([1, 1, 1, 1]);
    const bare = new TransformerModel({ vocabSize: 5, dModel: 4, maxLen: 3, layerNorm: false });
    expect(bare.paramNames().some((n) => n.startsWith('ln_'))).toBe(false);
    [m, bare].forEach((x) => x.dispose());
  });

  it('seeds reproduce: same seed → identical weights, different seed → different', () => {
    const cfg: TransformerConfig = { vocabSize: 10, dModel: 6, maxLen: 5, numHeads: 3, mlp: {} };
    const [a, b, c] = [
      new TransformerModel({ ...cfg, seed: 7 }),
      new TransformerModel({ ...cfg, seed: 7 }),
      new TransformerModel({ ...cfg, seed: 8 }),
    ];
    for (const n of a.paramNames()) expect(Array.from(read(a.getParam(n)))).toEqual(Array.from(read(b.getParam(n))));
    expect(Array.from(read(a.getParam('attn.q_proj.weight')))).not.toEqual(
      Array.from(read(c.getParam('attn.q_proj.weight'))),
    );
    [a, b, c].forEach((m) => m.dispose());
  });

  it('setParam checks names and shapes and refuses NaN', () => {
    const m = new TransformerModel({ vocabSize: 5, dModel: 4, maxLen: 3 });
    expect(() => m.setParam('attn.q.weight', [1])).toThrow(/name: expected one of/);
    expect(() => m.setParam('ln_f.bias', tf.zeros([3]))).toThrow(/params\["ln_f.bias"\]: expected \[4\], got \[3\]/);
    expect(() => m.setParam('ln_f.bias', [1, NaN, 0, 0])).toThrow(ValueError);
    m.setParam('ln_f.bias', [1, 2, 3, 4]);
    expect(Array.from(read(m.getParam('ln_f.bias')))).toEqual([1, 2, 3, 4]);
    m.dispose();
  });

  // Tab. A.1/A.2 "TRANSFORMER l=1" (|V| = 128; the T = 30 column repeats T = 10's and is skipped).
  // d = 16 is matched by the default layout (no MLP); d = 32 and 64 only with an MLP of width F = d.
  const PAPER: [d: number, T: number, paper: number][] = [
    [16, 10, 5.8e3],
    [16, 20, 6.0e3],
    [16, 40, 6.3e3],
    [16, 50, 6.4e3],
    [32, 10, 15.1e3],
    [32, 20, 15.4e3],
    [32, 40, 16.0e3],
    [32, 50, 16.4e3],
    [64, 10, 42.3e3],
    [64, 20, 42.9e3],
    [64, 40, 44.2e3],
    [64, 50, 44.9e3],
  ];
  for (const [d, T, paper] of PAPER) {
    const withMlp = d > 16;
    const tol = withMlp ? 0.01 : 0.055;
    it(`|V|=128, d=${d}, T=${T}${withMlp ? ', mlp F=d' : ', default'}: paper ${paper / 1e3}k, within ${tol * 100}%`, () => {
      const m = new TransformerModel({
        vocabSize: 128,
        dModel: d,
        maxLen: T,
        ...(withMlp ? { mlp: { hidden: d } } : {}),
      });
      const n = m.numParams();
      expect(Math.abs(n - paper) / paper, `${n} parameters vs ${paper}`).toBeLessThanOrEqual(tol);
      // independent count: token emb + pos emb + attention (4 Linear d→d) + 3 or 2 LNs + MLP + output layer
      const V = 128;
      const mlp = withMlp ? 2 * d * d + d + d + 2 * d : 0;
      expect(n).toBe(V * d + T * d + 4 * (d * d + d) + 4 * d + mlp + V * d + V);
      const c = m.paramCounts();
      expect(c.embedding + c.position + c.attention + c.norm + c.mlp + c.output).toBe(c.total);
      expect(c.total).toBe(n);
      m.dispose();
    });
  }
  it('Tab. 1 (T = 50, d = 16): the default layout has 6,176 parameters (paper 6.4k)', () => {
    const m = new TransformerModel({ vocabSize: 128, dModel: 16, maxLen: 50 });
    expect(m.numParams()).toBe(6176);
    expect(m.paramCounts()).toEqual({
      embedding: 2048,
      position: 800,
      attention: 1088,
      norm: 64,
      mlp: 0,
      output: 2176,
      total: 6176,
    });
    m.dispose();
  });
});

describe('safetensors', () => {
  it('round trips config and weights (same logits), with model: transformer in the metadata', () => {
    const m = new TransformerModel({
      vocabSize: 9,
      numClasses: 4,
      dModel: 6,
      maxLen: 7,
      numHeads: 3,
      mlp: { hidden: 5, activation: 'relu' },
      seed: 11,
    });
    perturb(m, 1);
    const bytes = m.toSafetensors({ note: 'x' });
    const m2 = TransformerModel.fromSafetensors(bytes, 'mem');
    expect(m2.config).toEqual(m.config);
    expect(m2.paramNames()).toEqual(m.paramNames());
    const tokens = randomTokens(2, 7, 9, 1);
    const [a, b] = [m.forward(tokens), m2.forward(tokens)];
    expect(Array.from(read(b))).toEqual(Array.from(read(a)));
    // loadSafetensors into a fresh model of the same config
    const m3 = new TransformerModel(m.config);
    m3.loadSafetensors(bytes);
    const c = m3.forward(tokens);
    expect(Array.from(read(c))).toEqual(Array.from(read(a)));
    tf.dispose([a, b, c]);
    [m, m2, m3].forEach((x) => x.dispose());
  });

  it('refuses mismatched checkpoints all-or-nothing, naming what differs', () => {
    const m = new TransformerModel({ vocabSize: 9, dModel: 8, maxLen: 7, seed: 1 });
    const before = Array.from(read(m.getParam('embedding.weight')));
    const wider = new TransformerModel({ vocabSize: 9, dModel: 8, maxLen: 9, seed: 2 });
    expect(() => m.loadSafetensors(wider.toSafetensors(), 'wider.safetensors')).toThrow(
      /wider.safetensors: tensor "pos_embedding.weight": expected shape \[7,8\], got \[9,8\]/,
    );
    const noLn = new TransformerModel({ vocabSize: 9, dModel: 8, maxLen: 7, layerNorm: false, seed: 3 });
    expect(() => m.loadSafetensors(noLn.toSafetensors())).toThrow(
      /missing \[ln_attn.weight, ln_attn.bias, ln_f.weight, ln_f.bias\]/,
    );
    expect(Array.from(read(m.getParam('embedding.weight')))).toEqual(before); // nothing changed
    const mamba = new MambaModel({ vocabSize: 9, dModel: 8, dState: 2 });
    expect(() => TransformerModel.fromSafetensors(mamba.toSafetensors(), 'mamba.st')).toThrow(CheckpointError);
    expect(() => TransformerModel.fromSafetensors(mamba.toSafetensors(), 'mamba.st')).toThrow(
      /mamba.st: __metadata__.model: expected 'transformer', got "mamba"/,
    );
    expect(() => m.loadSafetensors(mamba.toSafetensors())).toThrow(CheckpointError);
    [m, wider, noLn, mamba].forEach((x) => x.dispose());
  });
});

describe('input checking', () => {
  it('rejects bad configs, naming the option', () => {
    const base = { vocabSize: 5, dModel: 4, maxLen: 6 };
    expect(() => new TransformerModel({ ...base, vocabSize: 0 })).toThrow(
      /config.vocabSize: expected a positive integer, got 0/,
    );
    expect(() => new TransformerModel({ ...base, numClasses: 1.5 })).toThrow(/config.numClasses/);
    expect(() => new TransformerModel({ ...base, dModel: -4 })).toThrow(/config.dModel/);
    expect(() => new TransformerModel({ ...base, maxLen: 0 })).toThrow(/config.maxLen: expected a positive integer/);
    expect(() => new TransformerModel({ ...base, numHeads: 3 })).toThrow(
      /config.numHeads: expected a divisor of config.dModel = 4, got 3/,
    );
    expect(() => new TransformerModel({ ...base, numHeads: 0 })).toThrow(ConfigError);
    expect(() => new TransformerModel({ ...base, layerNorm: 'yes' as unknown as boolean })).toThrow(/config.layerNorm/);
    expect(() => new TransformerModel({ ...base, mlp: { hidden: 0 } })).toThrow(/config.mlp.hidden/);
    expect(() => new TransformerModel({ ...base, mlp: { activation: 'tanh' as 'relu' } })).toThrow(
      /config.mlp.activation: expected gelu \| relu/,
    );
    expect(() => new TransformerModel({ ...base, mlp: 3 as unknown as false })).toThrow(/config.mlp/);
    expect(() => new TransformerModel({ ...base, seed: 0.5 })).toThrow(/config.seed/);
    expect(() => new TransformerModel(null as unknown as TransformerConfig)).toThrow(ConfigError);
  });

  it('rejects inputs longer than maxLen and bad tokens, naming tokens / config.maxLen', () => {
    const m = new TransformerModel({ vocabSize: 5, dModel: 4, maxLen: 4 });
    const before = tf.memory().numTensors;
    expect(() => m.forward([[1, 2, 3, 4, 0]])).toThrow(ShapeError);
    expect(() => m.forward([[1, 2, 3, 4, 0]])).toThrow(
      /tokens: expected length L ≤ 4 \(config.maxLen.*got L = 5 in \[1,5\]/,
    );
    expect(() => m.forward([[1, 2, 5]])).toThrow(
      /tokens: expected ids in \[0, 5\) \(vocabSize\), got 5 at flat index 2/,
    );
    expect(() => m.forward([[1, 2], [3]])).toThrow(ShapeError);
    expect(() => m.forward([[1, 2.5]])).toThrow(ValueError);
    expect(tf.memory().numTensors).toBe(before);
    m.forward([[1, 2, 3, 4]]).dispose(); // L = maxLen is fine
    m.dispose();
  });
});

describe('training on the default backend', () => {
  it(`Adam steps run, change every parameter and leak no tensors`, () => {
    const m = new TransformerModel({ vocabSize: 7, dModel: 8, maxLen: 6, numHeads: 2, mlp: { hidden: 8 } });
    const opt = tf.train.adam(0.01);
    const tokens = randomTokens(2, 5, 7, 1);
    const before0 = Object.fromEntries(m.paramNames().map((n) => [n, Array.from(read(m.getParam(n)))]));
    const step = () => opt.minimize(() => m.forward(tokens).square().mean() as tf.Scalar);
    step();
    for (const n of m.paramNames())
      expect(Array.from(read(m.getParam(n))), `${n} updated on ${backendInfo().name}`).not.toEqual(before0[n]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      step();
      m.forward(tokens).dispose();
      tf.dispose(m.forwardWithInternals(tokens) as unknown as tf.TensorContainer);
    }
    expect(tf.memory().numTensors).toBe(before);
    for (const n of m.paramNames()) expect(read(m.getParam(n)).every(Number.isFinite)).toBe(true);
    opt.dispose();
    m.dispose();
  });

  it('learns KEEP n-TH (y_t = x_n for t ≥ n, n = 2, L = 8, |V| = 8) to ≥ 95% accuracy in 250 Adam steps', () => {
    const V = 8,
      L = 8,
      n = 2,
      batch = 32;
    const m = new TransformerModel({ vocabSize: V, dModel: 16, maxLen: L, seed: 0 });
    const opt = tf.train.adam(0.01);
    const rng = new Rng(123);
    const batchOf = () => {
      const x = Array.from({ length: batch }, () => Array.from({ length: L }, () => rng.int(V)));
      return { x, y: x.map((r) => r.map((_, t) => (t >= n ? r[n] : 0))) };
    };
    // weight only positions t ≥ n
    const mask = tf.tensor3d(
      Array.from({ length: batch }, () => Array.from({ length: L }, (_, t) => [t >= n ? 1 : 0])),
    );
    const denom = batch * (L - n);
    for (let s = 0; s < 250; s++) {
      const { x, y } = batchOf();
      const onehot = tf.oneHot(tf.tensor2d(y, [batch, L], 'int32'), V);
      opt.minimize(() => tf.logSoftmax(m.forward(x)).mul(onehot).mul(mask).sum().div(-denom) as tf.Scalar);
      onehot.dispose();
    }
    const test = batchOf();
    const logits = m.forward(test.x);
    const pred = logits.argMax(-1).arraySync() as number[][];
    let ok = 0;
    for (let b = 0; b < batch; b++) for (let t = n; t < L; t++) ok += pred[b][t] === test.y[b][t] ? 1 : 0;
    expect(ok / denom).toBeGreaterThanOrEqual(0.95);
    tf.dispose([logits, mask]);
    opt.dispose();
    m.dispose();
  });
});
