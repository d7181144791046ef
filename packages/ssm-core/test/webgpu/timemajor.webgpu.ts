/**
 * The WGSL scan programs in the model's time-major layout (ScanPlan.layout 'timeMajor': u, z, out, Δ [b, L, ·],
 * B, C [b, L, n]) and the webgpu kernels of the inner ops that run them, on a real WebGPU adapter (CI: lavapipe):
 *   - every program (forward state-parallel and row-parallel, backward 'states' and 'rows') against the float64
 *     reference selectiveScanRef64 (outputs) and the host kernel's analytic backward (gradients, itself tested
 *     against float64 finite differences in ../scan.test.ts), for every layout and option of scan.webgpu.ts, each
 *     array moved to the time-major layout on the host;
 *   - s6Inner, mambaInner on webgpu against their float64 twins (forward) and their generic composition (gradients);
 *   - the programs they dispatch: no layout transpose around the scan, in s6Inner / mamba2Inner forward + backward
 *     and in a training step of Tab. 1's Mamba+PE.
 * Tolerance: |a − g| ≤ 1e-5 + 1e-4·|g| (scan.webgpu.ts's), 1e-4 + 1e-3·|g| where scan.webgpu.ts uses it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createModel,
  linear,
  mambaInner,
  mambaInnerRef,
  mamba2Inner,
  resetFlag,
  Rng,
  s6Inner,
  s6InnerRef,
  selectiveScanRef64,
  setFlag,
  tasks,
  tf,
  train,
  validateScanArgs,
  type MambaInnerArgs,
  type Mamba2InnerArgs,
  type S6InnerArgs,
} from '../../src/index.js';
import type { ScanDims } from '../../src/ops/core/types.js';
import { scanTensors, type ScanTensors } from '../../src/ops/kernels/webgpu/scan.js';
import { mamba2Parts } from '../../src/ops/mamba2Inner.js';
import { getKernel, resolveKernel } from '../../src/ops/registry.js';
import { expectClose, randomScan, type ScanCase } from '../helpers.js';
import { allCases, ALONG, hostGrads, onWebgpu, type ProgramRun, programRuns, rnd } from './helpers.js';

onWebgpu();

const f32 = async (t: tf.Tensor) => (await t.data()) as Float32Array;

const KEYS = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;
type Key = (typeof KEYS)[number];

/** [outer, mid, L] → [outer, L, mid]: the reference layout of a per-step array to the time-major one. */
function toTimeMajor(x: ArrayLike<number>, outer: number, mid: number, L: number): Float64Array {
  const y = new Float64Array(outer * mid * L);
  for (let o = 0; o < outer; o++)
    for (let m = 0; m < mid; m++) for (let t = 0; t < L; t++) y[(o * L + t) * mid + m] = x[(o * mid + m) * L + t];
  return y;
}

/** The time-major shape and data of argument (or gradient) `k`, from its reference-layout array. */
function timeMajorOf(s: ScanDims, k: Key, x: ArrayLike<number>): { shape: number[]; data: Float64Array } {
  const { batch: b, dInner: d, dState: n, L } = s;
  const same = (shape: number[]) => ({ shape, data: Float64Array.from(x) });
  if (k === 'u' || k === 'z') return { shape: [b, L, d], data: toTimeMajor(x, b, d, L) };
  if (k === 'delta') {
    const [mid, shape] =
      s.deltaAlong === 'channel' ? [d, [b, L, d]] : s.deltaAlong === 'state' ? [n, [b, L, n]] : [d * n, [b, L, d, n]];
    return { shape, data: toTimeMajor(x, b, mid, L) };
  }
  if ((k === 'B' && !s.bFixed) || (k === 'C' && !s.cFixed)) return { shape: [b, L, n], data: toTimeMajor(x, b, n, L) };
  if (k === 'A' || k === 'B' || k === 'C') return same([d, n]);
  if (k === 'D') return same([d]);
  return same(s.deltaAlong === 'channel' ? [d] : s.deltaAlong === 'state' ? [n] : [d, n]);
}

