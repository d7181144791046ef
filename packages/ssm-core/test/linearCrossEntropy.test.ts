/**
 * linearCrossEntropy (output layer + masked cross-entropy + statistics in one op): its loss, statistics and every
 * gradient against the op-by-op path (linear, maskedCrossEntropy, lossStatsTensor), against a float64 loop written
 * here and its central finite differences; rows without a target, an all-IGNORE batch, a confident wrong answer
 * whose softmax underflows, leaks and typed errors. Both the host kernel and the generic kernel (HOST_KERNELS off).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DTypeError,
  linear,
  linearCrossEntropy,
  linearCrossEntropyRef,
  MambaModel,
  maskedCrossEntropy,
  ready,
  resetFlag,
  resolveKernel,
  Rng,
  setFlag,
  ShapeError,
  tf,
  TransformerModel,
  ValueError,
} from '../src/index.js';
type Tensor = tf.Tensor;
import { lossStatsTensor } from '../src/train/loss.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});
afterEach(() => resetFlag('HOST_KERNELS'));

interface Problem {
  z: Float64Array;
  W: Float64Array;
  b?: Float64Array;
  y: Int32Array;
  lead: number[];
  d: number;
  C: number;
}

function problem(seed: number, lead: number[], d: number, C: number, bias = true, ignoreShare = 0.2): Problem {
  const r = new Rng(seed);
  const M = lead.reduce((a, x) => a * x, 1);
  const f = (n: number, s: number) => Float64Array.from({ length: n }, () => Math.fround(s * r.normal()));
  const y = Int32Array.from({ length: M }, () => (r.range(0, 1) < ignoreShare ? -1 : r.int(C)));
  return { z: f(M * d, 1), W: f(C * d, 0.7), b: bias ? f(C, 0.5) : undefined, y, lead, d, C };
}

const tensors = (p: Problem) => ({
  z: tf.tensor(Float32Array.from(p.z), [...p.lead, p.d]),
  W: tf.tensor2d(Float32Array.from(p.W), [p.C, p.d]),
  b: p.b ? tf.tensor1d(Float32Array.from(p.b)) : undefined,
  y: tf.tensor(p.y, p.lead, 'int32'),
});

/** Mean masked loss and [lossSum, correct, count] in float64, written out independently of the op. */
function loss64(p: Problem): { loss: number; stats: [number, number, number] } {
  const { d, C } = p;
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (let r = 0; r < p.y.length; r++) {
    if (p.y[r] < 0) continue;
    const logits = Array.from({ length: C }, (_, c) => {
      let a = p.b ? p.b[c] : 0;
      for (let i = 0; i < d; i++) a += p.W[c * d + i] * p.z[r * d + i];
      return a;
    });
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, l) => s + Math.exp(l - max), 0));
    lossSum += lse - logits[p.y[r]];
    if (logits.indexOf(max) === p.y[r]) correct += 1;
    count += 1;
  }
  return { loss: lossSum / Math.max(count, 1), stats: [lossSum, correct, count] };
}

/** Central finite differences of loss64 in every entry of z, W and b. */
function finiteDiff(p: Problem): { z: Float64Array; W: Float64Array; b?: Float64Array } {
  const fd = (arr: Float64Array) =>
    Float64Array.from(arr, (v, i) => {
      const eps = 1e-6;
      arr[i] = v + eps;
      const lp = loss64(p).loss;
      arr[i] = v - eps;
      const lm = loss64(p).loss;
      arr[i] = v;
      return (lp - lm) / (2 * eps);
    });
  return { z: fd(p.z), W: fd(p.W), b: p.b ? fd(p.b) : undefined };
}

/** Gradients of `scale`·loss in z, W (and b) through `f`. */
function gradsOf(f: (z: Tensor, W: Tensor, b: Tensor | undefined) => Tensor, t: ReturnType<typeof tensors>, scale = 1) {
  const xs = t.b ? [t.z, t.W, t.b] : [t.z, t.W];
  const { value, grads } = tf.valueAndGrads((...a: Tensor[]) => f(a[0], a[1], a[2]).mul(scale) as tf.Scalar)(xs);
  const out = { loss: read(value)[0], z: read(grads[0]), W: read(grads[1]), b: t.b ? read(grads[2]) : undefined };
  tf.dispose([value, ...grads]);
  return out;
}

const fused = (y: Tensor) => (z: Tensor, W: Tensor, b: Tensor | undefined) => {
  const r = linearCrossEntropy(z, W, b, y);
  r.stats.dispose();
  return r.loss;
};
const opByOp = (y: Tensor, C: number) => (z: Tensor, W: Tensor, b: Tensor | undefined) => {
  const M = y.size;
  return maskedCrossEntropy(linear(z, W, b).reshape([1, M, C]), y.reshape([1, M]));
};

