/**
 * The ops and their kernel registry: which kernel runs on wasm and cpu, that forcing the generic kernel through
 * the policy gives the same numbers, every host op against its float64 reference twin and its generic kernel,
 * sparse plans cached per weight value (and re-planned after Variable.assign), no tensor leaks.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MambaModel,
  Rng,
  ShapeError,
  causalConv1d,
  causalConv1dRef,
  gatherRows,
  gatherRowsRef,
  getKernel,
  linear,
  linearRef,
  listKernels,
  mamba2Inner,
  mamba2InnerRef,
  ready,
  registerKernel,
  resetFlags,
  resolveKernel,
  s4dInner,
  s4dInnerRef,
  s6Inner,
  s6InnerRef,
  selectiveScan,
  selectiveScanRef,
  setFlag,
  ssdMinimal,
  ssdMinimalRef,
  tf,
  type Activation,
  type Mamba2InnerArgs,
  type S4DInnerArgs,
  type S6InnerArgs,
} from '../src/index.js';
import { weightPlan } from '../src/ops/kernels/cpu/sparseLinear.js';
import { scanKernel } from '../src/ops/registry.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => {
  resetFlags();
});

const OPS = [
  'selectiveScan',
  'linear',
  'causalConv1d',
  'gatherRows',
  's6Inner',
  's4dInner',
  'mambaInner',
  'mamba2Inner',
];

const rnd = (rng: Rng, shape: number[], scale = 1, zeros = 0) =>
  tf.tensor(
    rng.fill(
      shape.reduce((a, b) => a * b, 1),
      (r) => (r.uniform() < zeros ? 0 : scale * r.normal()),
    ),
    shape,
    'float32',
  );

/** Run `f` once with the default (host) kernels and once with HOST_KERNELS off (generic), returning both outputs' data. */
function hostAndGeneric(f: () => tf.Tensor): { host: Float32Array; generic: Float32Array } {
  const host = read(tf.tidy(f));
  setFlag('HOST_KERNELS', false);
  const generic = read(tf.tidy(f));
  resetFlags();
  return { host, generic };
}

