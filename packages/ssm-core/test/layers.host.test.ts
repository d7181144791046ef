/**
 * Host inference shortcuts of the layers (wasm / cpu, no gradient tape), tied to loops written from the
 * definitions: `linear` skipping a mostly-zero W's zeros (ops/kernels/cpu/sparseLinear.ts) against a float64 dot product,
 * and the causal conv (14b) computing only the outputs a nonzero input reaches, against the plain sum.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, causalConv1d, linear, ready, tf, type Activation } from '../src/index.js';
import { sparsePlan } from '../src/ops/kernels/cpu/sparseLinear.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

/** x [m, inp] with a share `zeros` of exact zeros, W [out, inp] with nonzeros only where `keep(o, i)`. */
function problem(
  m: number,
  inp: number,
  out: number,
  zeros: number,
  keep: (o: number, i: number) => boolean,
  seed: number,
) {
  const r = new Rng(seed);
  const x = Float32Array.from({ length: m * inp }, () => (r.uniform() < zeros ? 0 : r.normal()));
  const W = new Float32Array(out * inp);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) if (keep(o, i)) W[o * inp + i] = r.normal();
  const b = Float32Array.from({ length: out }, () => r.normal());
  return { x, W, b };
}

/** fround(Σ_i W[o, i] x[r, i] (+ b[o])) in float64, i ascending: the scatter shortcut's exact result. */
function dot64(x: Float32Array, W: Float32Array, m: number, inp: number, out: number, b?: Float32Array): Float32Array {
  const y = new Float32Array(m * out);
  for (let r = 0; r < m; r++) {
    for (let o = 0; o < out; o++) {
      let s = 0;
      for (let i = 0; i < inp; i++) s += W[o * inp + i] * x[r * inp + i];
      y[r * out + o] = b ? s + b[o] : s;
    }
  }
  return y;
}

describe('linear on the host skips the zeros of a mostly-zero W', () => {
  const m = 37;
  const inp = 24;
  const out = 40;
  const cases: [string, 'scatter' | 'columns' | undefined, (o: number, i: number) => boolean][] = [
    [
      '≤ 1/16 nonzero (Thm. 2 x_proj-like: one input per output row)',
      'scatter',
      (o, i) => o % 3 === 0 && i === o % inp,
    ],
    ['half the input columns zero (an output layer reading some channels)', 'columns', (_o, i) => i % 2 === 1],
    ['dense (trained weights)', undefined, () => true],
  ];
  for (const [name, kind, keep] of cases) {
    for (const withBias of [true, false]) {
      it(`${name}${withBias ? ', with bias' : ''}: plan ${kind ?? 'none'}, = the float64 dot product`, () => {
        const p = problem(m, inp, out, 0.6, keep, 7);
        const [x, W, b] = [tf.tensor2d(p.x, [m, inp]), tf.tensor2d(p.W, [out, inp]), tf.tensor1d(p.b)];
        expect(sparsePlan(W)?.kind).toBe(kind);
        const y = linear(x.reshape([1, m, inp]), W, withBias ? b : undefined);
        expect(y.shape).toEqual([1, m, out]);
        const want = dot64(p.x, p.W, m, inp, out, withBias ? p.b : undefined);
        if (kind === 'scatter')
          expect(read(y)).toEqual(want); // same float64 sum in the same order
        else expectClose(read(y), want, 'y', 1e-5, 1e-5); // float32 matMul
        tf.dispose([x, W, b, y]);
      });
    }
  }

  it('keeps 0 · ∞ = NaN: a non-finite x takes the ordinary matMul', () => {
    const p = problem(4, inp, out, 0.5, (o, i) => o % 3 === 0 && i === o % inp, 3);
    p.x[inp + 5] = Infinity; // column 5 of W is zero in most rows
    const [x, W] = [tf.tensor2d(p.x, [4, inp]), tf.tensor2d(p.W, [out, inp])];
    const [yt, denseT] = [linear(x, W), tf.tidy(() => tf.matMul(x, W.transpose()))];
    const [y, dense] = [read(yt), read(denseT)];
    tf.dispose([x, W, yt, denseT]);
    expect(Array.from(y.subarray(out, 2 * out), Number.isNaN)).toEqual(
      Array.from(dense.subarray(out, 2 * out), Number.isNaN),
    );
    expect(y.subarray(out, 2 * out).some(Number.isNaN)).toBe(true);
  });

  it('leaves no tensors behind', () => {
    const p = problem(5, inp, out, 0.5, (_o, i) => i % 2 === 1, 4);
    const [x, W, b] = [tf.tensor2d(p.x, [5, inp]), tf.tensor2d(p.W, [out, inp]), tf.tensor1d(p.b)];
    const before = tf.memory().numTensors;
    linear(x, W, b).dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, W, b]);
  });
});

