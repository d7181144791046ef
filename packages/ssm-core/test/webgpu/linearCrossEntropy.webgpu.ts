/**
 * `linearCrossEntropy` on WebGPU (its 'webgpu' kernel: linear's fused matMul + WGSL row, statistics, loss and
 * gradient programs): loss and statistics against the float64 twin linearCrossEntropyRef, gradients against the
 * generic tf-op kernel on the same adapter, targets ≥ C and all-IGNORE against the generic kernel, the programs a
 * training step's loss dispatches, no leaks.
 */
import { describe, expect, it } from 'vitest';
import {
  IGNORE,
  linearCrossEntropy,
  linearCrossEntropyRef,
  Rng,
  tf,
  type LinearCrossEntropyResult,
} from '../../src/index.js';
import { getKernel, resolveKernel } from '../../src/ops/registry.js';
import { expectClose } from '../helpers.js';
import { onWebgpu, programsOf, rnd } from './helpers.js';

onWebgpu();

type LceKernel = (z: tf.Tensor, W: tf.Tensor, b: tf.Tensor | undefined, y: tf.Tensor) => LinearCrossEntropyResult;

describe('webgpu linearCrossEntropy', () => {
  it('resolves to the WGSL kernel', () => expect(resolveKernel('linearCrossEntropy').key).toBe('webgpu'));

  /** z [b, L, d], W [C, d], b [C], targets with IGNORE mixed in (and, with `over`, ids ≥ C). */
  function problem(seed: number, [B, L, d, C]: number[], bias: boolean, over = false) {
    const rng = new Rng(seed);
    const ids = Int32Array.from({ length: B * L }, (_, i) =>
      i % 3 === 0 ? IGNORE : over && i % 5 === 1 ? C + (i % 4) : rng.int(C),
    );
    return {
      z: rnd(rng, [B, L, d]),
      W: rnd(rng, [C, d], 0.7),
      b: bias ? rnd(rng, [C], 0.3) : undefined,
      y: tf.tensor(ids, [B, L], 'int32'),
      cot: 1 + rng.uniform(), // ∂(loss) of the caller
    };
  }
  const grads = (k: LceKernel, p: ReturnType<typeof problem>) => {
    const args = p.b ? [p.z, p.W, p.b] : [p.z, p.W];
    return tf.grads((...xs: tf.Tensor[]) => tf.tidy(() => k(xs[0], xs[1], xs[2], p.y).loss.mul(p.cot)))(args);
  };
  const free = (p: ReturnType<typeof problem>) => tf.dispose([p.z, p.W, p.y, ...(p.b ? [p.b] : [])]);

  const CASES: [string, number[], boolean][] = [
    ['Tab. 1 head: batch 32, T 50, d 32, |V| 128, bias', [32, 50, 32, 128], true],
    ['no bias, odd sizes', [3, 7, 5, 11], false],
  ];
  for (const [name, shape, bias] of CASES) {
    it(`loss and stats = float64 linearCrossEntropyRef, gradients = the generic kernel's: ${name}`, async () => {
      const p = problem(21, shape, bias);
      const ref = linearCrossEntropyRef(p.z, p.W, p.b, p.y); // host arrays still
      const [refLoss, refStats] = [await ref.loss.data(), await ref.stats.data()];
      const before = tf.memory().numTensors;
      const r = linearCrossEntropy(p.z, p.W, p.b, p.y);
      expect(tf.memory().numTensors).toBe(before + 2);
      expect(r.loss.shape).toEqual([]);
      expectClose(await r.loss.data(), refLoss, 'loss');
      const stats = await r.stats.data();
      expectClose(stats, refStats, 'stats');
      expect(stats[1], 'correct: a count').toBe(refStats[1]);
      expect(stats[2], 'count').toBe(refStats[2]);
      const fused = grads(resolveKernel<LceKernel>('linearCrossEntropy').impl, p);
      const generic = grads(getKernel<LceKernel>('linearCrossEntropy', 'generic')!, p);
      for (let i = 0; i < fused.length; i++) {
        const g = await fused[i].data();
        expect(g.every(Number.isFinite)).toBe(true);
        expectClose(g, await generic[i].data(), `∂${['z', 'W', 'b'][i]}`);
      }
      tf.dispose([r.loss, r.stats, ...fused, ...generic]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([ref.loss, ref.stats]);
      free(p);
    });
  }

  it('targets ≥ C and IGNORE: loss, stats and gradients = the generic kernel', async () => {
    const p = problem(22, [2, 9, 4, 6], true, true);
    const generic = getKernel<LceKernel>('linearCrossEntropy', 'generic')!;
    const r = linearCrossEntropy(p.z, p.W, p.b, p.y);
    const g = tf.tidy(() => {
      const o = generic(p.z, p.W, p.b, p.y);
      return [o.loss, o.stats];
    });
    expectClose(await r.loss.data(), await g[0].data(), 'loss');
    expectClose(await r.stats.data(), await g[1].data(), 'stats');
    const fused = grads(resolveKernel<LceKernel>('linearCrossEntropy').impl, p);
    const gen = grads(generic, p);
    for (let i = 0; i < fused.length; i++)
      expectClose(await fused[i].data(), await gen[i].data(), `∂${['z', 'W', 'b'][i]}`);
    tf.dispose([r.loss, r.stats, ...g, ...fused, ...gen]);
    free(p);
  });

  it('every target IGNORE: loss 0, stats 0, gradients 0', async () => {
    const p = problem(23, [2, 4, 3, 5], true);
    const y = tf.fill([2, 4], IGNORE, 'int32');
    const r = linearCrossEntropy(p.z, p.W, p.b, y);
    expect(Array.from(await r.loss.data())).toEqual([0]);
    expect(Array.from(await r.stats.data())).toEqual([0, 0, 0]);
    const fused = grads(resolveKernel<LceKernel>('linearCrossEntropy').impl, { ...p, y });
    for (const t of fused) expect((await t.data()).every((v) => v === 0)).toBe(true);
    tf.dispose([r.loss, r.stats, y, ...fused]);
    free(p);
  });

  it("a training step's loss: eight programs forward and backward, none of them a transpose", async () => {
    const p = problem(24, [32, 50, 32, 128], true);
    let g: tf.Tensor[] = [];
    const k = resolveKernel<LceKernel>('linearCrossEntropy').impl;
    const names = programsOf(() => {
      g = tf.grads((z: tf.Tensor, W: tf.Tensor, b: tf.Tensor) => tf.tidy(() => k(z, W, b, p.y).loss))([p.z, p.W, p.b!]);
    });
    expect(names.filter((n) => n.startsWith('lce')).sort()).toEqual(['lceGrad', 'lceLoss', 'lceRows', 'lceStats']);
    expect(names.length, names.join(', ')).toBeLessThanOrEqual(8);
    expect(
      names.some((n) => /transpose/i.test(n)),
      names.join(', '),
    ).toBe(false);
    tf.dispose(g);
    free(p);
  });
});
