/**
 * The differentiable host kernels of `s6Inner`, `s4dInner`, `causalConv1d` and `mambaInner` (one tfjs op each, analytic
 * backward): under a
 * gradient tape they run on wasm and cpu, and their value and every gradient agree with the generic op-by-op
 * composition (HOST_KERNELS off) to float32 tolerance and with central finite differences of the float64 twins
 * (s6InnerRef64, s4dInnerRef64, causalConv1dRef64, mambaInnerRef64) — every discretisation, with and without D, with the WebAssembly and the JS scan;
 * extreme Δ and A stay finite; nothing leaks.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  causalConv1d,
  mambaInner,
  mambaInnerRef,
  MambaModel,
  ready,
  resetFlags,
  resolveKernel,
  Rng,
  s4dInner,
  s4dInnerRef,
  s6Inner,
  s6InnerRef,
  setFlag,
  tf,
  type Activation,
  type BDiscretization,
  type MambaInnerArgs,
  type S4DInnerArgs,
  type S6InnerArgs,
} from '../src/index.js';
import type { ScanDims } from '../src/ops/core/types.js';
import {
  hostScanRuns,
  threadedScanRuns,
  type TimeMajorScan,
  wasmScanBackward,
  wasmScanBackwardTimeMajor,
  wasmScanForward,
  wasmScanForwardTimeMajor,
} from '../src/ops/kernels/cpu/wasmScan.js';
import { ConfigError } from '../src/errors.js';
import { causalConv1dRef64 } from '../src/ops/causalConv1d.js';
import { mambaInnerRef64 } from '../src/ops/mambaInner.js';
import { s4dInnerRef64 } from '../src/ops/s4dInner.js';
import { s6InnerRef64 } from '../src/ops/s6Inner.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

beforeEach(() => {
  setFlag('HOST_GRAD_KERNELS', true); // the host kernels under the tape (the default on cpu and wasm)
});

afterEach(() => {
  resetFlags();
});

describe('HOST_GRAD_KERNELS', () => {
  it('defaults to the host kernels under a tape on cpu and wasm; false gives the composition', async () => {
    const ops = ['s6Inner', 's4dInner', 'mambaInner', 'causalConv1d'];
    const underTape = () => {
      const keys: string[] = [];
      tf.grad((x: tf.Tensor) => {
        for (const op of ops) keys.push(resolveKernel(op).key);
        return x.sum();
      })(tf.scalar(1)).dispose();
      return keys;
    };
    resetFlags();
    expect(underTape()).toEqual(ops.map(() => 'wasm'));
    expect(ops.map((op) => resolveKernel(op).key)).toEqual(ops.map(() => 'wasm')); // no tape: the host kernels
    setFlag('HOST_GRAD_KERNELS', false);
    expect(underTape()).toEqual(ops.map(() => 'generic'));
    expect(ops.map((op) => resolveKernel(op).key)).toEqual(ops.map(() => 'wasm')); // no tape: still the host kernels
    await tf.setBackend('cpu');
    try {
      resetFlags();
      expect(underTape()).toEqual(ops.map(() => 'cpu'));
      setFlag('HOST_GRAD_KERNELS', false);
      expect(underTape()).toEqual(ops.map(() => 'generic'));
    } finally {
      await tf.setBackend('wasm');
    }
  });
});

const DISCS: BDiscretization[] = ['euler', 'zoh', 'identity'];

const randn = (rng: Rng, n: number, scale = 1, shift = 0) =>
  Float64Array.from({ length: n }, () => shift + scale * rng.normal());

interface Problem {
  names: string[];
  shapes: number[][];
  data: Float64Array[];
  /** Weights G of the loss Σ y ⊙ G. */
  G: Float64Array;
}

/** Value y and ∂(Σ y ⊙ G)/∂input for each input, by whichever kernel `op` resolves to now; also that kernel's key. */
function valueAndGrads(p: Problem, op: (xs: tf.Tensor[]) => tf.Tensor, name: string) {
  const xs = p.data.map((v, i) => tf.tensor(Float32Array.from(v), p.shapes[i]));
  const G = tf.tensor(Float32Array.from(p.G));
  let y = new Float32Array(0);
  let key = '';
  const before = tf.memory().numTensors;
  const { value, grads } = tf.valueAndGrads((...inputs: tf.Tensor[]) => {
    key = resolveKernel(name).key;
    const out = op(inputs);
    y = Float32Array.from(out.dataSync());
    return out.reshape([-1]).mul(G).sum();
  })(xs);
  const g = grads.map(read);
  tf.dispose([value, ...grads]);
  expect(tf.memory().numTensors, `${name}: tensors left by value and gradients`).toBe(before);
  tf.dispose([...xs, G]);
  return { y, g, key };
}

