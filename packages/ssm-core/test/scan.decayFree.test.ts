/**
 * The inference fast path of the fused scan for Λ = 0 rows (A[d, :] ≡ 0, as in Prop. 1 and Thm. 2–4):
 * it skips zero entries of B_t and C_t instead of computing e^{Δ̄A} = 1 for every state. Tied to the dense
 * loop of the same kernel (the path the backward pass uses, exact equality) and to the float64
 * selective_scan_ref transcription (tolerance), over every layout and sparsity pattern.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MambaModel,
  Rng,
  ready,
  selectiveScan,
  selectiveScanRef64,
  tf,
  validateScanArgs,
  type MambaConfig,
  type SelectiveScanArgs,
} from '../src/index.js';
import type { ScanArrays } from '../src/ops/core/types.js';
import { blockRef64 } from './blockReference.js';
import { fusedForward } from '../src/ops/kernels/cpu/scanForward.js';
import { expectClose, randomScan, read, type ScanCase } from './helpers.js';

beforeAll(async () => {
  await ready();
});

type Rows = 'all' | 'some';

const CASES: [string, ScanCase, Rows][] = [
  [
    'S6 layout (B_t, C_t shared by channels), all rows Λ = 0',
    { batch: 3, dInner: 6, dState: 8, L: 40, D: true, bias: true, softplus: true },
    'all',
  ],
  [
    'S6 layout, half the rows Λ = 0, gate z',
    { batch: 2, dInner: 5, dState: 6, L: 33, z: true, D: true, softplus: true },
    'some',
  ],
  ['fixed B and C (S4D)', { batch: 2, dInner: 4, dState: 5, L: 20, bFixed: true, cFixed: true, D: true }, 'some'],
  ['fixed B, input-dependent C', { batch: 2, dInner: 3, dState: 4, L: 17, bFixed: true, z: true }, 'all'],
  [
    'Δ along state, identity B (Mamba-Δ⊤)',
    { batch: 2, dInner: 3, dState: 5, L: 25, deltaAlong: 'state', bias: true, softplus: true, disc: 'identity' },
    'all',
  ],
  [
    'Δ per channel and state, ZOH',
    { batch: 2, dInner: 4, dState: 4, L: 19, deltaAlong: 'full', bias: true, softplus: true, disc: 'zoh', D: true },
    'some',
  ],
];

/** Zero A on the chosen rows and ~70% of B and C (the one-hot-like patterns of the constructions). */
function decayFreeCase(c: ScanCase, rows: Rows, seed: number) {
  const p = randomScan(c, seed);
  const x = p.arrays64;
  for (let d = 0; d < c.dInner; d++) if (rows === 'all' || d % 2 === 0) x.A.fill(0, d * c.dState, (d + 1) * c.dState);
  for (const v of [x.B, x.C]) for (let i = 0; i < v.length; i++) if (p.rng.uniform() < 0.7) v[i] = 0;
  const s = validateScanArgs(p.args);
  const shapes = Object.fromEntries(
    Object.entries(p.args)
      .filter(([, v]) => v instanceof tf.Tensor)
      .map(([k, v]) => [k, (v as tf.Tensor).shape]),
  );
  p.dispose();
  const x32 = Object.fromEntries(
    Object.entries(x)
      .filter(([, v]) => v)
      .map(([k, v]) => [k, Float32Array.from(v as Float64Array)]),
  ) as unknown as ScanArrays<Float32Array>;
  const args = {
    ...p.args,
    ...Object.fromEntries(Object.entries(x32).map(([k, v]) => [k, tf.tensor(v, shapes[k])])),
  } as SelectiveScanArgs;
  return {
    s,
    x64: x,
    x32,
    args,
    dispose: () => tf.dispose(Object.values(args).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]),
  };
}

const plusZero = (a: Float32Array) => Array.from(a, (v) => v + 0); // −0 → 0 for toEqual