for (const kernel of ['host', 'generic'] as const) {
  describe(`linearCrossEntropy, ${kernel} kernel`, () => {
    const use = () => setFlag('HOST_KERNELS', kernel === 'host');

    it('runs the kernel it is named after', () => {
      use();
      expect(resolveKernel('linearCrossEntropy').key).toBe(kernel === 'host' ? tf.getBackend() : 'generic');
    });

    for (const bias of [true, false]) {
      it(`loss and statistics equal the float64 loop and the reference twin (bias ${bias})`, () => {
        use();
        const p = problem(bias ? 1 : 2, [3, 7], 5, 11, bias);
        const t = tensors(p);
        const before = tf.memory().numTensors;
        const { loss, stats } = linearCrossEntropy(t.z, t.W, t.b, t.y);
        const ref = linearCrossEntropyRef(t.z, t.W, t.b, t.y);
        const want = loss64(p);
        expect(loss.shape).toEqual([]);
        expect(stats.shape).toEqual([3]);
        expectClose(read(loss), [want.loss], 'loss', 1e-6, 1e-5);
        expectClose(read(stats), want.stats, 'stats', 1e-5, 1e-5);
        expectClose(read(ref.loss), [want.loss], 'reference loss', 1e-6, 1e-6);
        expectClose(read(ref.stats), want.stats, 'reference stats', 1e-5, 1e-6);
        const M = p.y.length;
        const opStats = tf.tidy(() => lossStatsTensor(linear(t.z, t.W, t.b).reshape([1, M, p.C]), t.y.reshape([1, M])));
        expectClose(read(stats), read(opStats), 'stats vs op-by-op', 1e-5, 1e-5);
        opStats.dispose();
        expect(want.stats[2]).toBeGreaterThan(0);
        expect(want.stats[2]).toBeLessThan(p.y.length); // some rows have no target
        tf.dispose([loss, stats, ref.loss, ref.stats]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose(Object.values(t).filter((x): x is Tensor => x !== undefined));
      });

      it(`every gradient equals the op-by-op path and float64 finite differences (bias ${bias})`, () => {
        use();
        const p = problem(bias ? 3 : 4, [2, 6], 4, 9, bias);
        const t = tensors(p);
        const before = tf.memory().numTensors;
        const got = gradsOf(fused(t.y), t);
        const ops = gradsOf(opByOp(t.y, p.C), t);
        expect(tf.memory().numTensors).toBe(before);
        const fd = finiteDiff(p);
        expectClose([got.loss], [ops.loss], 'loss vs op-by-op', 1e-6, 1e-5);
        for (const k of ['z', 'W', 'b'] as const) {
          if (!fd[k]) continue;
          expectClose(got[k]!, ops[k]!, `∂${k} vs op-by-op`, 1e-6, 1e-4);
          expectClose(got[k]!, fd[k]!, `∂${k} vs finite differences`, 1e-5, 1e-3);
        }
        expect(got.b === undefined).toBe(!bias);
        tf.dispose(Object.values(t).filter((x): x is Tensor => x !== undefined));
      });
    }

    it('scales the gradients by the upstream gradient', () => {
      use();
      const p = problem(5, [4, 3], 3, 6);
      const t = tensors(p);
      const one = gradsOf(fused(t.y), t);
      const three = gradsOf(fused(t.y), t, -3);
      for (const k of ['z', 'W', 'b'] as const)
        expectClose(
          three[k]!,
          Array.from(one[k]!, (g) => -3 * g),
          `∂${k} of −3·loss`,
          1e-6,
          1e-5,
        );
      tf.dispose(Object.values(t).filter((x): x is Tensor => x !== undefined));
    });

    it('an all-IGNORE batch: loss 0, statistics 0, gradients 0', () => {
      use();
      const p = problem(6, [2, 5], 3, 4, true, 1);
      expect(p.y.every((y) => y < 0)).toBe(true);
      const t = tensors(p);
      const { loss, stats } = linearCrossEntropy(t.z, t.W, t.b, t.y);
      expect(Array.from(read(loss))).toEqual([0]);
      expect(Array.from(read(stats))).toEqual([0, 0, 0]);
      const g = gradsOf(fused(t.y), t);
      for (const k of ['z', 'W', 'b'] as const) expect(g[k]!.every((x) => x === 0)).toBe(true);
      tf.dispose([loss, stats, ...Object.values(t).filter((x): x is Tensor => x !== undefined)]);
    });

    it('a confident wrong answer (its softmax underflows) keeps its exact loss and gradient', () => {
      use();
      // row 0: logits (200, 0, 0) with target 1 → loss 200; row 1: ties (0, 0, 0) → first argmax 0 = target, loss log 3
      const z = tf.tensor2d([1, 0, 0, 0], [2, 2]);
      const W = tf.tensor2d([200, 0, 0, 0, 0, 0], [3, 2]);
      const y = tf.tensor1d([1, 0], 'int32');
      const { loss, stats } = linearCrossEntropy(z, W, undefined, y);
      expectClose(read(stats), [200 + Math.log(1 + 2 * Math.exp(-200)) + Math.log(3), 1, 2], 'stats', 1e-4, 1e-6);
      expectClose(read(loss), [(200 + Math.log(3)) / 2], 'loss', 1e-4, 1e-6);
      const g = gradsOf(fused(y), { z, W, b: undefined, y });
      // ∂z row 0 = (p − e_1)·W / 2 = (W₀ − W₁)/2 = (100, 0)
      expectClose(g.z.subarray(0, 2), [100, 0], '∂z of the confident row', 1e-4, 1e-6);
      tf.dispose([z, W, y, loss, stats]);
    });
  });
}

describe('linearCrossEntropy arguments', () => {
  const z = () => tf.zeros([2, 3, 4]);
  const W = () => tf.zeros([5, 4]);
  const y = () => tf.zeros([2, 3], 'int32');
  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['W of rank 1', () => linearCrossEntropy(z(), tf.zeros([4]), undefined, y()), ShapeError, /W/],
    ['z whose last axis is not d', () => linearCrossEntropy(tf.zeros([2, 3, 5]), W(), undefined, y()), ShapeError, /z/],
    ['b of the wrong length', () => linearCrossEntropy(z(), W(), tf.zeros([4]), y()), ShapeError, /b/],
    ['float targets', () => linearCrossEntropy(z(), W(), undefined, tf.zeros([2, 3])), DTypeError, /targets/],
    [
      'targets of another shape',
      () => linearCrossEntropy(z(), W(), undefined, tf.zeros([3, 2], 'int32')),
      ShapeError,
      /targets/,
    ],
    [
      'targets that are not a tensor',
      () => linearCrossEntropy(z(), W(), undefined, [[0]] as never),
      ConfigError,
      /targets/,
    ],
    ['int z', () => linearCrossEntropy(tf.zeros([2, 3, 4], 'int32'), W(), undefined, y()), DTypeError, /z/],
  ];
  for (const [what, call, type, name] of cases) {
    it(`refuses ${what}, naming the argument`, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        expect(call).toThrow(type);
        expect(call).toThrow(name);
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('refuses a class id ≥ C on the host kernel and in the reference, naming targets', () => {
    tf.tidy(() => {
      const bad = tf.tensor2d([0, 1, 5, -1, 2, 3], [2, 3], 'int32');
      expect(() => linearCrossEntropy(z(), W(), undefined, bad)).toThrow(ValueError);
      expect(() => linearCrossEntropy(z(), W(), undefined, bad)).toThrow(/targets.*5 at flat index 2/);
      expect(() => linearCrossEntropyRef(z(), W(), undefined, bad)).toThrow(ValueError);
    });
  });
});

describe("models' headInput", () => {
  const models = {
    mamba: () => new MambaModel({ vocabSize: 12, dModel: 8, dState: 4, gate: {}, positionalEncoding: { scale: 0.1 } }),
    transformer: () => new TransformerModel({ vocabSize: 12, numClasses: 7, dModel: 8, maxLen: 9, numHeads: 2 }),
  };
  for (const [kind, make] of Object.entries(models)) {
    it(`${kind}: forward(tokens) = linear(headInput(tokens).z, weight, bias), no tensor left behind`, () => {
      const model = make();
      const tokens = [
        [1, 5, 11, 0, 3, 3, 7, 2, 9],
        [4, 4, 0, 10, 6, 1, 2, 8, 5],
      ];
      const before = tf.memory().numTensors;
      const { z, weight, bias } = model.headInput(tokens);
      expect(z.shape).toEqual([2, 9, 8]);
      expect(weight).toBe(model.params['lm_head.weight']);
      expect(bias).toBe(model.params['lm_head.bias']);
      const logits = model.forward(tokens);
      const viaHead = linear(z, weight, bias);
      expectClose(read(viaHead), read(logits), 'logits', 1e-6, 1e-5);
      tf.dispose([z, logits, viaHead]);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }
});
