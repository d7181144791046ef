/**
 * The WebAssembly SIMD kernel of the host selective scan (src/ops/kernels/cpu/wasmScan.ts, assembly/scan.ts): every
 * layout and option, forward against the float64 transcription of selective_scan_ref and gradients against float64
 * finite differences at the tolerances the JS kernel meets (scan.test.ts), gradients against the JS kernel on larger
 * problems, finiteness under extreme Δ and A, and which path ran (wasm, or the JS kernel where it does not apply).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ready,
  resetFlags,
  selectiveScan,
  selectiveScanRef64,
  setFlag,
  tf,
  validateScanArgs,
  type SelectiveScanArgs,
} from '../src/index.js';
import type { ScanArrays, ScanDims } from '../src/ops/core/types.js';
import {
  hostScanPath,
  hostScanRuns,
  wasmScanStatus,
  wasmVectorMath,
  WASM_SCAN_MAX_BYTES,
} from '../src/ops/kernels/cpu/wasmScan.js';
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

const ALL = { D: true, z: true, bias: true, softplus: true } as const;

/** Layouts and options; n and L include values that are not multiples of the 4 SIMD lanes. */
const CASES: [string, ScanCase][] = [
  ['Δ per channel, defaults', { batch: 2, dInner: 5, dState: 4, L: 9 }],
  ['Δ per channel, all options, euler', { batch: 2, dInner: 4, dState: 16, L: 13, ...ALL }],
  ['Δ per channel, all options, zoh', { batch: 2, dInner: 3, dState: 8, L: 12, ...ALL, disc: 'zoh' }],
  ['Δ per channel, all options, identity', { batch: 2, dInner: 3, dState: 5, L: 7, ...ALL, disc: 'identity' }],
  ['Δ per channel, n = 1, L = 1', { batch: 3, dInner: 2, dState: 1, L: 1, ...ALL }],
  ['Δ per channel, n = 7, D only', { batch: 1, dInner: 6, dState: 7, L: 10, D: true }],
  ['fixed B and C (S4D)', { batch: 3, dInner: 4, dState: 5, L: 8, bFixed: true, cFixed: true, D: true }],
  ['fixed B, input-dependent C', { batch: 2, dInner: 3, dState: 4, L: 6, bFixed: true, z: true }],
  ['input-dependent B, fixed C, zoh', { batch: 2, dInner: 3, dState: 6, L: 6, cFixed: true, disc: 'zoh', bias: true }],
  [
    'Δ per state (Mamba-Δ⊤), identity B',
    { batch: 2, dInner: 3, dState: 5, L: 10, deltaAlong: 'state', bias: true, softplus: true, disc: 'identity' },
  ],
  ['Δ per state, euler, all options', { batch: 2, dInner: 3, dState: 4, L: 9, deltaAlong: 'state', ...ALL }],
  [
    'Δ per channel and state, zoh',
    { batch: 2, dInner: 3, dState: 4, L: 7, deltaAlong: 'full', bias: true, softplus: true, disc: 'zoh', D: true },
  ],
  ['Δ per channel and state, euler, gate', { batch: 1, dInner: 2, dState: 3, L: 6, deltaAlong: 'full', ...ALL }],
  ['zoh with A near 0', { batch: 1, dInner: 4, dState: 3, L: 12, disc: 'zoh', aRange: [-1e-6, 1e-6] }],
  ['long sequence', { batch: 1, dInner: 2, dState: 3, L: 300, D: true, softplus: true, bias: true }],
  ['heavy decay: Δ up to 50, A down to −200', HEAVY_SCAN],
];

const snapshot = () => JSON.parse(JSON.stringify(hostScanRuns)) as typeof hostScanRuns;

function reference(args: SelectiveScanArgs, x: ScanArrays) {
  return selectiveScanRef64(validateScanArgs(args), x);
}

describe('the WebAssembly SIMD scan kernel', () => {
  it('loads in this runtime (Node 20 validates WebAssembly SIMD)', () => {
    expect(wasmScanStatus()).toEqual({ available: true, reason: '' });
  });

  for (const [name, c] of CASES) {
    it(`forward = float64 reference: ${name}`, () => {
      const p = randomScan(c, 21);
      const before = snapshot();
      const r = selectiveScan({ ...p.args, impl: 'fused', returnLastState: true });
      expect(hostScanRuns.wasm.forward).toBe(before.wasm.forward + 1);
      expect(hostScanRuns.js.forward).toBe(before.js.forward);
      expectScanMatchesReference(r, p);
      tf.dispose([r.out, r.lastState!]);
      p.dispose();
    });
  }
});

