/**
 * The selective scan against the float64 transcription of mamba_ssm's selective_scan_ref:
 * forward values (both implementations, every layout option, heavy decay), gradients against
 * float64 finite differences, errors, and tensor hygiene.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DTypeError,
  ShapeError,
  ValueError,
  ready,
  resetFlags,
  selectiveScan,
  selectiveScanRef,
  selectiveScanRef64,
  setFlag,
  tf,
  validateScanArgs,
  type SelectiveScanArgs,
} from '../src/index.js';
import type { ScanArrays } from '../src/ops/core/types.js';
import {
  expectClose,
  expectScanMatchesReference,
  finiteDiffGrads,
  HEAVY_SCAN,
  randomScan,
  read,
  type ScanCase,
} from './helpers.js';

beforeAll(async () => {
  await ready();
});
afterEach(() => resetFlags());

/**
 * The kernels under test: 'fused' is the host kernel (WebAssembly SIMD where it applies), 'fused-js' the same with
 * WASM_SCAN = false (the JS kernel), 'tensor' the generic tf-op kernel.
 */
const IMPLS = ['fused', 'fused-js', 'tensor'] as const;
type Impl = (typeof IMPLS)[number];
function useImpl(impl: Impl): 'fused' | 'tensor' {
  setFlag('WASM_SCAN', impl !== 'fused-js');
  return impl === 'tensor' ? 'tensor' : 'fused';
}

const CASES: [string, ScanCase][] = [
  ['reference defaults (Δ per channel, B/C input-dependent)', { batch: 2, dInner: 5, dState: 4, L: 9 }],
  [
    'all options: D, z, deltaBias, softplus',
    { batch: 2, dInner: 4, dState: 3, L: 11, D: true, z: true, bias: true, softplus: true },
  ],
  ['S4D-like fixed B and C', { batch: 3, dInner: 4, dState: 5, L: 8, bFixed: true, cFixed: true, D: true }],
  ['fixed B, variable C', { batch: 2, dInner: 3, dState: 4, L: 6, bFixed: true, z: true }],
  [
    'Δ along state (Mamba-Δ⊤, Eq. 15), identity B',
    { batch: 2, dInner: 3, dState: 5, L: 10, deltaAlong: 'state', bias: true, softplus: true, disc: 'identity' },
  ],
  [
    'Δ per channel and state, ZOH',
    { batch: 2, dInner: 3, dState: 4, L: 7, deltaAlong: 'full', bias: true, softplus: true, disc: 'zoh', D: true },
  ],
  ['ZOH with A near 0', { batch: 1, dInner: 4, dState: 3, L: 12, disc: 'zoh', aRange: [-1e-6, 1e-6] }],
  ['dInner = dState (ambiguous rank-3 delta defaults to channel)', { batch: 2, dInner: 4, dState: 4, L: 5, z: true }],
  ['long sequence', { batch: 1, dInner: 2, dState: 3, L: 300, D: true, softplus: true, bias: true }],
];

function reference(args: SelectiveScanArgs, x: ScanArrays) {
  return selectiveScanRef64(validateScanArgs(args), x);
}