/** A random problem of `c` as time-major tensors, with its dims and float64 reference-layout arrays. */
function timeMajorProblem(c: ScanCase, seed: number) {
  const p = randomScan(c, seed);
  const s = validateScanArgs(p.args);
  const keys = KEYS.filter((k) => p.arrays64[k] !== undefined);
  const tensors: ScanTensors = {};
  for (const k of keys) {
    const { shape, data } = timeMajorOf(s, k, p.arrays64[k]!);
    tensors[k] = tf.tensor(Float32Array.from(data), shape);
  }
  const dispose = () => {
    tf.dispose(Object.values(tensors));
    p.dispose();
  };
  return { p, s, keys, tensors, dispose };
}

const run = (s: ScanDims, x: ScanTensors, lastState: boolean) =>
  tf.tidy(() => {
    const r = scanTensors(s, x, { layout: 'timeMajor', lastState });
    return (r.lastState ? [r.out, r.lastState] : [r.out]) as tf.Tensor[];
  });

async function checkForward(name: string, c: ScanCase, seed: number) {
  const q = timeMajorProblem(c, seed);
  const { s } = q;
  const ref = selectiveScanRef64(s, q.p.arrays64);
  const refOut = toTimeMajor(ref.out, s.batch, s.dInner, s.L);
  const before = tf.memory().numTensors;
  const [out, last] = run(s, q.tensors, true);
  expect(out.shape, `${name}: out shape`).toEqual([s.batch, s.L, s.dInner]);
  expectClose(await f32(out), refOut, `${name}: out`);
  expectClose(await f32(last), ref.lastState, `${name}: lastState`);
  // without a tape and without the last state, the program writes out alone
  const [alone] = run(s, q.tensors, false);
  expectClose(await f32(alone), refOut, `${name}: out, no state kept`);
  tf.dispose([out, last, alone]);
  expect(tf.memory().numTensors, `${name}: tensors`).toBe(before);
  q.dispose();
}

async function checkGrads(name: string, c: ScanCase, seed: number, atol = 1e-5, rtol = 1e-4) {
  const q = timeMajorProblem(c, seed);
  const { s, keys } = q;
  const gOut = q.p.rng.fill(s.batch * s.dInner * s.L, (r) => r.normal());
  const gLast = q.p.rng.fill(s.batch * s.dInner * s.dState, (r) => r.normal());
  const host = hostGrads(q.p.args, q.p.arrays64, gOut, gLast);
  const before = tf.memory().numTensors;
  const gO = tf.tensor3d(Float32Array.from(toTimeMajor(gOut, s.batch, s.dInner, s.L)), [s.batch, s.L, s.dInner]);
  const gL = tf.tensor3d(gLast, [s.batch, s.dInner, s.dState]);
  const grads = tf.grads((...xs: tf.Tensor[]) => {
    const x: ScanTensors = Object.fromEntries(keys.map((k, i) => [k, xs[i]]));
    const r = scanTensors(s, x, { layout: 'timeMajor', lastState: true });
    return r.out.mul(gO).sum().add(r.lastState!.mul(gL).sum());
  })(keys.map((k) => q.tensors[k]!));
  for (let i = 0; i < keys.length; i++) {
    const want = timeMajorOf(s, keys[i], host[keys[i]]!);
    expect(grads[i].shape, `${name}: ∂${keys[i]} shape`).toEqual(want.shape);
    const g = await f32(grads[i]);
    expect(g.every(Number.isFinite), `${name}: ∂${keys[i]} finite`).toBe(true);
    expectClose(g, want.data, `${name}: ∂${keys[i]}`, atol, rtol);
  }
  tf.dispose([...grads, gO, gL]);
  expect(tf.memory().numTensors, `${name}: tensors`).toBe(before);
  q.dispose();
}

/**
 * B and C read in place as columns of one [b, L, W] tensor (ScanPlan.bcColumns, S6's x_dbl): C in columns 1 … n,
 * B in n + 1 … 2n, two more columns of noise; out, lastState and every gradient as {@link checkGrads}, ∂ of that
 * tensor exactly 0 outside B's and C's columns.
 */
