/**
 * The embedding op (rows of W, optionally with Tab. 1's position column s·t): forward against its reference twin,
 * ∂W against a scatter-add loop written here, host and generic kernels against each other, leaks and typed errors.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DTypeError,
  embedding,
  embeddingRef,
  ready,
  resetFlag,
  resolveKernel,
  Rng,
  setFlag,
  ShapeError,
  tf,
  ValueError,
} from '../src/index.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});
afterEach(() => resetFlag('HOST_KERNELS'));

const [V, e, b, L] = [7, 5, 3, 6];
const r = new Rng(5);
const W = Float32Array.from({ length: V * e }, () => r.normal());
const ids = Int32Array.from({ length: b * L }, () => r.int(V));
const up = Float32Array.from({ length: b * L * (e + 1) }, () => r.normal());

for (const kernel of ['host', 'generic'] as const) {
  for (const scale of [undefined, 0.1]) {
    describe(`embedding, ${kernel} kernel, position column ${scale ?? 'off'}`, () => {
      const width = scale === undefined ? e : e + 1;
      it('forward equals the reference twin; ∂W equals a scatter-add of the upstream gradient', () => {
        setFlag('HOST_KERNELS', kernel === 'host');
        expect(resolveKernel('embedding').key).toBe(kernel === 'host' ? tf.getBackend() : 'generic');
        const w = tf.tensor2d(W, [V, e]);
        const tok = tf.tensor2d(ids, [b, L], 'int32');
        const dy = tf.tensor3d(up.subarray(0, b * L * width), [b, L, width]);
        const before = tf.memory().numTensors;
        const x = embedding(w, tok, scale);
        const ref = embeddingRef(w, tok, scale);
        expect(x.shape).toEqual([b, L, width]);
        expectClose(read(x), read(ref), 'x', 0, 0);
        const g = tf.grad((ww: tf.Tensor) => embedding(ww, tok, scale).mul(dy).sum())(w);
        const want = new Float64Array(V * e);
        for (let i = 0; i < b * L; i++) for (let j = 0; j < e; j++) want[ids[i] * e + j] += up[i * width + j];
        expectClose(read(g), want, '∂W', 1e-6, 1e-5);
        tf.dispose([x, ref, g]);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([w, tok, dy]);
      });
    });
  }
}

describe('embedding arguments', () => {
  const w = () => tf.zeros([4, 3]);
  const cases: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['float tokens', () => embedding(w(), tf.zeros([2, 2])), DTypeError, /tokens/],
    ['tokens of rank 1', () => embedding(w(), tf.zeros([2], 'int32')), ShapeError, /tokens/],
    ['W of rank 1', () => embedding(tf.zeros([4]), tf.zeros([2, 2], 'int32')), ShapeError, /W/],
    ['a non-finite position scale', () => embedding(w(), tf.zeros([2, 2], 'int32'), NaN), ConfigError, /positionScale/],
    ['an id ≥ V in the reference', () => embeddingRef(w(), tf.tensor2d([0, 4], [1, 2], 'int32')), ValueError, /tokens/],
  ];
  for (const [what, call, type, name] of cases) {
    it(`refuses ${what}, naming the argument`, () => {
      tf.tidy(() => {
        expect(call).toThrow(type);
        expect(call).toThrow(name);
      });
    });
  }
});