describe('selectiveScan forward = float64 selective_scan_ref', () => {
  for (const impl of IMPLS) {
    for (const [name, c] of [
      ...CASES,
      ['heavy decay: Δ up to 50, A down to −200 (exp underflows)', HEAVY_SCAN] as [string, ScanCase],
    ]) {
      it(`${impl}: ${name}`, () => {
        const p = randomScan(c, 11);
        const r = selectiveScan({ ...p.args, impl: useImpl(impl), returnLastState: true });
        expectScanMatchesReference(r, p);
        tf.dispose([r.out, r.lastState!]);
        p.dispose();
      });
    }
  }

  it('heavy decay really underflows: exp(Δ·A) is exactly 0 for some steps', () => {
    expect(Math.exp(50 * -200)).toBe(0);
    expect(Math.fround(Math.exp(-110))).toBe(0);
  });

  it('selectiveScanRef (tensor signature) agrees with the float64 arrays', () => {
    const p = randomScan(CASES[1][1], 3);
    const r = selectiveScanRef({ ...p.args, returnLastState: true });
    const ref = reference(p.args, p.arrays64);
    expectClose(read(r.out), ref.out, 'out', 1e-6, 1e-6);
    expectClose(read(r.lastState!), ref.lastState, 'lastState', 1e-6, 1e-6);
    tf.dispose([r.out, r.lastState!]);
    p.dispose();
  });

  it('a hand-computed 1-channel, 1-state example', () => {
    // h1 = 0.5·1·2 = 1 ; h2 = e^{−0.5}·1 + 0.5·1·(−1) ; y = C·h
    const args = {
      u: tf.tensor3d([[[2, -1]]]),
      delta: tf.tensor3d([[[0.5, 0.5]]]),
      A: tf.tensor2d([[-1]]),
      B: tf.tensor3d([[[1, 1]]]),
      C: tf.tensor3d([[[3, 2]]]),
    };
    const out = selectiveScan(args).out;
    const h2 = Math.exp(-0.5) - 0.5;
    expectClose(read(out), [3, 2 * h2], 'out', 1e-6, 1e-6);
    tf.dispose([out, ...Object.values(args)]);
  });
});