/** Central finite differences of Σ y64 ⊙ G in float64, for every element of every input. */
function finiteDiffs(p: Problem, y64: (data: Float64Array[]) => Float64Array): Float64Array[] {
  const loss = () => {
    const y = y64(p.data);
    let l = 0;
    for (let i = 0; i < y.length; i++) l += y[i] * p.G[i];
    return l;
  };
  return p.data.map((arr) =>
    Float64Array.from(arr, (v, i) => {
      const eps = 1e-6 * Math.max(1, Math.abs(v));
      arr[i] = v + eps;
      const lp = loss();
      arr[i] = v - eps;
      const lm = loss();
      arr[i] = v;
      return (lp - lm) / (2 * eps);
    }),
  );
}

/** Host vs generic (value and every gradient), and host vs float64 finite differences; returns the host's result. */
function checkAgainstGenericAndFD(
  p: Problem,
  op: (xs: tf.Tensor[]) => tf.Tensor,
  name: string,
  y64: (data: Float64Array[]) => Float64Array,
  label: string,
  fd = true,
) {
  const host = valueAndGrads(p, op, name);
  expect(host.key, `${label}: kernel under the tape`).toBe(tf.getBackend());
  setFlag('HOST_KERNELS', false);
  const generic = valueAndGrads(p, op, name);
  setFlag('HOST_KERNELS', true);
  expect(generic.key).toBe('generic');
  expectClose(host.y, generic.y, `${label}: y host vs generic`);
  expectClose(host.y, y64(p.data), `${label}: y host vs float64 twin`);
  p.names.forEach((n, i) => {
    expect(host.g[i].every(Number.isFinite), `${label}: ∂${n} finite`).toBe(true);
    expectClose(host.g[i], generic.g[i], `${label}: ∂${n} host vs generic`, 1e-4, 1e-4);
  });
  if (fd) {
    const fds = finiteDiffs(p, y64);
    p.names.forEach((n, i) => expectClose(host.g[i], fds[i], `${label}: ∂${n} host vs finite differences`, 1e-4, 1e-3));
  }
  return host;
}

const [b, L, d, N, R] = [2, 7, 5, 3, 2];

function s6Problem(rng: Rng, withD: boolean, o: { bias?: number; aLog?: number } = {}): Problem {
  const W = R + 2 * N;
  const names = ['x', 'xProjWeight', 'dtProjWeight', 'dtProjBias', 'ALog', ...(withD ? ['D'] : [])];
  const shapes = [[b, L, d], [W, d], [d, R], [d], [d, N], ...(withD ? [[d]] : [])];
  const data = [
    randn(rng, b * L * d),
    randn(rng, W * d, 0.5),
    randn(rng, d * R, 0.5),
    o.bias === undefined
      ? randn(rng, d, 0.5)
      : Float64Array.from({ length: d }, (_, c) => (c % 2 ? o.bias! : -o.bias!)),
    o.aLog === undefined ? randn(rng, d * N, 0.5) : new Float64Array(d * N).fill(o.aLog),
    ...(withD ? [randn(rng, d)] : []),
  ];
  return { names, shapes, data, G: randn(rng, b * L * d) };
}

const s6Op =
  (disc: BDiscretization) =>
  (xs: tf.Tensor[]): tf.Tensor =>
    s6Inner({
      x: xs[0],
      xProjWeight: xs[1],
      dtProjWeight: xs[2],
      dtProjBias: xs[3],
      ALog: xs[4],
      D: xs[5],
      bDiscretization: disc,
    });

const s6Y64 = (disc: BDiscretization) => (v: Float64Array[]) =>
  s6InnerRef64(
    { b, L, d, R, N },
    { x: v[0], xProjWeight: v[1], dtProjWeight: v[2], dtProjBias: v[3], ALog: v[4], D: v[5] },
    disc,
  );

