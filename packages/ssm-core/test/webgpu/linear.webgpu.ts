/**
 * `linear` on WebGPU (its 'webgpu' kernel: one fused matMul, a backward of two matMuls and a column sum): forward
 * against the float64 twin linearRef, gradients against the generic tf-op kernel on the same adapter, no leaks.
 */
import { describe, expect, it } from 'vitest';
import { linear, linearRef, Rng, tf } from '../../src/index.js';
import { getKernel, resolveKernel } from '../../src/ops/registry.js';
import { expectClose } from '../helpers.js';
import { onWebgpu, rnd } from './helpers.js';

onWebgpu();

type LinearKernel = (x: tf.Tensor, W: tf.Tensor, b?: tf.Tensor) => tf.Tensor;

describe('webgpu linear', () => {
  it('resolves to the fused matMul kernel', () => expect(resolveKernel('linear').key).toBe('webgpu'));

  const CASES: [string, number[], number, boolean][] = [
    ['3-D x, bias', [3, 7, 5], 6, true],
    ['2-D x, no bias', [9, 4], 3, false],
    // more than 65535 outputs: the column sum of ∂b on a 2-D grid of workgroups
    ['65541 outputs, bias', [3, 2], 65541, true],
  ];
  for (const [name, xShape, out, bias] of CASES) {
    it(`forward = float64 linearRef, gradients = the generic kernel's: ${name}`, async () => {
      const rng = new Rng(11);
      const inp = xShape[xShape.length - 1];
      const x = rnd(rng, xShape);
      const W = rnd(rng, [out, inp], 0.5);
      const b = bias ? rnd(rng, [out]) : undefined;
      const ref = linearRef(x, W, b); // reads the inputs while they are still host arrays
      const refData = await ref.data();
      const cot = rnd(rng, [...xShape.slice(0, -1), out]);
      const args = b ? [x, W, b] : [x, W];
      const before = tf.memory().numTensors;
      const y = linear(x, W, b);
      expect(tf.memory().numTensors).toBe(before + 1);
      expectClose(await y.data(), refData, 'y');
      const grads = (k: LinearKernel) =>
        tf.grads((...xs: tf.Tensor[]) => tf.tidy(() => k(xs[0], xs[1], xs[2]).mul(cot).sum()))(args);
      const fused = grads(resolveKernel<LinearKernel>('linear').impl);
      const generic = grads(getKernel<LinearKernel>('linear', 'generic')!);
      for (let i = 0; i < args.length; i++)
        expectClose(await fused[i].data(), await generic[i].data(), `∂${['x', 'W', 'b'][i]}`);
      tf.dispose([y, ...fused, ...generic]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([ref, cot, ...args]);
    });
  }
});