describe('causal conv (14b) on the host = the plain sum, dense or mostly-zero input', () => {
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const act: Record<Activation, (v: number) => number> = {
    silu: (v) => v * sig(v),
    relu: (v) => Math.max(0, v),
    sigmoid: sig,
    identity: (v) => v,
  };

  /** y[i, t, ch] = σ(Σ_j W[ch, j] x[i, t − (k−1) + j, ch] + bias[ch]), taps in order, x = 0 before t = 0. */
  function convLoop(
    x: Float32Array,
    b: number,
    L: number,
    c: number,
    W: Float32Array,
    k: number,
    bias: Float32Array,
    a: Activation,
  ) {
    const y = new Float32Array(b * L * c);
    for (let i = 0; i < b; i++) {
      for (let t = 0; t < L; t++) {
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let j = 0; j < k; j++) {
            const src = t - (k - 1) + j;
            if (src >= 0) s += W[ch * k + j] * x[(i * L + src) * c + ch];
          }
          y[(i * L + t) * c + ch] = act[a](s + bias[ch]);
        }
      }
    }
    return y;
  }

  for (const a of ['relu', 'silu', 'sigmoid', 'identity'] as const) {
    for (const zeros of [0, 0.9]) {
      for (const k of [2, 4]) {
        it(`${a}, k = ${k}, ${zeros * 100}% zeros in x`, () => {
          const r = new Rng(11 + k);
          const [b, L, c] = [3, 17, 6];
          const x = Float32Array.from({ length: b * L * c }, () => (r.uniform() < zeros ? 0 : r.normal()));
          const W = Float32Array.from({ length: c * k }, () => r.normal());
          const bias = Float32Array.from({ length: c }, () => r.normal());
          const xt = tf.tensor3d(x, [b, L, c]);
          const [Wt, bt] = [tf.tensor2d(W, [c, k]), tf.tensor1d(bias)];
          const y = causalConv1d(xt, Wt, bt, a);
          expect(Array.from(read(y))).toEqual(Array.from(convLoop(x, b, L, c, W, k, bias, a)));
          tf.dispose([xt, Wt, bt, y]);
        });
      }
    }
  }

  it('an infinite weight makes every output it touches NaN, as in the plain sum (0 · ∞)', () => {
    const [b, L, c, k] = [2, 9, 4, 2];
    const r = new Rng(5);
    const x = Float32Array.from({ length: b * L * c }, () => (r.uniform() < 0.9 ? 0 : 1));
    const W = Float32Array.from({ length: c * k }, () => r.normal());
    W[1 * k + 1] = Infinity;
    const bias = new Float32Array(c);
    const xt = tf.tensor3d(x, [b, L, c]);
    const [Wt, bt] = [tf.tensor2d(W, [c, k]), tf.tensor1d(bias)];
    const y = causalConv1d(xt, Wt, bt, 'relu');
    expect(Array.from(read(y))).toEqual(Array.from(convLoop(x, b, L, c, W, k, bias, 'relu')));
    tf.dispose([xt, Wt, bt, y]);
  });
});