function s4dProblem(rng: Rng, withD: boolean, aLog?: number): Problem {
  const names = ['x', 'ALog', 'B', 'C', ...(withD ? ['D'] : [])];
  const shapes = [[b, L, d], [d, N], [N], [d, N], ...(withD ? [[d]] : [])];
  const data = [
    randn(rng, b * L * d),
    aLog === undefined ? randn(rng, d * N, 0.5, -0.5) : new Float64Array(d * N).fill(aLog),
    randn(rng, N),
    randn(rng, d * N),
    ...(withD ? [randn(rng, d)] : []),
  ];
  return { names, shapes, data, G: randn(rng, b * L * d) };
}

const s4dOp =
  (disc: BDiscretization) =>
  (xs: tf.Tensor[]): tf.Tensor =>
    s4dInner({ x: xs[0], ALog: xs[1], B: xs[2], C: xs[3], D: xs[4], bDiscretization: disc });

const s4dY64 = (disc: BDiscretization) => (v: Float64Array[]) =>
  s4dInnerRef64({ b, L, d, N }, { x: v[0], ALog: v[1], B: v[2], C: v[3], D: v[4] }, disc);

describe('the WebAssembly scan on the model layout (the entry points of the s6Inner and s4dInner host ops)', () => {
  /** [b, L, X] → [b, X, L]. */
  const channelsFirst = (a: Float32Array, B: number, T: number, X: number) => {
    const out = new Float32Array(a.length);
    for (let i = 0; i < B; i++)
      for (let t = 0; t < T; t++) for (let c = 0; c < X; c++) out[(i * X + c) * T + t] = a[(i * T + t) * X + c];
    return out;
  };
  const f32 = (rng: Rng, n: number, scale = 1, shift = 0) => Float32Array.from(randn(rng, n, scale, shift));

  it('equals the reference-layout kernel bit for bit, forward and every gradient (x_dbl rows and fixed B, C; ±D)', () => {
    const [B, T, X, n, R0] = [3, 9, 6, 5, 2];
    const W = R0 + 2 * n;
    for (const fixed of [false, true]) {
      for (const withD of [true, false]) {
        const rng = new Rng(fixed ? 41 : 42);
        const s: ScanDims = {
          batch: B,
          dInner: X,
          dState: n,
          L: T,
          deltaAlong: 'channel',
          bFixed: fixed,
          cFixed: fixed,
          hasD: withD,
          hasZ: false,
          hasBias: !fixed,
          softplus: !fixed,
          disc: fixed ? 'zoh' : 'euler',
        };
        const u = f32(rng, B * T * X);
        const deltaRaw = fixed ? f32(rng, B * T * X, 0.2, 0.5) : f32(rng, B * T * X);
        const xdbl = f32(rng, B * T * W);
        const A = f32(rng, X * n, 0.5, -1);
        const D = withD ? f32(rng, X) : undefined;
        const bias = fixed ? undefined : f32(rng, X, 0.5);
        const Bf = fixed ? f32(rng, X * n) : undefined;
        const Cf = fixed ? f32(rng, X * n) : undefined;
        const cols = (off: number) => {
          const out = new Float32Array(B * n * T);
          for (let i = 0; i < B; i++)
            for (let k = 0; k < n; k++)
              for (let t = 0; t < T; t++) out[(i * n + k) * T + t] = xdbl[(i * T + t) * W + off + k];
          return out;
        };
        const tm: TimeMajorScan = fixed
          ? { u, deltaRaw, A, B: Bf, C: Cf, D }
          : { u, deltaRaw, A, xdbl, W, bOff: R0, cOff: R0 + n, D, deltaBias: bias };
        const ref = {
          u: channelsFirst(u, B, T, X),
          delta: channelsFirst(deltaRaw, B, T, X),
          A,
          B: fixed ? Bf! : cols(R0),
          C: fixed ? Cf! : cols(R0 + n),
          D,
          deltaBias: bias,
        };
        const gOut = f32(rng, B * T * X);
        const f = wasmScanForwardTimeMajor(s, tm);
        const want = wasmScanForward(s, ref); // writes over the inputs f set up: the backward sets them up again
        const label = `B, C ${fixed ? 'fixed' : 'from x_dbl'}, D=${withD}`;
        expect(channelsFirst(f.out, B, T, X), `${label}: out`).toEqual(want.out);
        const gxdbl = new Float32Array(B * T * W);
        const g = wasmScanBackwardTimeMajor(s, tm, f.kept, gOut, fixed ? undefined : gxdbl);
        const wantG = wasmScanBackward(s, ref, channelsFirst(gOut, B, T, X));
        const f2 = wasmScanForwardTimeMajor(s, tm);
        const g2 = wasmScanBackwardTimeMajor(s, tm, f2.kept, gOut, fixed ? undefined : new Float32Array(B * T * W));
        expect(g2, `${label}: the backward on the forward's set-up`).toEqual(g);
        expect(channelsFirst(g.u, B, T, X), `${label}: ∂u`).toEqual(wantG.u);
        expect(channelsFirst(g.delta, B, T, X), `${label}: ∂Δ_raw`).toEqual(wantG.delta);
        expect([g.A, g.D, g.deltaBias], `${label}: ∂A, ∂D, ∂bias`).toEqual([wantG.A, wantG.D, wantG.deltaBias]);
        if (fixed) expect([g.B, g.C], `${label}: ∂B, ∂C`).toEqual([wantG.B, wantG.C]);
        else {
          const gB = new Float32Array(B * n * T);
          const gC = new Float32Array(B * n * T);
          for (let i = 0; i < B; i++)
            for (let k = 0; k < n; k++)
              for (let t = 0; t < T; t++) {
                gB[(i * n + k) * T + t] = gxdbl[(i * T + t) * W + R0 + k];
                gC[(i * n + k) * T + t] = gxdbl[(i * T + t) * W + R0 + n + k];
              }
          expect([gB, gC], `${label}: ∂B_t, ∂C_t in x_dbl's columns`).toEqual([wantG.B, wantG.C]);
          for (let i = 0; i < B * T; i++)
            for (let r = 0; r < R0; r++) expect(gxdbl[i * W + r], 'columns 0 … R untouched').toBe(0);
        }
      }
    }
  });

  it('refuses dims it does not serve (Δ per state, z, B given against the dims) with a ConfigError', () => {
    const base: ScanDims = {
      batch: 1,
      dInner: 2,
      dState: 2,
      L: 3,
      deltaAlong: 'channel',
      bFixed: true,
      cFixed: true,
      hasD: false,
      hasZ: false,
      hasBias: false,
      softplus: false,
      disc: 'euler',
    };
    const x: TimeMajorScan = {
      u: new Float32Array(6),
      deltaRaw: new Float32Array(6),
      A: new Float32Array(4),
      B: new Float32Array(4),
      C: new Float32Array(4),
    };
    for (const s of [
      { ...base, deltaAlong: 'state' as const },
      { ...base, hasZ: true },
      { ...base, bFixed: false },
    ])
      expect(() => wasmScanForwardTimeMajor(s, x)).toThrow(ConfigError);
  });
});