describe('kernel registry', () => {
  it('lists a host kernel for cpu, wasm and tensorflow and a generic one for every op', () => {
    const listed = Object.fromEntries(listKernels().map((k) => [k.op, k.keys]));
    for (const op of OPS) expect(listed[op]).toEqual(expect.arrayContaining(['cpu', 'wasm', 'tensorflow', 'generic']));
    expect(listed.ssdMinimal).toEqual(['generic']);
  });

  it('dispatches to the wasm kernel on wasm, to the generic kernel on GPU backends and when policy forbids host kernels', () => {
    for (const op of OPS) {
      expect(resolveKernel(op).key).toBe('wasm');
      expect(resolveKernel(op, 'cpu').key).toBe('cpu');
      expect(resolveKernel(op, 'webgl').key).toBe('generic');
      // the WGSL kernels (ops/kernels/webgpu)
      const wgsl = ['selectiveScan', 's6Inner', 'mambaInner', 'mamba2Inner', 'linear'].includes(op);
      expect(resolveKernel(op, 'webgpu').key).toBe(wgsl ? 'webgpu' : 'generic');
    }
    setFlag('HOST_KERNELS', false);
    for (const op of OPS) expect(resolveKernel(op).key).toBe('generic');
  });

  it('inference-only kernels step aside while a gradient tape records; differentiable ones stay', () => {
    const keys: Record<string, string> = {};
    setFlag('HOST_GRAD_KERNELS', false);
    tf.grad((x: tf.Tensor) => {
      for (const op of OPS) keys[op] = resolveKernel(op).key;
      return x.sum();
    })(tf.scalar(1)).dispose();
    expect(keys).toEqual({
      selectiveScan: 'wasm',
      gatherRows: 'wasm',
      linear: 'generic',
      causalConv1d: 'generic', // differentiable, but under a tape only with HOST_GRAD_KERNELS
      s6Inner: 'generic',
      s4dInner: 'generic',
      mambaInner: 'generic',
      mamba2Inner: 'generic',
    });
    setFlag('HOST_GRAD_KERNELS', true);
    tf.grad((x: tf.Tensor) => {
      for (const op of OPS) keys[op] = resolveKernel(op).key;
      return x.sum();
    })(tf.scalar(1)).dispose();
    for (const op of ['causalConv1d', 's6Inner', 's4dInner', 'mambaInner']) expect(keys[op], op).toBe('wasm');
    expect([keys.linear, keys.mamba2Inner]).toEqual(['generic', 'generic']);
    resetFlags(); // the default on wasm: as with HOST_GRAD_KERNELS on
    tf.grad((x: tf.Tensor) => {
      for (const op of OPS) keys[op] = resolveKernel(op).key;
      return x.sum();
    })(tf.scalar(1)).dispose();
    for (const op of ['causalConv1d', 's6Inner', 's4dInner', 'mambaInner'])
      expect(keys[op], `${op} by default`).toBe('wasm');
  });

  it('runs the registered kernel: a wrapper registered for wasm sees the call, the generic one does not', () => {
    const host = getKernel<(...a: unknown[]) => tf.Tensor>('linear', 'wasm')!;
    const generic = getKernel<(...a: unknown[]) => tf.Tensor>('linear', 'generic')!;
    const calls: string[] = [];
    registerKernel('linear', 'wasm', (...a: unknown[]) => (calls.push('wasm'), host(...a)), { inferenceOnly: true });
    registerKernel('linear', 'generic', (...a: unknown[]) => (calls.push('generic'), generic(...a)));
    try {
      tf.tidy(() => linear(tf.ones([2, 3]), tf.ones([4, 3])));
      setFlag('HOST_KERNELS', false);
      tf.tidy(() => linear(tf.ones([2, 3]), tf.ones([4, 3])));
      expect(calls).toEqual(['wasm', 'generic']);
    } finally {
      registerKernel('linear', 'wasm', host, { inferenceOnly: true });
      registerKernel('linear', 'generic', generic);
    }
  });

  it("scan-based ops follow `impl`, then SCAN_IMPL: 'fused' the host kernel, 'tensor' the generic one", () => {
    for (const op of ['selectiveScan', 's6Inner', 's4dInner', 'mambaInner', 'mamba2Inner']) {
      expect(scanKernel(op, undefined).key).toBe('wasm');
      expect(scanKernel(op, 'tensor').key).toBe('generic');
      setFlag('SCAN_IMPL', 'tensor');
      expect(scanKernel(op, 'auto').key).toBe('generic');
      expect(scanKernel(op, 'fused').key).toBe('wasm'); // an explicit impl wins over the flag
      setFlag('HOST_KERNELS', false);
      expect(scanKernel(op, 'fused').key).toBe('wasm'); // and over HOST_KERNELS: it is asked for by name
      resetFlags();
    }
    expect(() => scanKernel('s6Inner', 'gpu' as never)).toThrow(
      /impl: expected 'auto' \| 'fused' \| 'tensor', got "gpu"/,
    );
  });

  it('on the cpu backend the cpu kernels run and agree with wasm', async () => {
    const rng = new Rng(3);
    const x = rnd(rng, [2, 5, 6]);
    const W = rnd(rng, [6, 3]);
    const wasm = read(tf.tidy(() => causalConv1d(x, W, undefined, 'silu')));
    await tf.setBackend('cpu');
    try {
      expect(resolveKernel('causalConv1d').key).toBe('cpu');
      const xc = tf.tensor(x.dataSync(), x.shape);
      const Wc = tf.tensor(W.dataSync(), W.shape);
      expectClose(read(tf.tidy(() => causalConv1d(xc, Wc, undefined, 'silu'))), wasm, 'cpu vs wasm conv', 1e-6, 1e-6);
      tf.dispose([xc, Wc]);
    } finally {
      await tf.setBackend('wasm');
    }
    tf.dispose([x, W]);
  });

  it('the scan honours SCAN_IMPL: forcing the generic (tensor) kernel gives the same numbers', () => {
    const rng = new Rng(4);
    const args = {
      u: rnd(rng, [2, 3, 9]),
      delta: rnd(rng, [2, 3, 9], 0.5),
      A: rnd(rng, [3, 4]).abs().neg(),
      B: rnd(rng, [2, 4, 9]),
      C: rnd(rng, [2, 4, 9]),
      deltaSoftplus: true,
    };
    const fused = read(tf.tidy(() => selectiveScan(args).out));
    setFlag('SCAN_IMPL', 'tensor');
    const tensor = read(tf.tidy(() => selectiveScan(args).out));
    const ref = read(tf.tidy(() => selectiveScanRef(args).out));
    expectClose(fused, ref, 'fused vs reference');
    expectClose(tensor, ref, 'tensor vs reference');
    tf.dispose(Object.values(args).filter((v) => v instanceof tf.Tensor));
  });
});

