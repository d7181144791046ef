/**
 * Mamba-2's scalar-decay scan on WebGPU (the 'webgpu' kernel of mamba2Inner: Δ_t read per (b, t), never broadcast
 * to [b, d, L]): forward against the float64 reference mamba2InnerRef, gradients of every argument against the
 * generic composition (selectiveScan with Δ, a, D broadcast, on the WGSL scan kernel tested in scan.webgpu.ts).
 */
import { describe, expect, it } from 'vitest';
import { mamba2Inner, mamba2InnerRef, resetFlag, Rng, setFlag, tf, type Mamba2InnerArgs } from '../../src/index.js';
import { mamba2Parts } from '../../src/ops/mamba2Inner.js';
import { resolveKernel } from '../../src/ops/registry.js';
import { expectClose } from '../helpers.js';
import { onWebgpu, programsOf, rnd } from './helpers.js';

onWebgpu();

function problem(seed: number, [b, L, d, N]: number[], D: boolean, disc?: 'euler' | 'zoh' | 'identity') {
  const rng = new Rng(seed);
  const a: Mamba2InnerArgs = {
    x: rnd(rng, [b, L, d]),
    B: rnd(rng, [b, L, N]),
    C: rnd(rng, [b, L, N]),
    dt: rnd(rng, [b, L, 1], 0.5),
    dtBias: rnd(rng, [1], 0.5),
    ALog: tf.tensor1d([Math.log(2)]),
    D: D ? rnd(rng, [1]) : undefined,
    bDiscretization: disc,
  };
  return { a, rng, dispose: () => tf.dispose(Object.values(a).filter((v) => v instanceof tf.Tensor)) };
}

const CASES: [string, number[], boolean, ('euler' | 'zoh' | 'identity')?][] = [
  ['euler, D', [2, 10, 5, 3], true],
  ['zoh, no D', [2, 10, 5, 3], false, 'zoh'],
  ['identity, D, two workgroups, several chunks', [2, 40, 66, 16], true, 'identity'],
];

/**
 * Gradients of the fused kernel against the generic composition's; with `program`, the fused kernel's backward is
 * that WGSL program (flag WEBGPU_SCAN_BACKWARD) and the composition's the default one.
 */
async function checkGrads(shape: number[], D: boolean, disc?: 'euler' | 'zoh' | 'identity', program?: 'time') {
  const p = problem(2, shape, D, disc);
  const keys = (['x', 'B', 'C', 'dt', 'dtBias', 'ALog', 'D'] as const).filter((k) => p.a[k] !== undefined);
  const W = rnd(p.rng, p.a.x.shape as number[]);
  const loss = (run: (a: Mamba2InnerArgs) => tf.Tensor) =>
    tf.grads((...xs: tf.Tensor[]) => {
      const a = { ...p.a };
      keys.forEach((k, i) => ((a as Record<string, unknown>)[k] = xs[i]));
      return run(a).mul(W).sum();
    })(keys.map((k) => p.a[k] as tf.Tensor));
  const before = tf.memory().numTensors;
  if (program) setFlag('WEBGPU_SCAN_BACKWARD', program);
  let fused: tf.Tensor[];
  try {
    fused = loss((a) => mamba2Inner(a));
  } finally {
    resetFlag('WEBGPU_SCAN_BACKWARD');
  }
  const generic = loss((a) => tf.tidy(() => mamba2Parts(a, false).y));
  for (let i = 0; i < keys.length; i++) {
    const g = await fused[i].data();
    expect(g.every(Number.isFinite), `∂${keys[i]} finite`).toBe(true);
    expectClose(g, await generic[i].data(), `∂${keys[i]}`);
  }
  tf.dispose([...fused, ...generic]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose(W);
  p.dispose();
}

describe('webgpu mamba2Inner', () => {
  it('resolves to the WGSL kernel', () => expect(resolveKernel('mamba2Inner').key).toBe('webgpu'));

  for (const [name, shape, D, disc] of CASES) {
    it(`forward = float64 mamba2InnerRef: ${name}`, async () => {
      const p = problem(1, shape, D, disc);
      const ref = mamba2InnerRef(p.a); // reads the inputs while they are still host arrays
      const refData = await ref.data();
      const before = tf.memory().numTensors;
      const y = mamba2Inner(p.a);
      expect(tf.memory().numTensors).toBe(before + 1);
      expectClose(await y.data(), refData, 'y');
      tf.dispose([y, ref]);
      p.dispose();
    });

    it(`gradients = the generic composition's: ${name}`, () => checkGrads(shape, D, disc));
  }
});

describe('webgpu mamba2Inner: programs of a forward + backward', () => {
  // A_log [1] → [d, N] and D [d]: broadcast as parameters (one sum each in the backward); tf.broadcastTo's Tile
  // gradient would add a slice of the cotangent per repetition, d·N + d of them
  it('the fused kernel and the generic composition dispatch no slice per broadcast repetition', () => {
    const [b, L, d, N] = [2, 10, 16, 8];
    const p = problem(3, [b, L, d, N], true);
    const keys = (['x', 'B', 'C', 'dt', 'dtBias', 'ALog', 'D'] as const).filter((k) => p.a[k] !== undefined);
    const W = rnd(p.rng, [b, L, d]);
    const fwdBwd = (run: (a: Mamba2InnerArgs) => tf.Tensor) => () =>
      tf.dispose(
        tf.grads((...xs: tf.Tensor[]) => {
          const a = { ...p.a };
          keys.forEach((k, i) => ((a as Record<string, unknown>)[k] = xs[i]));
          return run(a).mul(W).sum();
        })(keys.map((k) => p.a[k] as tf.Tensor)),
      );
    for (const [name, run] of [
      ['fused', (a: Mamba2InnerArgs) => mamba2Inner(a)],
      ['generic', (a: Mamba2InnerArgs) => tf.tidy(() => mamba2Parts(a, false).y)],
    ] as const) {
      const names = programsOf(fwdBwd(run));
      const slices = names.filter((n) => n === 'SliceProgram').length;
      expect(slices, `${name}: ${names.join(', ')}`).toBeLessThan(d);
    }
    tf.dispose(W);
    p.dispose();
  });
});

describe("webgpu mamba2Inner with the time-parallel backward (WEBGPU_SCAN_BACKWARD = 'time')", () => {
  for (const [name, shape, D, disc] of CASES)
    it(`gradients = the generic composition's: ${name}`, () => checkGrads(shape, D, disc, 'time'));
  it("gradients = the generic composition's: several chunks (L = 600) and workgroups along d", () =>
    checkGrads([2, 600, 6, 3], true, 'zoh', 'time'));
});