describe('s6Inner: one differentiable host op', () => {
  it('value and every gradient match the generic composition and float64 finite differences (every discretisation, ±D)', () => {
    const rng = new Rng(21);
    for (const disc of DISCS) {
      for (const withD of [true, false]) {
        const before = { ...hostScanRuns.wasm };
        checkAgainstGenericAndFD(s6Problem(rng, withD), s6Op(disc), 's6Inner', s6Y64(disc), `s6 ${disc} D=${withD}`);
        expect(hostScanRuns.wasm.forward, 'the WebAssembly scan ran forward').toBeGreaterThan(before.forward);
        expect(hostScanRuns.wasm.backward, 'and backward').toBeGreaterThan(before.backward);
      }
    }
  });

  it('the JS scan (WASM_SCAN off) gives the same gradients', () => {
    setFlag('WASM_SCAN', false);
    const before = hostScanRuns.js.backward;
    checkAgainstGenericAndFD(s6Problem(new Rng(22), true), s6Op('zoh'), 's6Inner', s6Y64('zoh'), 's6 js zoh');
    expect(hostScanRuns.js.backward).toBeGreaterThan(before);
  });

  it('extreme Δ (softplus of ±30) and A = −e^6 stay finite and match the generic composition', () => {
    const rng = new Rng(23);
    for (const disc of DISCS) {
      const p = s6Problem(rng, true, { bias: 30, aLog: 6 });
      checkAgainstGenericAndFD(p, s6Op(disc), 's6Inner', s6Y64(disc), `s6 extreme ${disc}`, false);
    }
  });

  it('runs on the cpu backend too', async () => {
    await tf.setBackend('cpu');
    try {
      checkAgainstGenericAndFD(s6Problem(new Rng(24), true), s6Op('euler'), 's6Inner', s6Y64('euler'), 's6 cpu');
    } finally {
      await tf.setBackend('wasm');
    }
  });

  it('the backward needs no input tensor that a tidy around the forward disposed (x made inside the tidy)', () => {
    const p = s6Problem(new Rng(26), true);
    const vars = p.data.map((v, i) => tf.variable(tf.tensor(Float32Array.from(v), p.shapes[i])));
    const run = () => {
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() =>
            s6Op('euler')([vars[0].mul(2), ...vars.slice(1)])
              .square()
              .sum(),
          ),
        vars,
      );
      const out = vars.map((v) => read(grads[v.name]));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const host = run();
    setFlag('HOST_KERNELS', false);
    const generic = run();
    host.forEach((g, i) => expectClose(g, generic[i], `∂${p.names[i]} host vs generic`, 1e-4, 1e-4));
    tf.dispose(vars);
  });

  it("two ops under one tape (the second forward replaces the first one's inputs in the module) match the generic composition, threaded too", () => {
    const p1 = s6Problem(new Rng(27), true);
    const p2 = s6Problem(new Rng(28), false);
    const vars = [...p1.data, ...p2.data].map((v, i) =>
      tf.variable(tf.tensor(Float32Array.from(v), [...p1.shapes, ...p2.shapes][i])),
    );
    const n1 = p1.data.length;
    const G = [tf.tensor(Float32Array.from(p1.G), [b, L, d]), tf.tensor(Float32Array.from(p2.G), [b, L, d])];
    const run = () => {
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        const y1 = s6Op('zoh')(vars.slice(0, n1));
        const y2 = s6Op('euler')(vars.slice(n1));
        return y1.mul(G[0]).sum().add(y2.mul(G[1]).sum());
      }, vars);
      const out = vars.map((v) => read(grads[v.name]));
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors, 'tensors left by value and gradients').toBe(before);
      return out;
    };
    const runs = { ...hostScanRuns.wasm };
    const host = run();
    expect(hostScanRuns.wasm.backward - runs.backward, 'WebAssembly backward passes').toBe(2);
    setFlag('SCAN_THREADS', 2);
    const threadedRuns = { ...threadedScanRuns };
    const threaded = run();
    expect(threadedScanRuns.forward - threadedRuns.forward, 'threaded forward passes').toBe(2);
    expect(threadedScanRuns.backward - threadedRuns.backward, 'threaded backward passes').toBe(2);
    setFlag('SCAN_THREADS', 1);
    setFlag('HOST_KERNELS', false);
    const generic = run();
    const names = [...p1.names.map((n) => `${n}₁`), ...p2.names.map((n) => `${n}₂`)];
    host.forEach((g, i) => expectClose(g, generic[i], `∂${names[i]} host vs generic`, 1e-4, 1e-4));
    threaded.forEach((g, i) => expectClose(g, generic[i], `∂${names[i]} threaded host vs generic`, 1e-4, 1e-4));
    tf.dispose([...vars, ...G]);
  });

  it('without a tape: dense weights take the WebAssembly scan, sparse or decay-free ones the time-major pass', () => {
    const p = s6Problem(new Rng(25), true);
    const xs = p.data.map((v, i) => tf.tensor(Float32Array.from(v), p.shapes[i]));
    const dense: S6InnerArgs = {
      x: xs[0],
      xProjWeight: xs[1],
      dtProjWeight: xs[2],
      dtProjBias: xs[3],
      ALog: xs[4],
      D: xs[5],
    };
    const special = [tf.zeros([d, R]), tf.fill([d, N], -Infinity), tf.zeros([R + 2 * N, d])];
    const cases: [string, S6InnerArgs, boolean][] = [
      ['dense', dense, true],
      ['dt_proj ≡ 0', { ...dense, dtProjWeight: special[0] }, false],
      ['A_log = −∞', { ...dense, ALog: special[1] }, false],
      ['x_proj ≡ 0', { ...dense, xProjWeight: special[2] }, false],
    ];
    for (const [label, args, wasm] of cases) {
      const before = hostScanRuns.wasm.forward;
      expectClose(read(tf.tidy(() => s6Inner(args))), read(tf.tidy(() => s6InnerRef(args))), `s6 inference ${label}`);
      expect(hostScanRuns.wasm.forward - before, `${label}: WebAssembly scan calls`).toBe(wasm ? 1 : 0);
    }
    tf.dispose([...xs, ...special]);
  });
});

