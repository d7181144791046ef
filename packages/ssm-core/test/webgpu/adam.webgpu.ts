/**
 * Adam on WebGPU (the 'webgpu' kernel of adamUpdate, ops/kernels/webgpu/adam.ts): several steps against a float64
 * sequential loop of torch's update (float32 storage of m, v, p between steps, as torch's float32 tensors hold
 * them) and against the host kernel on the cpu backend, extreme gradients included; a parameter that needs the 2-D
 * dispatch; three programs per parameter, pipelines that do not multiply with steps or shapes, fresh buffers, no
 * leaked tensors.
 */
import { describe, expect, it } from 'vitest';
import { Adam, cosineLr, Rng, tf } from '../../src/index.js';
import { resolveKernel } from '../../src/ops/registry.js';
import { onWebgpu } from './helpers.js';

onWebgpu();

interface Backend {
  pipelineCache: Record<string, unknown>;
  runWebGPUProgram: (program: { shaderKey: string; dispatch: number[] }, ...rest: unknown[]) => unknown;
}
const backend = () => tf.backend() as unknown as Backend;

/** Calls `f` while recording the shader key prefix and dispatch of every program it runs. */
async function recordPrograms<T>(
  f: () => Promise<T> | T,
): Promise<{ result: T; programs: { key: string; dispatch: number[] }[] }> {
  const be = backend();
  const orig = be.runWebGPUProgram;
  const programs: { key: string; dispatch: number[] }[] = [];
  be.runWebGPUProgram = function (program, ...rest) {
    programs.push({ key: program.shaderKey, dispatch: [...program.dispatch] });
    return orig.call(this, program, ...rest);
  };
  try {
    return { result: await f(), programs };
  } finally {
    be.runWebGPUProgram = orig;
  }
}

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-8;
const LR = 0.03;
const STEPS = 5;
const f32 = Math.fround;

/**
 * torch.optim.Adam's update in float64, one element at a time, the state stored in float32 after each step; with
 * each value the sum of the magnitudes of the terms that made it (a float32 evaluation is within a few ulps of that).
 */
class Reference {
  p: Float64Array;
  m: Float64Array;
  v: Float64Array;
  pMass: Float64Array;
  mMass: Float64Array;
  t = 0;
  constructor(p0: Float32Array) {
    this.p = Float64Array.from(p0);
    this.m = new Float64Array(p0.length);
    this.v = new Float64Array(p0.length);
    this.pMass = this.p.map(Math.abs);
    this.mMass = new Float64Array(p0.length);
  }
  step(g: Float32Array, lr: number) {
    this.t++;
    const bc1 = 1 - B1 ** this.t;
    const bc2 = 1 - B2 ** this.t;
    for (let i = 0; i < g.length; i++) {
      this.m[i] = f32(B1 * this.m[i] + (1 - B1) * g[i]);
      this.mMass[i] = B1 * this.mMass[i] + (1 - B1) * Math.abs(g[i]);
      this.v[i] = f32(B2 * this.v[i] + (1 - B2) * g[i] * g[i]);
      const u = ((lr / bc1) * this.m[i]) / (Math.sqrt(this.v[i]) / Math.sqrt(bc2) + EPS);
      this.p[i] = f32(this.p[i] - u);
      this.pMass[i] += Math.abs(u);
    }
  }
}

/**
 * |a − r| ≤ 1e-5·mass + 1e-37 elementwise (a float32 result within ~100 ulps of the terms it sums), and an infinite
 * reference value matched exactly.
 */
function expectNear(a: ArrayLike<number>, r: ArrayLike<number>, mass: ArrayLike<number>, what: string) {
  expect(a.length, `${what}: length`).toBe(r.length);
  for (let i = 0; i < r.length; i++) {
    const ok = Number.isFinite(r[i]) ? Math.abs(a[i] - r[i]) <= 1e-5 * mass[i] + 1e-37 : a[i] === r[i];
    if (!ok) expect.fail(`${what}: index ${i}: got ${a[i]}, expected ${r[i]} (terms of magnitude ${mass[i]})`);
  }
}

/** Gradients with the extremes mixed in: ±1e30 (g² overflows float32), ±1e-30 (g² underflows), zeros. */
function gradient(rng: Rng, n: number, step: number): Float32Array {
  const EXTREMES = [1e30, -1e30, 1e-30, -1e-30, 0];
  return Float32Array.from({ length: n }, (_, i) =>
    i % 7 === 3 ? EXTREMES[(i + step) % EXTREMES.length] : rng.normal() * 10 ** ((i % 5) - 2),
  );
}

const SHAPES: Record<string, number[]> = { w: [5, 7], b: [3], e: [130, 2] };

/** STEPS updates of Adam on the live backend from `p0` with gradients `gs[step][name]`; p, m, v after each step. */
async function run(p0: Record<string, Float32Array>, gs: Record<string, Float32Array>[]) {
  const params = Object.fromEntries(
    Object.entries(p0).map(([k, x]) => [
      k,
      tf.tidy(() => tf.variable(tf.tensor(x, SHAPES[k]), true, `adamtest_${k}_${Math.random()}`)),
    ]),
  );
  const adam = new Adam(params, { beta1: B1, beta2: B2, epsilon: EPS });
  const after: Record<string, { p: Float32Array; m: Float32Array; v: Float32Array }>[] = [];
  for (let s = 0; s < gs.length; s++) {
    const grads = Object.fromEntries(Object.entries(gs[s]).map(([k, g]) => [k, tf.tensor(g, SHAPES[k])]));
    adam.apply(grads, cosineLr(s, gs.length, LR, 1e-4));
    tf.dispose(Object.values(grads));
    const snap: (typeof after)[number] = {};
    for (const k of Object.keys(params)) {
      snap[k] = {
        p: (await params[k].data()) as Float32Array,
        m: (await adam.m[k].data()) as Float32Array,
        v: (await adam.v[k].data()) as Float32Array,
      };
    }
    after.push(snap);
  }
  adam.dispose();
  tf.dispose(Object.values(params));
  return after;
}