async function checkColumns(name: string, c: ScanCase, seed: number, atol = 1e-5, rtol = 1e-4) {
  const q = timeMajorProblem(c, seed);
  const { s } = q;
  const { batch: b, dInner: d, dState: N, L } = s;
  const W = 2 * N + 2;
  const cols = { W, bOff: 1 + N, cOff: 1 };
  const B = timeMajorOf(s, 'B', q.p.arrays64.B).data;
  const C = timeMajorOf(s, 'C', q.p.arrays64.C).data;
  const xd = q.p.rng.fill(b * L * W, (r) => r.normal());
  for (let bt = 0; bt < b * L; bt++)
    for (let n = 0; n < N; n++) {
      xd[bt * W + cols.bOff + n] = B[bt * N + n];
      xd[bt * W + cols.cOff + n] = C[bt * N + n];
    }
  const xdbl = tf.tensor3d(xd, [b, L, W]);
  const keys = q.keys.filter((k) => k !== 'C');
  const given = { ...q.tensors, B: xdbl, C: undefined };
  const ref = selectiveScanRef64(s, q.p.arrays64);
  const gOut = q.p.rng.fill(b * d * L, (r) => r.normal());
  const gLast = q.p.rng.fill(b * d * N, (r) => r.normal());
  const host = hostGrads(q.p.args, q.p.arrays64, gOut, gLast);
  const before = tf.memory().numTensors;
  const [out, last] = tf.tidy(() => {
    const r = scanTensors(s, given, { layout: 'timeMajor', lastState: true, bcColumns: cols });
    return [r.out, r.lastState!];
  });
  expectClose(await f32(out), toTimeMajor(ref.out, b, d, L), `${name}: out`);
  expectClose(await f32(last), ref.lastState, `${name}: lastState`);
  tf.dispose([out, last]);
  const gO = tf.tensor3d(Float32Array.from(toTimeMajor(gOut, b, d, L)), [b, L, d]);
  const gL = tf.tensor3d(gLast, [b, d, N]);
  const grads = tf.grads((...xs: tf.Tensor[]) => {
    const x: ScanTensors = Object.fromEntries(keys.map((k, i) => [k, xs[i]]));
    const r = scanTensors(s, x, { layout: 'timeMajor', lastState: true, bcColumns: cols });
    return r.out.mul(gO).sum().add(r.lastState!.mul(gL).sum());
  })(keys.map((k) => given[k]!));
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const g = await f32(grads[i]);
    expect(g.every(Number.isFinite), `${name}: ∂${k} finite`).toBe(true);
    if (k !== 'B') {
      expectClose(g, timeMajorOf(s, k, host[k]!).data, `${name}: ∂${k}`, atol, rtol);
      continue;
    }
    expect(grads[i].shape).toEqual([b, L, W]);
    const gB = timeMajorOf(s, 'B', host.B).data;
    const gC = timeMajorOf(s, 'C', host.C).data;
    const want = new Float64Array(b * L * W);
    for (let bt = 0; bt < b * L; bt++)
      for (let n = 0; n < N; n++) {
        want[bt * W + cols.bOff + n] = gB[bt * N + n];
        want[bt * W + cols.cOff + n] = gC[bt * N + n];
      }
    expectClose(g, want, `${name}: ∂x_dbl`, atol, rtol);
    for (let bt = 0; bt < b * L; bt++)
      expect([g[bt * W], g[bt * W + W - 1]], `${name}: ∂ outside B, C`).toEqual([0, 0]);
  }
  tf.dispose([...grads, gO, gL]);
  expect(tf.memory().numTensors, `${name}: tensors`).toBe(before);
  tf.dispose(xdbl);
  q.dispose();
}