describe('s4dInner: one differentiable host op', () => {
  it('value and every gradient match the generic composition and float64 finite differences (every discretisation, ±D)', () => {
    const rng = new Rng(31);
    for (const disc of DISCS) {
      for (const withD of [true, false]) {
        const before = hostScanRuns.wasm.backward;
        checkAgainstGenericAndFD(
          s4dProblem(rng, withD),
          s4dOp(disc),
          's4dInner',
          s4dY64(disc),
          `s4d ${disc} D=${withD}`,
        );
        expect(hostScanRuns.wasm.backward).toBeGreaterThan(before);
      }
    }
  });

  it('the JS scan (WASM_SCAN off) gives the same gradients', () => {
    setFlag('WASM_SCAN', false);
    checkAgainstGenericAndFD(s4dProblem(new Rng(32), true), s4dOp('zoh'), 's4dInner', s4dY64('zoh'), 's4d js zoh');
  });

  it('extreme A (A = −e^6, e^A underflows in float32) stays finite and matches the generic composition', () => {
    const rng = new Rng(33);
    for (const disc of DISCS) {
      const p = s4dProblem(rng, true, 6);
      checkAgainstGenericAndFD(p, s4dOp(disc), 's4dInner', s4dY64(disc), `s4d extreme ${disc}`, false);
    }
  });

  it('A_log = −∞ in some rows (Λ = 0, as in the constructions) matches the generic composition; NaN is refused', () => {
    const rng = new Rng(35);
    for (const [label, problem, op, name, y64] of [
      ['s4d', s4dProblem(rng, true), s4dOp('euler'), 's4dInner', s4dY64('euler')],
      ['s6', s6Problem(rng, true), s6Op('zoh'), 's6Inner', s6Y64('zoh')],
    ] as const) {
      const ALog = problem.data[problem.names.indexOf('ALog')];
      for (let n = 0; n < 2 * N; n++) ALog[n] = -Infinity; // channels 0 and 1 decay-free
      checkAgainstGenericAndFD(problem, op, name, y64, `${label} A_log = −∞`, false);
      ALog[0] = NaN;
      const xs = problem.data.map((v, i) => tf.tensor(Float32Array.from(v), problem.shapes[i]));
      expect(() => tf.tidy(() => op(xs)), `${label}: NaN in A_log`).toThrow(
        /^A(Log)?: expected finite values, got NaN/,
      );
      tf.dispose(xs);
    }
  });

  it('inference, the twin, validation and leaks', () => {
    const p = s4dProblem(new Rng(34), false);
    const xs = p.data.map((v, i) => tf.tensor(Float32Array.from(v), p.shapes[i]));
    const args: S4DInnerArgs = { x: xs[0], ALog: xs[1], B: xs[2], C: xs[3] };
    const before = tf.memory().numTensors;
    const outs = [s4dInner(args), s4dInnerRef(args), s4dInner({ ...args, impl: 'tensor' })];
    expect(tf.memory().numTensors).toBe(before + 3);
    expectClose(read(outs[0]), read(outs[1]), 's4d host vs twin');
    expectClose(read(outs[2]), read(outs[1]), 's4d generic vs twin');
    tf.dispose(outs);
    const wrong = [tf.ones([N + 1]), tf.ones([d, N + 1])];
    expect(() => s4dInner({ ...args, B: wrong[0] })).toThrow(/^B: expected .*\[N\]/);
    expect(() => s4dInner({ ...args, C: wrong[1] })).toThrow(/^C: expected .*\[d, N\]/);
    expect(() => s4dInner({ ...args, B: xs[3] })).toThrow(/^B: expected rank 1/);
    tf.dispose([...xs, ...wrong]);
  });
});