describe('precision over long sequences', () => {
  const LONG: [string, ScanCase][] = [
    [
      'L = 4096, slow decay, all options',
      { batch: 1, dInner: 3, dState: 8, L: 4096, ...ALL, deltaRange: [-6, -2], aRange: [-0.05, -1e-4] },
    ],
    [
      'L = 4096, slow decay, zoh, Δ per state',
      { batch: 1, dInner: 2, dState: 5, L: 4096, deltaAlong: 'state', ...ALL, disc: 'zoh', aRange: [-0.1, -1e-4] },
    ],
  ];
  for (const [name, c] of LONG) {
    it(`${name}: the float32 state stays within 2e-6 of the output's scale; the JS kernel's float64 state within 1e-5`, () => {
      // With decay ≈ 1 the state sums thousands of rounded terms (an error of about √L·2⁻²⁴·|h|); where Σ h·C
      // cancels, that is more than 1e-5 of a small output. mamba_ssm's CUDA kernel keeps a float32 state too.
      const p = randomScan(c, 21);
      const ref = reference(p.args, p.arrays64);
      const scale = ref.out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const wasm = selectiveScan({ ...p.args, impl: 'fused' }).out;
      expectClose(read(wasm), ref.out, 'out (wasm)', 2e-6 * scale, 1e-4);
      setFlag('WASM_SCAN', false);
      const js = selectiveScan({ ...p.args, impl: 'fused' }).out;
      expectClose(read(js), ref.out, 'out (JS)');
      tf.dispose([wasm, js]);
      p.dispose();
    });
  }
});