describe('webgpu time-major scan forward = float64 selective_scan_ref', () => {
  it('state-parallel program (n ≤ 64): every layout × discretisation × option pattern, out and lastState', async () => {
    let i = 0;
    for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 4, L: 7 })) await checkForward(name, c, 100 + i++);
  });

  it('row-parallel program (n > 64): every layout × discretisation × option pattern, out and lastState', async () => {
    let i = 0;
    for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 65, L: 6 })) await checkForward(name, c, 200 + i++);
  });

  it("without a tape and without the last state, out is the program's whole output (no slice copy)", () => {
    const q = timeMajorProblem({ batch: 2, dInner: 3, dState: 4, L: 9, D: true, z: true, bias: true }, 6);
    const alone = programRuns(() => tf.dispose(run(q.s, q.tensors, false)));
    expect(named(alone, 'ssmScanFwd'), show(alone)).toBe(1);
    expect(named(alone, 'SliceProgram'), show(alone)).toBe(0);
    // with the last state: the chunk states follow out, and out and the final state are two slices of it
    const withState = programRuns(() => tf.dispose(run(q.s, q.tensors, true)));
    expect(named(withState, 'SliceProgram'), show(withState)).toBe(2);
    q.dispose();
  });

  it('more rows than a workgroup, long sequence', async () => {
    await checkForward(
      '70 channels',
      { batch: 2, dInner: 70, dState: 16, L: 50, D: true, z: true, bias: true, softplus: true },
      3,
    );
    await checkForward(
      'Δ per state, L 300',
      { batch: 1, dInner: 3, dState: 33, L: 300, deltaAlong: 'state', bias: true, softplus: true },
      4,
    );
  });
});

for (const program of ['states', 'rows'] as const)
  describe(`webgpu time-major scan gradients = host analytic gradients (backward program '${program}')`, () => {
    beforeAll(() => setFlag('WEBGPU_SCAN_BACKWARD', program));
    afterAll(() => resetFlag('WEBGPU_SCAN_BACKWARD'));

    it('every layout × discretisation × option pattern, all arguments, no leaks', async () => {
      let i = 0;
      for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 4, L: 9 })) await checkGrads(name, c, 500 + i++);
    });

    it("B and C as columns of one tensor (S6's x_dbl): every layout × discretisation, one and several workgroups", async () => {
      let i = 0;
      for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 4, L: 9 }))
        if (!c.bFixed && !c.cFixed) await checkColumns(name, c, 700 + i++);
      const base = { batch: 2, dInner: 66, dState: 16, L: 35, D: true, z: true, bias: true, softplus: true };
      for (const deltaAlong of ALONG)
        await checkColumns(`chunks, Δ ${deltaAlong}`, { ...base, deltaAlong, disc: 'zoh' }, 19, 1e-4, 1e-3);
    });

    it('several chunks, partial last chunk, several workgroups', async () => {
      // chunks of 16 steps (n = 16): L = 35 is 2 full chunks and one of 3; 66 channels: 2 workgroups of 64 ('rows'),
      // 5 of 16 rows ('states'). Sums over b·L terms in float32: scan.webgpu.ts's tolerance for them.
      const base = { batch: 2, dInner: 66, dState: 16, L: 35, D: true, z: true, bias: true, softplus: true };
      for (const deltaAlong of ALONG)
        await checkGrads(`chunks, Δ ${deltaAlong}`, { ...base, deltaAlong, disc: 'zoh' }, 9, 1e-4, 1e-3);
      await checkGrads('chunks, fixed B and C', { ...base, bFixed: true, cFixed: true }, 10, 1e-4, 1e-3);
      await checkGrads('dState > 64', { ...base, dInner: 5, dState: 70, L: 10, deltaAlong: 'state' }, 11);
    });
  });

