/**
 * Chunked state-space duality (Mamba-2), the layout and algorithm of
 * `mamba_ssm/modules/ssd_minimal.py::ssd_minimal_discrete`, from tf ops (runs on any backend,
 * differentiable by autodiff), beside its sequential float64 reference.
 *
 * Shape glossary — b batch, l length, h heads, p head dim, n state size, c chunks, q = blockLen
 *   X [b, l, h, p]   A [b, l, h] (log-decay per step, i.e. Δ·a)   B, C [b, l, h, n]
 *   initialStates, finalState [b, h, p, n]           Y [b, l, h, p]
 * Recurrence: H_t = e^{A_t} H_{t−1} + X_t ⊗ B_t ,  Y_t = H_t C_t  (H_t ∈ R^{p×n} per head)
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, fmtShape, shapeError } from '../errors.js';
import { assertTensor, expectShape } from './core/validate.js';
import { registerKernel, resolveKernel } from './registry.js';

/** Arguments of {@link ssdMinimal} and {@link ssdMinimalRef} (b batch, l length, h heads, p head dim, n state size). */
export interface SsdArgs {
  /** Inputs X [b, l, h, p] (Δ·x in Mamba-2). */
  X: Tensor;
  /** Log-decay per step A [b, l, h] (Δ_t·a): H_t = e^{A_t} H_{t−1} + X_t ⊗ B_t. */
  A: Tensor;
  /** B [b, l, h, n]. */
  B: Tensor;
  /** C [b, l, h, n]: Y_t = H_t C_t. */
  C: Tensor;
  /** Chunk length q of the chunked algorithm (any positive integer; the result does not depend on it). */
  blockLen: number;
  /** Initial state H_0 [b, h, p, n] (or [b, 1, h, p, n]); zeros when absent. */
  initialStates?: Tensor;
}

/** The sizes {@link validateSsdArgs} reads off {@link SsdArgs}. */
export interface SsdDims {
  /** b */
  batch: number;
  /** l */
  length: number;
  /** h */
  heads: number;
  /** p */
  headDim: number;
  /** n */
  dState: number;
}

/**
 * Check {@link SsdArgs}' ranks and shapes against each other and return their sizes (a ShapeError or ConfigError
 * names the argument at fault); {@link ssdMinimalRef64} takes its result.
 */
export function validateSsdArgs(a: SsdArgs): SsdDims {
  assertTensor(a.X, 'X', [4]);
  const [batch, length, heads, headDim] = a.X.shape as number[];
  assertTensor(a.A, 'A', [3]);
  expectShape(a.A, 'A', [batch, length, heads], '[batch, length, heads]');
  assertTensor(a.B, 'B', [4]);
  const dState = (a.B.shape as number[])[3];
  expectShape(a.B, 'B', [batch, length, heads, dState], '[batch, length, heads, dState]');
  assertTensor(a.C, 'C', [4]);
  expectShape(a.C, 'C', [batch, length, heads, dState], '[batch, length, heads, dState]');
  if (!Number.isInteger(a.blockLen) || a.blockLen < 1)
    throw configError('blockLen', 'a positive integer', String(a.blockLen));
  if (a.initialStates) {
    assertTensor(a.initialStates, 'initialStates', [4, 5]);
    const s = a.initialStates.shape as number[];
    const ok = s.length === 4 ? true : s[1] === 1;
    if (!ok)
      throw shapeError(
        'initialStates',
        '[batch, heads, headDim, dState] or [batch, 1, heads, headDim, dState]',
        fmtShape(s),
      );
    const s4 = s.length === 5 ? [s[0], s[2], s[3], s[4]] : s;
    const want = [batch, heads, headDim, dState];
    if (s4.some((d, i) => d !== want[i]))
      throw shapeError('initialStates', `[batch, heads, headDim, dState] = ${fmtShape(want)}`, fmtShape(s));
  }
  return { batch, length, heads, headDim, dState };
}

/**
 * segsum(x)[…, i, j] = Σ_{k=j+1..i} x_k for i ≥ j, −∞ above the diagonal (the stable variant: sums of
 * segments, never differences of prefix sums, so an x_k = −∞ gives −∞ on exactly the segments holding it).
 */
