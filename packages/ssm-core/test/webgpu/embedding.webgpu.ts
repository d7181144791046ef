/**
 * `embedding` on WebGPU (its 'webgpu' kernel: one WGSL program forward, one backward): the rows and the position
 * column equal the float32 values of the reference twin embeddingRef; ∂W (the per-id loop, and the one-hot product
 * taken above EMBED_LOOP_LIMIT) against a float64 scatter-add loop and the generic tf-op kernel's on the same adapter;
 * one program each way; no leaks.
 */
import { describe, expect, it } from 'vitest';
import { embedding, embeddingRef, Rng, tf } from '../../src/index.js';
import { webgpuEmbedding } from '../../src/ops/kernels/webgpu/embedding.js';
import { getKernel, resolveKernel } from '../../src/ops/registry.js';
import { expectClose } from '../helpers.js';
import { onWebgpu, programsOf } from './helpers.js';

onWebgpu();

type EmbeddingKernel = (W: tf.Tensor, tokens: tf.Tensor, positionScale: number | undefined) => tf.Tensor;

describe('webgpu embedding', () => {
  it('resolves to the WGSL kernel', () => expect(resolveKernel('embedding').key).toBe('webgpu'));

  const CASES: [string, number[], number | undefined][] = [
    ['Tab. 1: |V| 128, d 32, batch 32, T 50, PE 0.1', [128, 32, 32, 50], 0.1],
    ['no position column, repeated ids', [5, 3, 4, 9], undefined],
  ];
  for (const [name, [V, e, b, L], scale] of CASES) {
    it(`forward = embeddingRef, ∂W = float64 scatter-add and the generic kernel's: ${name}`, async () => {
      const rng = new Rng(31);
      const Wv = rng.fill(V * e, (r) => r.normal());
      const ids = Int32Array.from({ length: b * L }, () => rng.int(V));
      const width = scale === undefined ? e : e + 1;
      const gv = rng.fill(b * L * width, (r) => r.normal());
      const W = tf.tensor2d(Wv, [V, e]);
      const tokens = tf.tensor2d(ids, [b, L], 'int32');
      const cot = tf.tensor3d(gv, [b, L, width]);
      const ref = embeddingRef(W, tokens, scale); // host arrays still
      const refData = await ref.data();
      const dW = new Float64Array(V * e);
      for (let i = 0; i < b * L; i++) for (let j = 0; j < e; j++) dW[ids[i] * e + j] += gv[i * width + j];

      const before = tf.memory().numTensors;
      let x: tf.Tensor = W;
      expect(programsOf(() => (x = embedding(W, tokens, scale)))).toEqual(['ssmEmbed']);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(x.shape).toEqual([b, L, width]);
      // the rows exactly; the position column is the float32 product f32(t)·f32(s) (as the generic kernel's
      // float32 multiply), within an ulp of the reference's float64 product
      const want = Float32Array.from(refData);
      if (scale !== undefined)
        for (let i = 0; i < b * L; i++) want[i * width + e] = Math.fround(((i % L) + 1) * Math.fround(scale));
      expect(await x.data()).toEqual(want);
      expectClose(await x.data(), refData, 'x vs embeddingRef', 0, 2 ** -22); // one float32 ulp
      const grad = (k: EmbeddingKernel) => tf.grad((w: tf.Tensor) => tf.tidy(() => k(w, tokens, scale).mul(cot).sum()));
      let fused: tf.Tensor = W;
      const k = resolveKernel<EmbeddingKernel>('embedding').impl;
      const names = programsOf(() => (fused = grad(k)(W)));
      expect(names.filter((n) => n.startsWith('ssmEmbed'))).toEqual(['ssmEmbed', 'ssmEmbedGrad']);
      const got = await fused.data();
      expectClose(got, dW, '∂W vs float64');
      const generic = grad(getKernel<EmbeddingKernel>('embedding', 'generic')!)(W);
      expectClose(got, await generic.data(), '∂W vs generic');
      // the backward for large V·b·L: the one-hot product
      const gemm = grad((w, t, s) => webgpuEmbedding(w, t, s, 0))(W);
      expectClose(await gemm.data(), dW, '∂W (one-hot product) vs float64');
      tf.dispose([x, fused, generic, gemm]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([W, tokens, cot, ref]);
    });
  }
});