describe("webgpu time-major scan gradients = host analytic gradients (backward program 'time')", () => {
  beforeAll(() => setFlag('WEBGPU_SCAN_BACKWARD', 'time'));
  afterAll(() => resetFlag('WEBGPU_SCAN_BACKWARD'));
  // every 3rd of the 36 layout cases (the reference layout's tests in scan.webgpu.ts take the even ones)
  const some = (shape: Pick<ScanCase, 'batch' | 'dInner' | 'dState' | 'L'>) =>
    allCases(shape).filter((_, i) => i % 3 === 1);

  it('a third of the layout × discretisation × option patterns, all arguments, no leaks', async () => {
    let i = 0;
    for (const [name, c] of some({ batch: 2, dInner: 3, dState: 4, L: 9 })) await checkGrads(name, c, 500 + i++);
  });

  it("B and C as columns of one tensor (S6's x_dbl): one and several workgroups, several chunks", async () => {
    let i = 0;
    for (const [name, c] of some({ batch: 2, dInner: 3, dState: 4, L: 9 }))
      if (!c.bFixed && !c.cFixed) await checkColumns(name, c, 700 + i++);
    // L = 600: chunks of 512 and 88 steps; 6 channels: workgroups of 4 and 2 rows
    const base = { batch: 2, dInner: 6, dState: 5, L: 600, D: true, z: true, bias: true, softplus: true };
    await checkColumns('chunks, Δ per channel', { ...base, disc: 'zoh' }, 19, 1e-4, 1e-3);
  });

  it('several chunks, partial last chunk, several workgroups', async () => {
    // Δ per state: its partial sums [b, G, L, n] added to row after row (Δ per channel: the columns test above)
    const base = { batch: 2, dInner: 6, dState: 5, L: 600, D: true, z: true, bias: true, softplus: true };
    await checkGrads('chunks, Δ per state', { ...base, deltaAlong: 'state', disc: 'zoh' }, 9, 1e-4, 1e-3);
    await checkGrads(
      'chunks, fixed B and C',
      { ...base, bFixed: true, cFixed: true, disc: 'identity' },
      10,
      1e-4,
      1e-3,
    );
  });
});

describe("webgpu time-major scan with the time-parallel forward (WEBGPU_SCAN_FORWARD = 'time')", () => {
  beforeAll(() => setFlag('WEBGPU_SCAN_FORWARD', 'time'));
  afterAll(() => resetFlag('WEBGPU_SCAN_FORWARD'));
  // every 5th of the 36 layout cases: each Δ layout, discretisation and fixed/varying B, C pair at least once
  const some = (shape: Pick<ScanCase, 'batch' | 'dInner' | 'dState' | 'L'>) =>
    allCases(shape).filter((_, i) => i % 5 === 0);

  it('forward = float64 selective_scan_ref: Δ per channel, state and both, every discretisation, B and C fixed or not', async () => {
    let i = 0;
    for (const [name, c] of some({ batch: 2, dInner: 3, dState: 4, L: 7 })) await checkForward(name, c, 900 + i++);
  });

  it("its chunk states feed the backward: gradients = host analytic gradients, B and C as x_dbl's columns", async () => {
    let i = 0;
    for (const [name, c] of some({ batch: 2, dInner: 3, dState: 4, L: 9 })) await checkGrads(name, c, 950 + i++);
    const base = { batch: 2, dInner: 66, dState: 16, L: 35, D: true, z: true, bias: true, softplus: true };
    await checkColumns('chunks, Δ per channel', { ...base, disc: 'zoh' }, 19, 1e-4, 1e-3);
  });
});

/**
 * An S6 / Mamba inner problem: x [b, L, d], x_proj [R + 2N, d], dt_proj [d, R], conv k = 4, a d × d gate; weights
 * at the scale of the model's initialisation (1/√fan-in), so B_t, C_t, Δ_t and y are O(1).
 */
function innerProblem(seed: number, [b, L, d, N, R]: number[], D: boolean, disc?: 'euler' | 'zoh' | 'identity') {
  const rng = new Rng(seed);
  const a: MambaInnerArgs = {
    x: rnd(rng, [b, L, d]),
    xProjWeight: rnd(rng, [R + 2 * N, d], 1 / Math.sqrt(d)),
    dtProjWeight: rnd(rng, [d, R], 1 / Math.sqrt(R)),
    dtProjBias: rnd(rng, [d], 0.5),
    ALog: tf.tensor2d(
      rng.fill(d * N, (r) => Math.log(r.range(0.5, 3))),
      [d, N],
    ),
    D: D ? rnd(rng, [d]) : undefined,
    bDiscretization: disc,
    convWeight: rnd(rng, [d, 4], 0.5),
    convBias: rnd(rng, [d], 0.5),
    convActivation: 'silu',
    gateWeight: rnd(rng, [d, d], 1 / Math.sqrt(d)),
    gateBias: rnd(rng, [d], 0.5),
    gateActivation: 'silu',
  };
  return { a, rng, dispose: () => tf.dispose(Object.values(a).filter((v) => v instanceof tf.Tensor)) };
}