function segsum(x: Tensor): Tensor {
  const T = x.shape[x.rank - 1];
  const lowerOrDiag = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
  const strictlyUpper = tf.linalg
    .bandPart(tf.ones([T, T]), 0, -1)
    .sub(tf.eye(T))
    .cast('bool');
  // Built transposed ([j, i] = x_i for i > j) so the cumsum runs over the last axis:
  // tfjs 4.22's Cumsum gradient is wrong for any other axis (it returns a transposed shape).
  // Masked with `where`, not a product: −∞ · 0 would be NaN.
  const xT = x.expandDims(-2).add(tf.zeros([T, T])); // [..., j, i] = x_i (an add: broadcastTo has no rank-5 gradient)
  const maskedT = tf.where(strictlyUpper, xT, tf.zerosLike(xT));
  const perm = [...Array(x.rank - 1).keys(), x.rank, x.rank - 1];
  const cs = tf.cumsum(maskedT, x.rank).transpose(perm); // [i, j] = Σ_{j<k≤i} x_k
  return cs.add(tf.where(lowerOrDiag.cast('bool'), tf.zerosLike(lowerOrDiag), tf.fill([T, T], -Infinity)));
}

/**
 * Mamba-2's SSD in chunks of `blockLen` (lengths need not be a multiple: the tail is padded with identity steps):
 * X [b, l, h, p], A [b, l, h], B, C [b, l, h, n], initialStates [b, h, p, n] → Y [b, l, h, p], finalState [b, h, p, n].
 * One generic kernel of tf ops (any backend, differentiable); reference twin {@link ssdMinimalRef}.
 */
export function ssdMinimal(args: SsdArgs): { Y: Tensor; finalState: Tensor } {
  const dims = validateSsdArgs(args);
  const { batch: b, length: l, heads: h, headDim: p, dState: n } = dims;
  if (b * l * h * p * n === 0) {
    // An empty axis: Y is all zeros (an empty sum when dState = 0), and after no step the state is the initial one.
    return tf.tidy(() => ({
      Y: tf.zeros([b, l, h, p]),
      finalState:
        l === 0 && args.initialStates ? args.initialStates.reshape([b, h, p, n]).clone() : tf.zeros([b, h, p, n]),
    }));
  }
  return resolveKernel<SsdKernel>('ssdMinimal').impl(dims, args);
}

type SsdKernel = (dims: SsdDims, args: SsdArgs) => { Y: Tensor; finalState: Tensor };

function ssdChunked(dims: SsdDims, args: SsdArgs): { Y: Tensor; finalState: Tensor } {
  const { batch: b, length: l, heads: h, headDim: p, dState: n } = dims;
  const q = args.blockLen;
  const c = Math.ceil(l / q);
  const pad = c * q - l;
  return tf.tidy(() => {
    const padT = (t: Tensor) =>
      pad ? tf.pad(t, t.shape.map((_, i) => (i === 1 ? [0, pad] : [0, 0])) as [number, number][]) : t;
    // rearrange "b (c l) ... -> b c l ...", then put heads before the chunk's time axis
    const X = padT(args.X).reshape([b, c, q, h, p]).transpose([0, 1, 3, 2, 4]); // [b,c,h,q,p]
    const B = padT(args.B).reshape([b, c, q, h, n]).transpose([0, 1, 3, 2, 4]); // [b,c,h,q,n]
    const C = padT(args.C).reshape([b, c, q, h, n]).transpose([0, 1, 3, 2, 4]); // [b,c,h,q,n]
    const A = padT(args.A).reshape([b, c, q, h]).transpose([0, 3, 1, 2]); // [b,h,c,q]
    const Acum = tf.cumsum(A, 3);
    // 1. intra-chunk (diagonal blocks): Y_diag = (C Bᵀ ⊙ exp(segsum A)) X
    const Lm = tf.exp(segsum(A)).transpose([0, 2, 1, 3, 4]); // [b,c,h,q,q]
    const Ydiag = tf.matMul(tf.matMul(C, B, false, true).mul(Lm), X); // [b,c,h,q,p]
    // 2. state at the end of each chunk
    // e^{Σ_{t<k≤q−1} A_k}: the last row of the segment sums (not Acum[q−1] − Acum[t], which is NaN for A = −∞)
    const decayStates = Lm.slice([0, 0, 0, q - 1, 0], [b, c, h, 1, q]).reshape([b, c, h, q]); // [b,c,h,q]
    const states = tf.matMul(X.mul(decayStates.expandDims(-1)), B, true, false); // [b,c,h,p,n]
    // 3. inter-chunk recurrence
    const init = args.initialStates ? args.initialStates.reshape([b, 1, h, p, n]) : tf.zeros([b, 1, h, p, n]);
    const allStates = tf
      .concat([init, states], 1)
      .transpose([0, 2, 1, 3, 4])
      .reshape([b, h, c + 1, p * n]);
    const chunkEnds = tf.pad(Acum.slice([0, 0, 0, q - 1], [b, h, c, 1]).reshape([b, h, c]), [
      [0, 0],
      [0, 0],
      [1, 0],
    ]);
    const newStates = tf.matMul(tf.exp(segsum(chunkEnds)), allStates).reshape([b, h, c + 1, p, n]);
    const prevStates = newStates.slice([0, 0, 0, 0, 0], [b, h, c, p, n]).transpose([0, 2, 1, 3, 4]); // [b,c,h,p,n]
    const finalState = newStates.slice([0, 0, c, 0, 0], [b, h, 1, p, n]).reshape([b, h, p, n]);
    // 4. state → output per chunk
    const decayOut = tf.exp(Acum).transpose([0, 2, 1, 3]).expandDims(-1); // [b,c,h,q,1]
    const Yoff = tf.matMul(C, prevStates, false, true).mul(decayOut); // [b,c,h,q,p]
    const Y = Ydiag.add(Yoff)
      .transpose([0, 1, 3, 2, 4])
      .reshape([b, c * q, h, p]);
    return { Y: pad ? Y.slice([0, 0, 0, 0], [b, l, h, p]) : Y, finalState };
  });
}