describe('host ops against their float64 references and generic kernels', () => {
  it('linear: dense, scatter-sparse and column-sparse W', () => {
    const rng = new Rng(5);
    for (const [label, wZeros] of [
      ['dense', 0],
      ['columns', 0.55],
      ['scatter', 0.97],
    ] as const) {
      const x = rnd(rng, [3, 7, 40], 1, 0.5);
      const W = rnd(rng, [24, 40], 1, wZeros);
      const b = rnd(rng, [24]);
      const ref = read(tf.tidy(() => linearRef(x, W, b)));
      const { host, generic } = hostAndGeneric(() => linear(x, W, b));
      expectClose(host, ref, `linear ${label}: host vs reference`);
      expectClose(generic, ref, `linear ${label}: generic vs reference`);
      tf.dispose([x, W, b]);
    }
  });

  it('causalConv1d: dense and mostly-zero input, every activation', () => {
    const rng = new Rng(6);
    for (const act of ['silu', 'relu', 'identity', 'sigmoid'] as Activation[]) {
      for (const zeros of [0, 0.9]) {
        const x = rnd(rng, [2, 11, 5], 1, zeros);
        const W = rnd(rng, [5, 4]);
        const bias = rnd(rng, [5]);
        const ref = read(tf.tidy(() => causalConv1dRef(x, W, bias, act)));
        const { host, generic } = hostAndGeneric(() => causalConv1d(x, W, bias, act));
        expectClose(host, ref, `conv ${act} zeros ${zeros}: host vs reference`, 1e-6, 1e-6);
        expectClose(generic, ref, `conv ${act} zeros ${zeros}: generic vs reference`);
        tf.dispose([x, W, bias]);
      }
    }
  });

  it('gatherRows', () => {
    const rng = new Rng(7);
    const x = rnd(rng, [9, 4]);
    const idx = tf.tensor2d(
      [
        [0, 8, 3],
        [3, 3, 1],
      ],
      undefined,
      'int32',
    );
    const ref = read(tf.tidy(() => gatherRowsRef(x, idx)));
    const { host, generic } = hostAndGeneric(() => gatherRows(x, idx));
    expect(Array.from(host)).toEqual(Array.from(ref));
    expect(Array.from(generic)).toEqual(Array.from(ref));
    expect(() => gatherRowsRef(x, tf.tensor1d([9], 'int32'))).toThrow(/idx: expected row ids in \[0, 9\)/);
    tf.dispose([x, idx]);
  });

  const s6Args = (
    rng: Rng,
    o: { sparse?: boolean; dtZero?: boolean; D?: boolean; disc?: S6InnerArgs['bDiscretization'] },
  ): S6InnerArgs => {
    const [b, L, d, N, R] = [2, 13, 6, 4, 2];
    return {
      x: rnd(rng, [b, L, d], 1, o.sparse ? 0.6 : 0),
      xProjWeight: rnd(rng, [R + 2 * N, d], 0.5, o.sparse ? 0.95 : 0),
      dtProjWeight: o.dtZero ? tf.zeros([d, R]) : rnd(rng, [d, R], 0.5),
      dtProjBias: rnd(rng, [d], 0.5),
      ALog: o.sparse ? tf.fill([d, N], -Infinity) : rnd(rng, [d, N], 0.5), // A_log = −∞: Λ = 0, the decay-free paths
      D: o.D ? rnd(rng, [d]) : undefined,
      bDiscretization: o.disc,
    };
  };

  it('s6Inner: dense, Λ = 0 with sparse weights, dt_proj ≡ 0, every discretisation', () => {
    const rng = new Rng(8);
    const cases = [
      {},
      { D: true, disc: 'zoh' },
      { sparse: true, dtZero: true, D: true },
      { sparse: true, disc: 'identity' },
      { dtZero: true, disc: 'euler' },
    ] as const;
    for (const c of cases) {
      const a = s6Args(rng, c);
      const ref = read(tf.tidy(() => s6InnerRef(a)));
      const { host, generic } = hostAndGeneric(() => s6Inner(a));
      expectClose(host, ref, `s6Inner ${JSON.stringify(c)}: host vs reference`);
      expectClose(generic, ref, `s6Inner ${JSON.stringify(c)}: generic vs reference`);
      expectClose(
        read(tf.tidy(() => s6Inner({ ...a, impl: 'tensor' }))),
        ref,
        `s6Inner ${JSON.stringify(c)}: impl 'tensor'`,
      );
      tf.dispose(Object.values(a).filter((v) => v instanceof tf.Tensor));
    }
  });

  it('mamba2Inner: dense, Δ constant (dt ≡ 0), with and without D', () => {
    const rng = new Rng(9);
    for (const c of [
      { dtZero: false, D: true },
      { dtZero: true, D: false },
      { dtZero: true, D: true, disc: 'zoh' as const },
    ]) {
      const [b, L, d, N] = [2, 10, 5, 3];
      const a: Mamba2InnerArgs = {
        x: rnd(rng, [b, L, d]),
        B: rnd(rng, [b, L, N]),
        C: rnd(rng, [b, L, N]),
        dt: c.dtZero ? tf.zeros([b, L, 1]) : rnd(rng, [b, L, 1], 0.5),
        dtBias: rnd(rng, [1], 0.5),
        ALog: tf.tensor1d([Math.log(2)]),
        D: c.D ? rnd(rng, [1]) : undefined,
        bDiscretization: c.disc,
      };
      const ref = read(tf.tidy(() => mamba2InnerRef(a)));
      const { host, generic } = hostAndGeneric(() => mamba2Inner(a));
      expectClose(host, ref, `mamba2Inner ${JSON.stringify(c)}: host vs reference`);
      expectClose(generic, ref, `mamba2Inner ${JSON.stringify(c)}: generic vs reference`);
      tf.dispose(Object.values(a).filter((v) => v instanceof tf.Tensor));
    }
  });

  it('ssdMinimal against ssdMinimalRef (same signature)', () => {
    const rng = new Rng(10);
    const args = {
      X: rnd(rng, [1, 7, 2, 3]),
      A: rnd(rng, [1, 7, 2], 0.3).abs().neg(),
      B: rnd(rng, [1, 7, 2, 4]),
      C: rnd(rng, [1, 7, 2, 4]),
      blockLen: 3,
    };
    const r = ssdMinimal(args);
    const ref = ssdMinimalRef(args);
    expectClose(read(r.Y), read(ref.Y), 'Y');
    expectClose(read(r.finalState), read(ref.finalState), 'finalState');
    tf.dispose([r.Y, r.finalState, ref.Y, ref.finalState, args.X, args.A, args.B, args.C]);
  });

  it('validates once with typed errors naming the argument', () => {
    const x = tf.ones([1, 4, 3]);
    expect(() => linear(x, tf.ones([2, 5]))).toThrow(ShapeError);
    expect(() => linear(x, tf.ones([2, 5]))).toThrow(/^x: expected \[\.\.\., in = 5\]/);
    expect(() => causalConv1d(x, tf.ones([2, 4]))).toThrow(/W: expected \[channels = 3, k ≥ 1\]/);
    expect(() =>
      s6Inner({
        x,
        xProjWeight: tf.ones([6, 3]),
        dtProjWeight: tf.ones([3, 1]),
        dtProjBias: tf.ones([3]),
        ALog: tf.ones([3, 2]),
      }),
    ).toThrow(/xProjWeight/);
    tf.dispose(x);
  });
});