describe('webgpu adamUpdate', () => {
  it('resolves to the WGSL kernel', () => expect(resolveKernel('adamUpdate').key).toBe('webgpu'));

  it('several steps = float64 torch update and = the host kernel, extreme gradients included', async () => {
    const rng = new Rng(3);
    const p0 = Object.fromEntries(
      Object.entries(SHAPES).map(([k, s]) => [
        k,
        Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()),
      ]),
    );
    const gs = Array.from({ length: STEPS }, (_, s) =>
      Object.fromEntries(Object.entries(p0).map(([k, x]) => [k, gradient(rng, x.length, s)])),
    );
    const refs = Object.fromEntries(Object.entries(p0).map(([k, x]) => [k, new Reference(x)]));

    const gpu = await run(p0, gs);
    await tf.setBackend('cpu');
    expect(resolveKernel('adamUpdate').key).toBe('cpu');
    let host: Awaited<ReturnType<typeof run>>;
    try {
      host = await run(p0, gs);
    } finally {
      await tf.setBackend('webgpu');
    }

    let infinite = 0;
    for (let s = 0; s < STEPS; s++) {
      for (const k of Object.keys(p0)) {
        const r = refs[k];
        r.step(gs[s][k], cosineLr(s, STEPS, LR, 1e-4));
        for (const [name, got] of [
          ['webgpu', gpu[s][k]],
          ['host', host[s][k]],
        ] as const) {
          const at = `${name} step ${s + 1} ${k}`;
          expectNear(got.m, r.m, r.mMass, `${at} m`);
          expectNear(got.v, r.v, r.v, `${at} v`);
          expectNear(got.p, r.p, r.pMass, `${at} p`);
          expect(got.p.every(Number.isFinite), `${at} p finite`).toBe(true);
        }
        infinite += r.v.filter((x) => x === Infinity).length;
      }
    }
    expect(infinite, 'v overflows float32 for |g| = 1e30').toBeGreaterThan(0);
  });

  it('three programs per parameter; pipelines do not grow with steps or shapes; fresh buffers; no leaks', async () => {
    const rng = new Rng(4);
    const params = Object.fromEntries(
      Object.entries({ ...SHAPES, x: [9, 4, 3] }).map(([k, s]) => [
        k,
        tf.tidy(() => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 1), true, `adamkeys_${k}_${Math.random()}`)),
      ]),
    );
    const adam = new Adam(params);
    // tfjs's full shader keys of the one-dimensional dispatch (a 2-D dispatch compiles other pipelines)
    const adamKeys = () =>
      Object.keys(backend().pipelineCache)
        .filter((k) => k.startsWith('adam') && k.endsWith('flatDispatch'))
        .sort();
    const step = async (s: number) => {
      const grads = Object.fromEntries(
        Object.entries(params).map(([k, p]) => [k, tf.tensor(gradient(rng, p.size, s), p.shape)]),
      );
      const before = tf.memory().numTensors;
      const { programs } = await recordPrograms(() => adam.apply(grads, cosineLr(s, 10, LR, 1e-4)));
      expect(tf.memory().numTensors, 'tensors after a step').toBe(before);
      tf.dispose(Object.values(grads));
      return programs;
    };
    const first = await step(0);
    expect(first.length, 'programs per step').toBe(3 * Object.keys(params).length);
    expect(first.every((p) => p.key.startsWith('adam'))).toBe(true);
    const keys = adamKeys();
    expect(keys.length, 'one pipeline per program for every parameter shape').toBe(3);

    const kept = tf.clone(params.w); // shares the variable's buffer
    const keptValues = await kept.data();
    for (let s = 1; s < 6; s++) await step(s);
    expect(adamKeys(), 'pipelines after more steps').toEqual(keys);
    expect(await kept.data(), 'a clone keeps its values').toEqual(keptValues);
    expect(await params.w.data()).not.toEqual(keptValues);

    kept.dispose();
    adam.dispose();
    tf.dispose(Object.values(params));
  });

  it('a parameter of more than 65535 workgroups takes the 2-D dispatch, every element updated', async () => {
    const n = 65535 * 64 + 4099;
    const rng = new Rng(5);
    const p0 = Float32Array.from({ length: n }, () => rng.normal());
    const g = gradient(rng, n, 0);
    const ref = new Reference(p0);
    ref.step(g, LR);

    const before = tf.memory().numTensors;
    const p = tf.tidy(() => tf.variable(tf.tensor1d(p0), true, `adambig_${Math.random()}`)); // tidy frees the initial value
    const adam = new Adam({ p });
    const grad = tf.tensor1d(g);
    const { programs } = await recordPrograms(() => adam.apply({ p: grad }, LR));
    expect(programs.length).toBe(3);
    for (const prog of programs) {
      expect(prog.dispatch[0], `${prog.key} workgroups along x`).toBeLessThanOrEqual(65535);
      expect(prog.dispatch[1], `${prog.key} workgroups along y`).toBeGreaterThan(1);
      expect(prog.dispatch[0] * prog.dispatch[1] * 64).toBeGreaterThanOrEqual(n);
    }
    expectNear(await adam.m.p.data(), ref.m, ref.mMass, 'm');
    expectNear(await adam.v.p.data(), ref.v, ref.v, 'v');
    expectNear(await p.data(), ref.p, ref.pMass, 'p');
    grad.dispose();
    adam.dispose();
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