/** Gradients of Σ out·W + Σ last·V through selectiveScan's host kernel. */
function hostGrads(args: SelectiveScanArgs, W: tf.Tensor, V: tf.Tensor) {
  const keys = (['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const).filter((k) => args[k]);
  const f = (...xs: tf.Tensor[]) => {
    const a: SelectiveScanArgs = { ...args, impl: 'fused', returnLastState: true };
    keys.forEach((k, i) => ((a as unknown as Record<string, tf.Tensor>)[k] = xs[i]));
    const r = selectiveScan(a);
    return r.out.mul(W).sum().add(r.lastState!.mul(V).sum()) as tf.Scalar;
  };
  const gs = tf.grads(f)(keys.map((k) => args[k]!));
  const out = Object.fromEntries(keys.map((k, i) => [k, read(gs[i])]));
  tf.dispose(gs);
  return out;
}

function weights(p: ReturnType<typeof randomScan>) {
  const s = validateScanArgs(p.args);
  const W = p.rng.fill(s.batch * s.dInner * s.L, (r) => r.normal());
  const V = p.rng.fill(s.batch * s.dInner * s.dState, (r) => r.normal());
  return { W, V, Wt: tf.tensor3d(W, [s.batch, s.dInner, s.L]), Vt: tf.tensor3d(V, [s.batch, s.dInner, s.dState]) };
}

describe('WebAssembly SIMD scan gradients', () => {
  const GRAD_CASES: [string, ScanCase][] = [
    ['Δ per channel, defaults', { batch: 2, dInner: 3, dState: 4, L: 6 }],
    ['Δ per channel, all options, euler', { batch: 2, dInner: 3, dState: 5, L: 7, ...ALL }],
    ['Δ per channel, all options, zoh', { batch: 2, dInner: 2, dState: 4, L: 6, ...ALL, disc: 'zoh' }],
    ['Δ per channel, all options, identity', { batch: 1, dInner: 3, dState: 3, L: 5, ...ALL, disc: 'identity' }],
    ['fixed B and C', { batch: 2, dInner: 2, dState: 3, L: 5, bFixed: true, cFixed: true, D: true }],
    ['fixed B, input-dependent C, gate', { batch: 2, dInner: 2, dState: 4, L: 5, bFixed: true, z: true }],
    [
      'Δ per state, identity B',
      { batch: 2, dInner: 3, dState: 3, L: 5, deltaAlong: 'state', bias: true, softplus: true, disc: 'identity' },
    ],
    [
      'Δ per channel and state, zoh',
      { batch: 1, dInner: 2, dState: 3, L: 6, deltaAlong: 'full', bias: true, softplus: true, disc: 'zoh', z: true },
    ],
    ['zoh with A near 0', { batch: 1, dInner: 2, dState: 3, L: 6, disc: 'zoh', aRange: [-1e-6, 1e-6], D: true }],
  ];
  for (const [name, c] of GRAD_CASES) {
    it(`every gradient = finite differences of the float64 reference: ${name}`, () => {
      const p = randomScan(c, 5);
      const { W, V, Wt, Vt } = weights(p);
      const fd = finiteDiffGrads(p.args, p.arrays64, Float64Array.from(W), Float64Array.from(V));
      const before = snapshot();
      const an = hostGrads(p.args, Wt, Vt);
      expect(hostScanRuns.wasm.backward).toBe(before.wasm.backward + 1);
      expect(hostScanRuns.js.backward).toBe(before.js.backward);
      expect(Object.keys(an).sort()).toEqual(Object.keys(fd).sort());
      for (const k of Object.keys(an)) expectClose(an[k], fd[k as keyof ScanArrays]!, `∂L/∂${k}`, 2e-4, 2e-3);
      tf.dispose([Wt, Vt]);
      p.dispose();
    });
  }

  const LARGER: [string, ScanCase][] = [
    ['Δ per channel, all options, euler', { batch: 2, dInner: 8, dState: 16, L: 64, ...ALL }],
    ['Δ per channel, all options, zoh', { batch: 2, dInner: 6, dState: 12, L: 50, ...ALL, disc: 'zoh' }],
    ['Δ per state, identity', { batch: 2, dInner: 5, dState: 8, L: 33, deltaAlong: 'state', ...ALL, disc: 'identity' }],
    ['Δ per channel and state, euler', { batch: 2, dInner: 4, dState: 6, L: 30, deltaAlong: 'full', ...ALL }],
    ['fixed B and C, zoh', { batch: 2, dInner: 5, dState: 9, L: 40, bFixed: true, cFixed: true, D: true, disc: 'zoh' }],
    ['heavy decay', HEAVY_SCAN],
    ['L = 1024, all options', { batch: 2, dInner: 4, dState: 16, L: 1024, ...ALL }],
    [
      'L = 4096, slow decay',
      { batch: 1, dInner: 3, dState: 8, L: 4096, ...ALL, deltaRange: [-6, -2], aRange: [-0.05, -1e-4] },
    ],
  ];
  for (const [name, c] of LARGER) {
    it(`gradients = the JS kernel's on a larger problem: ${name}`, () => {
      const p = randomScan(c, 8);
      const { Wt, Vt } = weights(p);
      const wasm = hostGrads(p.args, Wt, Vt);
      setFlag('WASM_SCAN', false);
      const before = snapshot();
      const js = hostGrads(p.args, Wt, Vt);
      expect(hostScanRuns.js.backward).toBe(before.js.backward + 1);
      expect(hostScanRuns.wasm.backward).toBe(before.wasm.backward);
      for (const k of Object.keys(js)) {
        expect(wasm[k].every(Number.isFinite), `∂${k} finite`).toBe(true);
        expectClose(wasm[k], js[k], `∂L/∂${k} wasm vs JS`, 1e-4, 1e-3);
      }
      tf.dispose([Wt, Vt]);
      p.dispose();
    });
  }
});

describe('extreme Δ and A', () => {
  const EXTREME: [string, ScanCase][] = [
    [
      'Δ up to 1e4 through softplus, A down to −1e4',
      { batch: 2, dInner: 4, dState: 8, L: 24, ...ALL, deltaRange: [-60, 1e4], aRange: [-1e4, -1e-3] },
    ],
    ['Δ up to 1e4, zoh', { batch: 1, dInner: 3, dState: 5, L: 20, ...ALL, disc: 'zoh', deltaRange: [-60, 1e4] }],
    [
      'Δ up to 1e4, A ≡ 0 rows',
      { batch: 1, dInner: 3, dState: 4, L: 16, D: true, deltaRange: [0, 1e4], aRange: [0, 0] },
    ],
  ];
  for (const [name, c] of EXTREME) {
    it(`${name}: output and every gradient finite, output = the float64 reference`, () => {
      const p = randomScan(c, 13);
      const r = selectiveScan({ ...p.args, impl: 'fused', returnLastState: true });
      const ref = reference(p.args, p.arrays64);
      expectClose(read(r.out), ref.out, 'out');
      expectClose(read(r.lastState!), ref.lastState, 'lastState');
      tf.dispose([r.out, r.lastState!]);
      const { Wt, Vt } = weights(p);
      const before = snapshot();
      const g = hostGrads(p.args, Wt, Vt);
      expect(hostScanRuns.wasm.backward).toBe(before.wasm.backward + 1);
      for (const k of Object.keys(g)) expect(g[k].every(Number.isFinite), `∂${k} finite`).toBe(true);
      tf.dispose([Wt, Vt]);
      p.dispose();
    });
  }
});

describe('which host kernel runs', () => {
  it('the JS kernel with WASM_SCAN = false (env SSM_WASM_SCAN), with the same result', () => {
    const p = randomScan(CASES[1][1], 4);
    const a = selectiveScan({ ...p.args, impl: 'fused' }).out;
    setFlag('WASM_SCAN', false);
    const before = snapshot();
    const b = selectiveScan({ ...p.args, impl: 'fused' }).out;
    expect(hostScanRuns.js.forward).toBe(before.js.forward + 1);
    expect(hostScanRuns.wasm.forward).toBe(before.wasm.forward);
    expectClose(read(a), read(b), 'wasm vs JS out');
    tf.dispose([a, b]);
    p.dispose();
  });

  it('the JS kernel for a problem beyond the module memory, judged from its dims alone', () => {
    const s: ScanDims = {
      batch: 64,
      dInner: 1024,
      dState: 16,
      L: 16384,
      deltaAlong: 'channel',
      bFixed: false,
      cFixed: false,
      hasD: true,
      hasZ: true,
      hasBias: true,
      softplus: true,
      disc: 'euler',
    };
    expect(4 * s.batch * s.dInner * s.L).toBeGreaterThan(WASM_SCAN_MAX_BYTES);
    expect(hostScanPath(s, false)).toBe('js');
    expect(hostScanPath({ ...s, batch: 1, L: 64 }, true)).toBe('wasm-simd');
    expect(
      hostScanPath(
        { ...s, batch: 1, L: 64, timeMajor: { stride: 1, bOffset: 0, cOffset: 0, deltaConstant: false } },
        false,
      ),
    ).toBe('js');
  });
});

describe("the kernel's f32x4 vector math", () => {
  const grid = (lo: number, hi: number, n: number) =>
    Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
  const relErr = (a: number, g: number) => Math.abs(a - g) / Math.abs(g);

  it('e^x within 3e-7 relative of Math.exp on [−87.33, 88.3]; exactly 0 below −87.33, +∞ above 88.72', () => {
    const x = grid(-87.33, 88.3, 20001);
    const y = wasmVectorMath('exp', x);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, relErr(y[i], Math.exp(x[i])));
    expect(worst).toBeLessThan(3e-7);
    expect(Array.from(wasmVectorMath('exp', Float32Array.from([-87.4, -1e4, -Infinity, 88.8, 1e4])))).toEqual([
      0,
      0,
      0,
      Infinity,
      Infinity,
    ]);
  });

  it('ln x within 3e-7 relative (or 1e-7 absolute) of Math.log over 1e-30 … 1e30', () => {
    const x = Float32Array.from({ length: 20001 }, (_, i) => 10 ** (-30 + (60 * i) / 20000));
    const y = wasmVectorMath('log', x);
    for (let i = 0; i < x.length; i++) {
      const g = Math.log(x[i]);
      expect(Math.abs(y[i] - g), `ln ${x[i]}`).toBeLessThanOrEqual(1e-7 + 3e-7 * Math.abs(g));
    }
  });

  it("softplus and σ within 1e-6 relative of torch's softplus and the logistic function, tiny values included", () => {
    const x = grid(-85, 100, 20001);
    const sp = wasmVectorMath('softplus', x);
    const sg = wasmVectorMath('sigmoid', x);
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      expect(relErr(sp[i], v > 20 ? v : Math.log1p(Math.exp(v))), `softplus ${v}`).toBeLessThan(1e-6);
      expect(relErr(sg[i], 1 / (1 + Math.exp(-v))), `σ ${v}`).toBeLessThan(1e-6);
    }
  });
});