describe('causalConv1d: one differentiable host op', () => {
  it('value and every gradient match the generic composition and float64 finite differences (every σ, ±bias)', () => {
    const rng = new Rng(41);
    const k = 4;
    for (const act of ['silu', 'relu', 'sigmoid', 'identity'] as Activation[]) {
      for (const withBias of [true, false]) {
        const p: Problem = {
          names: ['x', 'W', ...(withBias ? ['bias'] : [])],
          shapes: [[b, L, d], [d, k], ...(withBias ? [[d]] : [])],
          data: [randn(rng, b * L * d), randn(rng, d * k, 0.5), ...(withBias ? [randn(rng, d, 0.5)] : [])],
          G: randn(rng, b * L * d),
        };
        const op = (xs: tf.Tensor[]) => causalConv1d(xs[0], xs[1], xs[2], act);
        const y64 = (v: Float64Array[]) => causalConv1dRef64([b, L, d, k], v[0], v[1], v[2], act);
        checkAgainstGenericAndFD(p, op, 'causalConv1d', y64, `conv ${act} bias=${withBias}`);
      }
    }
  });

  it('a kernel longer than the sequence reads only the zero padding before t = 0', () => {
    const rng = new Rng(42);
    const k = L + 3;
    const p: Problem = {
      names: ['x', 'W', 'bias'],
      shapes: [[b, L, d], [d, k], [d]],
      data: [randn(rng, b * L * d), randn(rng, d * k, 0.5), randn(rng, d, 0.5)],
      G: randn(rng, b * L * d),
    };
    const op = (xs: tf.Tensor[]) => causalConv1d(xs[0], xs[1], xs[2], 'silu');
    const y64 = (v: Float64Array[]) => causalConv1dRef64([b, L, d, k], v[0], v[1], v[2], 'silu');
    checkAgainstGenericAndFD(p, op, 'causalConv1d', y64, 'conv k > L');
  });
});