const INNER: [string, number[], boolean, ('euler' | 'zoh' | 'identity')?][] = [
  ['euler, D', [2, 10, 5, 3, 2], true],
  ['zoh, no D', [2, 10, 5, 3, 2], false, 'zoh'],
  ['identity, D, several workgroups and chunks', [2, 40, 66, 16, 4], true, 'identity'],
];

const S6_KEYS = ['x', 'xProjWeight', 'dtProjWeight', 'dtProjBias', 'ALog', 'D'] as const;
const MAMBA_KEYS = [...S6_KEYS, 'convWeight', 'convBias', 'gateWeight', 'gateBias'] as const;

/** Gradients of Σ W·op(args) in every tensor argument `keys`, fused (the op) and generic (its generic kernel). */
async function compareGrads<A extends object>(
  args: A,
  keys: readonly (keyof A & string)[],
  W: tf.Tensor,
  fused: (a: A) => tf.Tensor,
  generic: (a: A) => tf.Tensor,
  tol: [number, number] = [1e-5, 1e-4],
) {
  const present = keys.filter((k) => args[k] !== undefined);
  const loss = (f: (a: A) => tf.Tensor) =>
    tf.grads((...xs: tf.Tensor[]) => {
      const a = { ...args } as Record<string, unknown>;
      present.forEach((k, i) => (a[k] = xs[i]));
      return f(a as A)
        .mul(W)
        .sum();
    })(present.map((k) => args[k] as tf.Tensor));
  const before = tf.memory().numTensors;
  const gf = loss(fused);
  const gg = loss((a) => tf.tidy(() => generic(a)));
  for (let i = 0; i < present.length; i++) {
    const g = await gf[i].data();
    expect(g.every(Number.isFinite), `∂${present[i]} finite`).toBe(true);
    expectClose(g, await gg[i].data(), `∂${present[i]}`, ...tol);
  }
  tf.dispose([...gf, ...gg]);
  expect(tf.memory().numTensors).toBe(before);
}

describe('webgpu inner ops on the time-major scan', () => {
  it('s6Inner and mambaInner resolve to their webgpu kernels', () => {
    expect(resolveKernel('s6Inner').key).toBe('webgpu');
    expect(resolveKernel('mambaInner').key).toBe('webgpu');
    expect(resolveKernel('mamba2Inner').key).toBe('webgpu');
  });

  for (const [name, shape, D, disc] of INNER) {
    it(`s6Inner forward = float64 s6InnerRef, gradients = the generic composition's: ${name}`, async () => {
      const p = innerProblem(1, shape, D, disc);
      const args: S6InnerArgs = p.a;
      const ref = await s6InnerRef(args).data(); // reads the inputs while they are still host arrays
      const before = tf.memory().numTensors;
      const y = s6Inner(args);
      expect(tf.memory().numTensors).toBe(before + 1);
      expectClose(await y.data(), ref, 'y');
      y.dispose();
      const generic = getKernel<(a: S6InnerArgs, R: number, N: number) => tf.Tensor>('s6Inner', 'generic')!;
      const [, , , N, R] = shape;
      const W = rnd(p.rng, p.a.x.shape as number[]);
      await compareGrads(
        args,
        S6_KEYS,
        W,
        (a) => s6Inner(a),
        (a) => generic(a, R, N),
      );
      tf.dispose(W);
      p.dispose();
    });

    for (const gate of ['silu', 'sigmoid'] as const)
      it(`mambaInner (gate ${gate}) forward = float64 mambaInnerRef, gradients = the generic composition's: ${name}`, async () => {
        const p = innerProblem(2, shape, D, disc);
        const args: MambaInnerArgs = { ...p.a, gateActivation: gate };
        const ref = await mambaInnerRef(args).data();
        const before = tf.memory().numTensors;
        const y = mambaInner(args);
        expect(tf.memory().numTensors).toBe(before + 1);
        expectClose(await y.data(), ref, 'y');
        y.dispose();
        const generic = getKernel<(a: MambaInnerArgs, R: number, N: number) => tf.Tensor>('mambaInner', 'generic')!;
        const [, , , N, R] = shape;
        const W = rnd(p.rng, p.a.x.shape as number[]);
        await compareGrads(
          args,
          MAMBA_KEYS,
          W,
          (a) => mambaInner(a),
          (a) => generic(a, R, N),
        );
        tf.dispose(W);
        p.dispose();
      });
  }
});