describe('sparse plans are cached per weight value', () => {
  it('scans a weight once per value and re-plans after Variable.assign', () => {
    const rng = new Rng(11);
    const x = rnd(rng, [4, 16]);
    const sparse = new Float32Array(8 * 16);
    sparse[3] = 2; // one nonzero: the scatter plan
    const W = tf.variable(tf.tensor2d(sparse, [8, 16]));
    const p1 = weightPlan(W);
    expect(p1.plan?.kind).toBe('scatter');
    expect(weightPlan(W)).toBe(p1); // cached: no second scan
    const y1 = read(tf.tidy(() => linear(x, W)));
    expectClose(y1, read(tf.tidy(() => linearRef(x, W))), 'sparse W');
    // a dense value assigned to the same variable: a stale plan would keep the single nonzero and give wrong numbers
    tf.tidy(() => W.assign(rnd(rng, [8, 16]) as tf.Tensor2D));
    expect(weightPlan(W)).not.toBe(p1);
    expect(weightPlan(W).plan).toBeUndefined();
    expectClose(read(tf.tidy(() => linear(x, W))), read(tf.tidy(() => linearRef(x, W))), 'after assign');
    tf.tidy(() => W.assign(tf.zeros([8, 16])));
    expect(weightPlan(W).allZero).toBe(true);
    tf.dispose([x, W]);
  });

  it('a construction-style model re-plans when setParam changes dt_proj', () => {
    const m = new MambaModel({ vocabSize: 6, dModel: 5, dState: 2, mixer: 's6', conv: false, gate: false, seed: 3 });
    const tokens = [[1, 2, 3, 4, 5, 0, 1]];
    m.setParam('mixer.dt_proj.weight', new Float32Array(5)); // Δ constant: the host kernel's shortcut
    const before = read(tf.tidy(() => m.forward(tokens)));
    const refBefore = read(
      tf.tidy(() => {
        setFlag('HOST_KERNELS', false);
        const y = m.forward(tokens);
        resetFlags();
        return y;
      }),
    );
    expectClose(before, refBefore, 'dt_proj ≡ 0');
    m.setParam('mixer.dt_proj.weight', Float32Array.from([1, -1, 0.5, 2, -0.7]));
    const after = read(tf.tidy(() => m.forward(tokens)));
    const refAfter = read(
      tf.tidy(() => {
        setFlag('HOST_KERNELS', false);
        const y = m.forward(tokens);
        resetFlags();
        return y;
      }),
    );
    expectClose(after, refAfter, 'dt_proj reassigned');
    expect(after.some((v, i) => Math.abs(v - before[i]) > 1e-4)).toBe(true);
    m.dispose();
  });
});