describe('the mixers: the fused ops and the internals path agree', () => {
  it('S6 and S4D models: forward (fused op) = forwardWithInternals (generic composition) logits, y and last state', () => {
    for (const mixer of ['s6', 's4d'] as const) {
      const m = new MambaModel({ vocabSize: 12, dModel: 6, dState: 4, mixer, conv: false, gate: false });
      const tokens = [
        [1, 5, 7, 2, 11, 3],
        [4, 4, 0, 9, 8, 1],
      ];
      const before = hostScanRuns.wasm.forward;
      const fused = read(tf.tidy(() => m.forward(tokens)));
      expect(hostScanRuns.wasm.forward - before, `${mixer}: the fused op ran`).toBe(1);
      const r = m.forwardWithInternals(tokens);
      expectClose(fused, read(r.logits), `${mixer}: logits`);
      expect(r.mixer.lastState!.shape).toEqual([2, 6, 4]);
      tf.dispose(r as unknown as tf.TensorContainer);
      m.dispose();
    }
  });
});

describe('the Mamba block (S6 with conv and gate) runs as mambaInner', () => {
  it('forward = forwardWithInternals (generic composition); gradients of every weight equal the op-by-op path', () => {
    const m = new MambaModel({ vocabSize: 12, dModel: 6, dState: 4, seed: 3 }); // conv k = 4 silu, gate silu
    const tokens = [
      [1, 5, 7, 2, 11, 3, 0],
      [4, 4, 0, 9, 8, 1, 6],
    ];
    const fused = read(tf.tidy(() => m.forward(tokens)));
    const r = m.forwardWithInternals(tokens);
    expectClose(fused, read(r.logits), 'logits');
    tf.dispose(r as unknown as tf.TensorContainer);
    const names = Object.keys(m.params);
    const grads = () =>
      tf.tidy(() => {
        const w = tf.randomNormal([2, 7, 12], 0, 1, 'float32', 5); // a fixed linear functional of the logits
        const g = tf.variableGrads(() => m.forward(tokens).mul(w).sum() as tf.Scalar, Object.values(m.params));
        const byName = names.map((n) => read(g.grads[m.params[n].name]));
        tf.dispose([g.value, ...Object.values(g.grads)]);
        return byName;
      });
    const before = tf.memory().numTensors;
    const host = grads();
    setFlag('HOST_GRAD_KERNELS', false); // the generic kernels: causalConv1d, linear, selectiveScan, activations
    const generic = grads();
    expect(tf.memory().numTensors).toBe(before);
    names.forEach((n, i) => expectClose(host[i], generic[i], `∂${n}`, 1e-4, 1e-3));
    m.dispose();
  });
});