function analyticGrads(args: SelectiveScanArgs, impl: Impl, W: tf.Tensor, V: tf.Tensor) {
  const keys = (['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const).filter((k) => args[k]);
  const kernel = useImpl(impl);
  const f = (...xs: tf.Tensor[]) => {
    const a: SelectiveScanArgs = { ...args, impl: kernel, returnLastState: true };
    keys.forEach((k, i) => ((a as unknown as Record<string, tf.Tensor>)[k] = xs[i]));
    const r = selectiveScan(a);
    return r.out.mul(W).sum().add(r.lastState!.mul(V).sum()) as tf.Scalar;
  };
  const gs = tf.grads(f)(keys.map((k) => args[k]!));
  const out = Object.fromEntries(keys.map((k, i) => [k, read(gs[i])]));
  tf.dispose(gs);
  return out;
}

describe('selectiveScan gradients = finite differences of the float64 reference', () => {
  const GRAD_CASES: [string, ScanCase][] = [
    ['defaults', { batch: 2, dInner: 3, dState: 4, L: 6 }],
    ['all options', { batch: 2, dInner: 3, dState: 2, L: 5, D: true, z: true, bias: true, softplus: true }],
    ['fixed B and C', { batch: 2, dInner: 2, dState: 3, L: 5, bFixed: true, cFixed: true, D: true }],
    [
      'Δ along state, identity B',
      { batch: 2, dInner: 3, dState: 3, L: 5, deltaAlong: 'state', bias: true, softplus: true, disc: 'identity' },
    ],
    [
      'Δ full, ZOH',
      { batch: 1, dInner: 2, dState: 3, L: 6, deltaAlong: 'full', bias: true, softplus: true, disc: 'zoh', z: true },
    ],
  ];
  for (const impl of IMPLS) {
    for (const [name, c] of GRAD_CASES) {
      it(`${impl}: ${name}`, () => {
        const p = randomScan(c, 5);
        const s = validateScanArgs(p.args);
        const W = p.rng.fill(s.batch * s.dInner * s.L, (r) => r.normal());
        const V = p.rng.fill(s.batch * s.dInner * s.dState, (r) => r.normal());
        const Wt = tf.tensor3d(W, [s.batch, s.dInner, s.L]);
        const Vt = tf.tensor3d(V, [s.batch, s.dInner, s.dState]);
        const fd = finiteDiffGrads(p.args, p.arrays64, Float64Array.from(W), Float64Array.from(V));
        const an = analyticGrads(p.args, impl, Wt, Vt);
        for (const k of Object.keys(an)) expectClose(an[k], fd[k as keyof ScanArrays]!, `∂L/∂${k}`, 2e-4, 2e-3);
        tf.dispose([Wt, Vt]);
        p.dispose();
      });
    }
  }

  it('fused and tensor gradients agree on a larger problem, and stay finite under heavy decay', () => {
    for (const c of [CASES[1][1], HEAVY_SCAN]) {
      const p = randomScan(c, 9);
      const s = validateScanArgs(p.args);
      const Wt = tf.randomNormal([s.batch, s.dInner, s.L], 0, 1, 'float32', 1);
      const Vt = tf.randomNormal([s.batch, s.dInner, s.dState], 0, 1, 'float32', 2);
      const b = analyticGrads(p.args, 'tensor', Wt, Vt);
      for (const impl of ['fused', 'fused-js'] as const) {
        const a = analyticGrads(p.args, impl, Wt, Vt);
        for (const k of Object.keys(a)) {
          expect(a[k].every(Number.isFinite), `${impl} ∂${k} finite`).toBe(true);
          expectClose(a[k], b[k], `∂L/∂${k} ${impl} vs tensor`, 1e-4, 1e-3);
        }
      }
      tf.dispose([Wt, Vt]);
      p.dispose();
    }
  });
});

describe('selectiveScan errors and hygiene', () => {
  const base = () => randomScan({ batch: 2, dInner: 3, dState: 4, L: 5 }, 1);

  it('names the argument, the expected and the actual shape', () => {
    const p = base();
    const bad = tf.zeros([2, 4, 5]);
    try {
      selectiveScan({ ...p.args, delta: bad });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ShapeError);
      expect((e as ShapeError).argument).toBe('delta');
      expect((e as Error).message).toContain('[2,3,5]');
      expect((e as Error).message).toContain('[2,4,5]');
    }
    expect(() => selectiveScan({ ...p.args, A: tf.zeros([3]) })).toThrow(/A: expected rank 2, got rank 1/);
    expect(() => selectiveScan({ ...p.args, B: tf.zeros([2, 5, 5]) })).toThrow(ShapeError);
    expect(() => selectiveScan({ ...p.args, deltaBias: tf.zeros([4]) })).toThrow(/deltaBias/);
    tf.dispose(bad);
    p.dispose();
  });

  it('rejects wrong dtypes, non-tensors and bad options', () => {
    const p = base();
    const i32 = tf.zeros([2, 3, 5], 'int32');
    expect(() => selectiveScan({ ...p.args, u: i32 })).toThrow(DTypeError);
    expect(() => selectiveScan({ ...p.args, u: [[1]] as unknown as tf.Tensor })).toThrow(/u: expected a tf.Tensor/);
    expect(() => selectiveScan({ ...p.args, impl: 'gpu' as 'fused' })).toThrow(ConfigError);
    expect(() => selectiveScan({ ...p.args, bDiscretization: 'rk4' as 'zoh' })).toThrow(/bDiscretization/);
    tf.dispose(i32);
    p.dispose();
  });

  it('rejects non-finite inputs, naming tensor and index', () => {
    const p = base();
    const d = p.args.delta.bufferSync();
    d.set(NaN, 1, 2, 3);
    const delta = d.toTensor();
    try {
      selectiveScan({ ...p.args, delta });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ValueError);
      expect((e as Error).message).toBe('delta: expected finite values, got NaN at index [1,2,3]');
    }
    tf.dispose(delta);
    p.dispose();
  });

  it('leaks no tensors in forward or backward, on either path', () => {
    const p = randomScan(CASES[1][1], 2);
    const before = tf.memory().numTensors;
    for (const variant of IMPLS) {
      const impl = useImpl(variant);
      for (let i = 0; i < 3; i++) {
        const r = selectiveScan({ ...p.args, impl, returnLastState: true });
        tf.dispose([r.out, r.lastState!]);
        const g = tf.grads(
          (u: tf.Tensor, A: tf.Tensor) => selectiveScan({ ...p.args, u, A, impl }).out.sum() as tf.Scalar,
        )([p.args.u, p.args.A]);
        tf.dispose(g);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });
});