describe('no tensor leaks', () => {
  it('every op and reference frees what it does not return', () => {
    const rng = new Rng(12);
    const x = rnd(rng, [2, 6, 4]);
    const W = rnd(rng, [3, 4], 1, 0.9);
    const Wc = rnd(rng, [4, 3]);
    const idx = tf.tensor1d([0, 2], 'int32');
    const a: Mamba2InnerArgs = {
      x,
      B: rnd(rng, [2, 6, 2]),
      C: rnd(rng, [2, 6, 2]),
      dt: rnd(rng, [2, 6, 1]),
      dtBias: tf.tensor1d([0.1]),
      ALog: tf.tensor1d([0.3]),
    };
    const s6: S6InnerArgs = {
      x,
      xProjWeight: rnd(rng, [5, 4]),
      dtProjWeight: rnd(rng, [4, 1]),
      dtProjBias: rnd(rng, [4]),
      ALog: rnd(rng, [4, 2]),
    };
    const s4: S4DInnerArgs = { x, ALog: rnd(rng, [4, 2]), B: rnd(rng, [2]), C: rnd(rng, [4, 2]), D: rnd(rng, [4]) };
    const before = tf.memory().numTensors;
    for (const host of [true, false]) {
      setFlag('HOST_KERNELS', host);
      const outs = [
        linear(x, W),
        linearRef(x, W),
        causalConv1d(x, Wc, undefined, 'silu'),
        causalConv1dRef(x, Wc),
        gatherRows(W, idx),
        gatherRowsRef(W, idx),
        mamba2Inner(a),
        mamba2InnerRef(a),
        s6Inner(s6),
        s6InnerRef(s6),
        s4dInner(s4),
        s4dInnerRef(s4),
      ];
      expect(tf.memory().numTensors).toBe(before + outs.length);
      tf.dispose(outs);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([
      x,
      W,
      Wc,
      idx,
      ...Object.values(a).slice(1),
      ...Object.values(s6).slice(1),
      ...Object.values(s4).slice(1),
    ] as tf.Tensor[]);
  });
});