describe('webgpu s6Inner: A = −exp(A_log) inside every program', () => {
  afterAll(() => resetFlag('WEBGPU_SCAN_BACKWARD'));
  for (const program of ['states', 'rows', 'time'] as const)
    it(`row forward (N = 65) and backward '${program}': = s6InnerRef, gradients = the generic composition's`, async () => {
      setFlag('WEBGPU_SCAN_BACKWARD', program);
      const shape = [2, 12, 6, 65, 2];
      const p = innerProblem(5, shape, true, 'zoh');
      const args: S6InnerArgs = p.a;
      const ref = await s6InnerRef(args).data();
      const y = s6Inner(args);
      expectClose(await y.data(), ref, 'y');
      y.dispose();
      const generic = getKernel<(a: S6InnerArgs, R: number, N: number) => tf.Tensor>('s6Inner', 'generic')!;
      const W = rnd(p.rng, p.a.x.shape as number[]);
      await compareGrads(
        args,
        S6_KEYS,
        W,
        (a) => s6Inner(a),
        (a) => generic(a, 2, 65),
      );
      tf.dispose(W);
      p.dispose();
    });
});

type Seen = ProgramRun[];
const named = (c: Seen, prefix: string) => c.filter((p) => p.name.startsWith(prefix)).length;
/** TransposeProgram and TransposeSharedProgram (tfjs-backend-webgpu's 2-D [1, 0] transpose). */
const transposes = (c: Seen) => c.filter((p) => p.name === 'TransposeProgram' || p.name === 'TransposeSharedProgram');
const show = (c: Seen) => {
  const m = new Map<string, number>();
  for (const p of c) m.set(p.name, (m.get(p.name) ?? 0) + 1);
  return [...m].map(([k, v]) => `${k} ${v}`).join(', ');
};

/** A forward + backward pass of Σ f(args) in the tensor arguments `keys`. */
function fwdBwd<A extends object>(args: A, keys: readonly (keyof A & string)[], f: (a: A) => tf.Tensor) {
  const present = keys.filter((k) => args[k] !== undefined);
  return () =>
    tf.dispose(
      tf.grads((...xs: tf.Tensor[]) => {
        const a = { ...args } as Record<string, unknown>;
        present.forEach((k, i) => (a[k] = xs[i]));
        return f(a as A).sum();
      })(present.map((k) => args[k] as tf.Tensor)),
    );
}