describe('mambaInner (conv + S6 + gate, as mamba_inner_fn): one differentiable host op', () => {
  const k = 4;
  const mambaProblem = (rng: Rng, o: { D: boolean; biases: boolean }): Problem => {
    const p = s6Problem(rng, o.D);
    const extra: [string, number[], Float64Array][] = [
      ['convWeight', [d, k], randn(rng, d * k, 0.5)],
      ...(o.biases ? [['convBias', [d], randn(rng, d, 0.5)] as [string, number[], Float64Array]] : []),
      ['gateWeight', [d, d], randn(rng, d * d, 0.5)],
      ...(o.biases ? [['gateBias', [d], randn(rng, d, 0.5)] as [string, number[], Float64Array]] : []),
    ];
    return {
      names: [...p.names, ...extra.map((e) => e[0])],
      shapes: [...p.shapes, ...extra.map((e) => e[1])],
      data: [...p.data, ...extra.map((e) => e[2])],
      G: p.G,
    };
  };
  const unpack = <T>(p: Problem, v: T[]) => Object.fromEntries(p.names.map((n, i) => [n, v[i]])) as Record<string, T>;
  const cases = [
    { disc: 'euler', conv: 'silu', gate: 'silu', D: true, biases: true }, // Fig. 2/3's block
    { disc: 'zoh', conv: 'identity', gate: 'sigmoid', D: false, biases: false },
    { disc: 'identity', conv: 'relu', gate: 'silu', D: true, biases: false },
  ] as const;

  it('value and every gradient match the generic composition and float64 finite differences', () => {
    const rng = new Rng(51);
    for (const c of cases) {
      const p = mambaProblem(rng, c);
      const op = (xs: tf.Tensor[]) => {
        const t = unpack(p, xs);
        return mambaInner({
          x: t.x,
          xProjWeight: t.xProjWeight,
          dtProjWeight: t.dtProjWeight,
          dtProjBias: t.dtProjBias,
          ALog: t.ALog,
          D: t.D,
          convWeight: t.convWeight,
          convBias: t.convBias,
          convActivation: c.conv,
          gateWeight: t.gateWeight,
          gateBias: t.gateBias,
          gateActivation: c.gate,
          bDiscretization: c.disc,
        });
      };
      const y64 = (v: Float64Array[]) => {
        const t = unpack(p, v);
        return mambaInnerRef64({ b, L, d, R, N, k }, { ...t, x: t.x } as never, {
          convActivation: c.conv,
          gateActivation: c.gate,
          bDiscretization: c.disc,
        });
      };
      const before = hostScanRuns.wasm.backward;
      checkAgainstGenericAndFD(p, op, 'mambaInner', y64, `mambaInner ${JSON.stringify(c)}`);
      expect(hostScanRuns.wasm.backward).toBeGreaterThan(before);
    }
  });

  it('inference, the twin, validation and leaks', () => {
    const p = mambaProblem(new Rng(52), { D: true, biases: true });
    const xs = p.data.map((v, i) => tf.tensor(Float32Array.from(v), p.shapes[i]));
    const t = unpack(p, xs);
    const args: MambaInnerArgs = {
      x: t.x,
      xProjWeight: t.xProjWeight,
      dtProjWeight: t.dtProjWeight,
      dtProjBias: t.dtProjBias,
      ALog: t.ALog,
      D: t.D,
      convWeight: t.convWeight,
      convBias: t.convBias,
      convActivation: 'silu',
      gateWeight: t.gateWeight,
      gateBias: t.gateBias,
      gateActivation: 'silu',
    };
    const before = tf.memory().numTensors;
    const outs = [mambaInner(args), mambaInnerRef(args), mambaInner({ ...args, impl: 'tensor' })];
    expect(tf.memory().numTensors).toBe(before + 3);
    expectClose(read(outs[0]), read(outs[1]), 'mambaInner host vs twin');
    expectClose(read(outs[2]), read(outs[1]), 'mambaInner generic vs twin');
    tf.dispose(outs);
    expect(() => mambaInner({ ...args, gateWeight: t.convWeight })).toThrow(/^gateWeight: expected .*\[d, d\]/);
    expect(() => mambaInner({ ...args, convWeight: t.gateWeight.reshape([-1, 1]) })).toThrow(/^convWeight: expected/);
    expect(() => mambaInner({ ...args, gateActivation: 'tanh' as never })).toThrow(/^gateActivation: expected/);
    tf.dispose(xs);
  });
});