registerKernel<SsdKernel>('ssdMinimal', 'generic', ssdChunked);

/** Reference twin of {@link ssdMinimal}: same arguments and result, the sequential recurrence in float64. Not differentiable. */
export function ssdMinimalRef(args: SsdArgs): { Y: Tensor; finalState: Tensor } {
  const dims = validateSsdArgs(args);
  const { batch: b, length: l, heads: h, headDim: p, dState: n } = dims;
  const init = args.initialStates?.dataSync();
  const r = ssdMinimalRef64(dims, {
    X: args.X.dataSync(),
    A: args.A.dataSync(),
    B: args.B.dataSync(),
    C: args.C.dataSync(),
    initialStates: init,
  });
  return {
    Y: tf.tensor4d(Float32Array.from(r.Y), [b, l, h, p]),
    finalState: tf.tensor4d(Float32Array.from(r.finalState), [b, h, p, n]),
  };
}

/** Sequential float64 reference of the same recurrence (flat arrays in the layouts above). */
export function ssdMinimalRef64(
  dims: SsdDims,
  x: {
    X: ArrayLike<number>;
    A: ArrayLike<number>;
    B: ArrayLike<number>;
    C: ArrayLike<number>;
    initialStates?: ArrayLike<number>;
  },
): { Y: Float64Array; finalState: Float64Array } {
  const { batch, length: L, heads: H, headDim: P, dState: N } = dims;
  const Y = new Float64Array(batch * L * H * P);
  const S = new Float64Array(batch * H * P * N);
  if (x.initialStates) for (let i = 0; i < S.length; i++) S[i] = x.initialStates[i];
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < L; t++) {
      for (let h = 0; h < H; h++) {
        const decay = Math.exp(x.A[(b * L + t) * H + h]);
        const bn = ((b * L + t) * H + h) * N;
        for (let p = 0; p < P; p++) {
          const xv = x.X[((b * L + t) * H + h) * P + p];
          let y = 0;
          for (let n = 0; n < N; n++) {
            const si = ((b * H + h) * P + p) * N + n;
            S[si] = decay * S[si] + xv * x.B[bn + n]; // H_t = e^{A_t} H_{t−1} + X_t ⊗ B_t
            y += S[si] * x.C[bn + n]; // Y_t = H_t C_t
          }
          Y[((b * L + t) * H + h) * P + p] = y;
        }
      }
    }
  }
  return { Y, finalState: S };
}