describe('webgpu inner ops: no layout transpose around the scan', () => {
  it('s6Inner forward + backward: the transposes of its two linear layers and none more', () => {
    const p = innerProblem(3, [2, 12, 8, 4, 2], true);
    const [b, L] = p.a.x.shape as number[];
    const [R, N] = [2, 4];
    const fused = programRuns(fwdBwd<S6InnerArgs>(p.a, S6_KEYS, (a) => s6Inner(a)));
    expect(named(fused, 'ssmScanFwd'), show(fused)).toBe(1);
    expect(named(fused, 'ssmScanBwd'), show(fused)).toBe(1);
    // the projections alone, x_proj then dt_proj on Δ_low (their weights' transposes, forward and backward)
    const projections = programRuns(
      fwdBwd<S6InnerArgs>(p.a, ['x', 'xProjWeight', 'dtProjWeight'], (a) => {
        const xdbl = linear(a.x, a.xProjWeight);
        return linear(xdbl.slice([0, 0, 0], [b, L, R]), a.dtProjWeight)
          .sum()
          .add(xdbl.sum());
      }),
    );
    expect(transposes(fused).length, show(fused)).toBe(transposes(projections).length);
    const generic = getKernel<(a: S6InnerArgs, R: number, N: number) => tf.Tensor>('s6Inner', 'generic')!;
    const composed = programRuns(fwdBwd<S6InnerArgs>(p.a, S6_KEYS, (a) => tf.tidy(() => generic(a, R, N))));
    // the generic composition: u, Δ, B, C to [b, ·, L] and y back, and the same five on the way back
    expect(transposes(composed).length - transposes(projections).length, show(composed)).toBeGreaterThanOrEqual(10);
    p.dispose();
  });

  it('mamba2Inner forward + backward: the fused scan, no transpose', () => {
    const rng = new Rng(4);
    const a: Mamba2InnerArgs = {
      x: rnd(rng, [2, 12, 8]),
      B: rnd(rng, [2, 12, 4]),
      C: rnd(rng, [2, 12, 4]),
      dt: rnd(rng, [2, 12, 1], 0.5),
      dtBias: rnd(rng, [1], 0.5),
      ALog: tf.tensor1d([Math.log(2)]),
      D: rnd(rng, [1]),
    };
    const keys = ['x', 'B', 'C', 'dt', 'dtBias', 'ALog', 'D'] as const;
    const fused = programRuns(fwdBwd(a, keys, (q) => mamba2Inner(q)));
    expect(named(fused, 'ssmScanFwd'), show(fused)).toBe(1);
    expect(named(fused, 'ssmScanBwd'), show(fused)).toBe(1);
    expect(transposes(fused).length, show(fused)).toBe(0);
    const composed = programRuns(fwdBwd(a, keys, (q) => tf.tidy(() => mamba2Parts(q, false).y)));
    expect(transposes(composed).length, show(composed)).toBeGreaterThan(0);
    tf.dispose(Object.values(a));
  });

  /** The programs of the second training step of Tab. 1's Mamba+PE (d = 32, N = 8, T = 50, batch 16). */
  async function mambaPeStep(impl: 'auto' | 'tensor'): Promise<Seen> {
    const model = createModel({
      kind: 'mamba',
      vocabSize: 128,
      dModel: 32,
      dState: 8,
      mixer: 's6',
      conv: false,
      gate: false,
      positionalEncoding: { scale: 0.1 },
      impl,
    });
    const data = {
      train: tasks.keepNth({ n: 5, vocabSize: 128, T: 50, numSamples: 64, seed: 1 }),
      val: tasks.keepNth({ n: 5, vocabSize: 128, T: 50, numSamples: 16, seed: 2 }),
    };
    const backend = tf.backend() as unknown as { runWebGPUProgram: (p: object, ...a: unknown[]) => unknown };
    const orig = backend.runWebGPUProgram;
    const seen: Seen = [];
    let counting = false;
    backend.runWebGPUProgram = function (this: unknown, p: object, ...a: unknown[]) {
      if (counting) seen.push({ name: p.constructor.name, rank: (p as { outputShape: number[] }).outputShape.length });
      return orig.call(this, p, ...a);
    };
    try {
      // between the first step's hook and the second's: one whole step (the validation pass comes after)
      await train(
        model,
        data,
        { epochs: 1, stepsPerEpoch: 2, batchSize: 16, lr: 0.03, lrMin: 1e-6, seed: 0 },
        { progress: 'off', onStep: (s) => (counting = s.step === 1) },
      );
    } finally {
      backend.runWebGPUProgram = orig;
      model.dispose();
    }
    return seen;
  }

  it("a training step of Tab. 1's Mamba+PE: the fused scan forward and backward, no layout transpose", async () => {
    const fused = await mambaPeStep('auto');
    expect(named(fused, 'ssmScanFwd'), show(fused)).toBe(1);
    expect(named(fused, 'ssmScanBwd'), show(fused)).toBe(1);
    // what transposes remain are the linear layers' 2-D weight and gradient transposes (TransposeSharedProgram);
    // a layout change [b, L, ·] ↔ [b, ·, L] is a rank-3 TransposeProgram
    expect(
      transposes(fused).filter((p) => p.rank !== 2),
      show(fused),
    ).toEqual([]);
    expect(named(fused, 'TransposeProgram'), show(fused)).toBe(0);
    // the step through the generic composition (impl 'tensor') has them
    const composed = await mambaPeStep('tensor');
    expect(named(composed, 'TransposeProgram'), show(composed)).toBeGreaterThanOrEqual(10);
    expect(transposes(composed).length - transposes(fused).length, show(composed)).toBeGreaterThanOrEqual(10);
  });
});