describe('Λ = 0 fast path of the fused scan', () => {
  CASES.forEach(([name, c, rows], i) => {
    it(`${name}: equals the dense loop exactly and the float64 reference`, () => {
      const k = decayFreeCase(c, rows, 100 + i);
      const fast = fusedForward(k.s, k.x32, false); // inference: takes the sparse path on the Λ = 0 rows
      const dense = fusedForward(k.s, k.x32, true); // the loop the backward pass uses
      expect(plusZero(fast.out)).toEqual(plusZero(dense.out));
      expect(plusZero(fast.lastState)).toEqual(plusZero(dense.lastState));
      const ref = selectiveScanRef64(k.s, k.x64);
      expectClose(fast.out, ref.out, 'out');
      expectClose(fast.lastState, ref.lastState, 'lastState');
      const r = selectiveScan({ ...k.args, impl: 'fused' }); // the public entry, no gradient recorded
      expectClose(read(r.out), ref.out, 'selectiveScan out');
      r.out.dispose();
      k.dispose();
    });
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    const k = decayFreeCase(CASES[0][1], 'all', 3);
    selectiveScan({ ...k.args, impl: 'fused' }).out.dispose();
    k.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('S6 block on the host path (time-major kernel) with Λ = 0 rows', () => {
  /** Λ = 0 on all or half of the rows; 'random' zeroes 60% of x_proj, 'construction' shapes it like Thm. 2. */
  function hostCase(rows: 'all' | 'some', weights: 'random' | 'construction') {
    const construction = weights === 'construction';
    const cfg = construction
      ? {
          vocabSize: 12,
          dModel: 16,
          dState: 8,
          dtRank: 1,
          conv: { kernelSize: 2, activation: 'relu' as const },
          gate: false as const,
          skip: false,
          seed: 4,
        }
      : {
          vocabSize: 9,
          dModel: 6,
          dState: 5,
          conv: { kernelSize: 2, activation: 'relu' as const },
          gate: false as const,
          seed: 2,
        };
    const { dModel: d, dState: N } = cfg;
    const fused = new MambaModel({ ...cfg, impl: 'fused' });
    const r = new Rng(9);
    const A = fused.getParam('mixer.A_log').dataSync().slice();
    for (let i = 0; i < A.length; i++) if (rows === 'all' || Math.floor(i / N) % 2 === 0) A[i] = -Infinity; // A = −e^{−∞} = 0
    fused.setParam('mixer.A_log', A);
    const xp = fused.getParam('mixer.x_proj.weight').dataSync().slice(); // [R + 2N, d]
    if (construction) {
      // B_t = C_t = one channel each (≤ 1/16 of x_proj nonzero: the scatter path), dt_proj ≡ 0 (constant Δ),
      // an output layer reading only the second half of the channels (the column path)
      xp.fill(0);
      for (let n = 0; n < N; n++) {
        xp[(1 + n) * d + n] = 1 + r.uniform();
        xp[(1 + N + n) * d + n] = 1 + r.uniform();
      }
      fused.setParam('mixer.dt_proj.weight', new Float32Array(d));
      const head = fused.getParam('lm_head.weight').dataSync().slice();
      for (let i = 0; i < head.length; i++) if (i % d < d / 2) head[i] = 0;
      fused.setParam('lm_head.weight', head);
    } else for (let i = 0; i < xp.length; i++) if (r.uniform() < 0.6) xp[i] = 0;
    fused.setParam('mixer.x_proj.weight', xp);
    const tokens = Array.from({ length: 3 }, () => Array.from({ length: 30 }, () => r.int(cfg.vocabSize)));
    return { fused, cfg, tokens };
  }

  /** Logits of `fused` (host path) and of a tensor-path twin with its weights = the float64 block loop; disposes both. */
  function expectHostPathMatches(fused: MambaModel, cfg: MambaConfig, tokens: number[][]) {
    const tensor = new MambaModel({ ...cfg, impl: 'tensor' });
    for (const n of fused.paramNames()) tensor.setParam(n, fused.getParam(n).dataSync());
    const [a, b] = [fused.forward(tokens), tensor.forward(tokens)];
    const ref = blockRef64(fused, tokens);
    expectClose(read(a), ref, 'host path', 2e-5, 2e-4);
    expectClose(read(b), ref, 'tensor path', 2e-5, 2e-4);
    tf.dispose([a, b]);
    fused.dispose();
    tensor.dispose();
  }

  for (const decay of [0, 0.7]) {
    it(`Mamba-2 (Thm. 3 shape: dt_proj ≡ 0, one-channel B and C rows), a = ${-decay}: logits = float64 block loop, and = the tensor-op path`, () => {
      const cfg = {
        vocabSize: 10,
        dModel: 8,
        dState: 4,
        mixer: 'mamba2' as const,
        conv: { kernelSize: 2, activation: 'relu' as const },
        gate: false as const,
        seed: 6,
      };
      const fused = new MambaModel({ ...cfg, impl: 'fused' });
      const r = new Rng(12);
      fused.setParam('mixer.A_log', Float32Array.of(decay === 0 ? -Infinity : Math.log(decay))); // a = −exp(A_log)
      fused.setParam('mixer.dt_proj.weight', new Float32Array(cfg.dModel));
      for (const w of ['B', 'C']) {
        const W = new Float32Array(cfg.dState * cfg.dModel); // [N, d]: B_n, C_n read channel n
        for (let n = 0; n < cfg.dState; n++) W[n * cfg.dModel + n] = 1 + r.uniform();
        fused.setParam(`mixer.in_proj_${w}.weight`, W);
      }
      const tokens = Array.from({ length: 3 }, () => Array.from({ length: 25 }, () => r.int(cfg.vocabSize)));
      expectHostPathMatches(fused, cfg, tokens);
    });
  }

  for (const weights of ['random', 'construction'] as const) {
    for (const rows of ['all', 'some'] as const) {
      it(`${rows} rows Λ = 0, ${weights} sparse x_proj: logits = float64 block loop, and = the tensor-op path`, () => {
        const { fused, cfg, tokens } = hostCase(rows, weights);
        expectHostPathMatches(fused, cfg, tokens);
      });
    }
  }
});
