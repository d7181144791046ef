/**
 * `s4dInner` — the S4D mixer after its conv (Tab. 2: Δ^{S4D} = 1, fixed B and C, the LTI special case of S6) as
 * one op, and its float64 reference twin `s4dInnerRef`:
 *
 *   h_t = e^{A} ⊙ h_{t−1} + B̄ ⊙ (x̂_t ⊗ B) ,  A = −exp(A_log)          (Eq. 6 / 14f with Δ ≡ 1)
 *   y_t = h_t C + D ⊙ x̂_t                                             (14g)
 * with B̄ = 1 for 'euler' (Δ·B at Δ = 1) and 'identity', B̄ = (e^{A} − 1)/A for 'zoh'.
 *
 * Shapes (b batch, L length, d channels, N state size): x [b, L, d], ALog [d, N], B [N], C [d, N], D [d] →
 * y [b, L, d]. Kernels: generic = tf ops + selectiveScan (differentiable, any backend); host = one differentiable
 * op over typed arrays with an analytic backward (kernels/cpu/s4dInner.ts), under a gradient tape where the flag
 * HOST_GRAD_KERNELS allows.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { broadcastParam, toChannelsFirst, toTimeFirst } from './core/layout.js';
import type { BDiscretization, S4DInnerArgs } from './core/types.js';
import { assertTensor, expectShape } from './core/validate.js';
import { zohCoef } from './kernels/cpu/layout.js';
import { s4dInnerFused } from './kernels/cpu/s4dInner.js';
import { registerHostAndGeneric, scanKernel } from './registry.js';
import { selectiveScan } from './selectiveScan.js';

type S4DKernel = (a: S4DInnerArgs) => Tensor;

/** The generic composition (tf ops + selectiveScan): y [b, L, d], A [d, N], and the last state [b, d, N] on request. */
export function s4dParts(a: S4DInnerArgs, returnLastState: boolean): { y: Tensor; A: Tensor; lastState?: Tensor } {
  const [b, L, d] = a.x.shape as [number, number, number];
  const N = a.B.shape[0] as number;
  const A = tf.exp(a.ALog).neg();
  const r = selectiveScan({
    u: toChannelsFirst(a.x),
    delta: tf.ones([b, d, L]),
    A,
    B: broadcastParam(a.B.reshape([1, N]), [d, N]),
    C: a.C,
    D: a.D,
    bDiscretization: a.bDiscretization,
    impl: a.impl,
    returnLastState,
  });
  return { y: toTimeFirst(r.out), A, lastState: r.lastState };
}

registerHostAndGeneric<S4DKernel>('s4dInner', s4dInnerFused, (a) => s4dParts(a, false).y, { gradFlagged: true });

/** Validate once; returns the state size N. */
function checkS4D(a: S4DInnerArgs): number {
  assertTensor(a.x, 'x', [3]);
  const d = a.x.shape[2] as number;
  assertTensor(a.ALog, 'ALog', [2]);
  const N = a.ALog.shape[1] as number;
  expectShape(a.ALog, 'ALog', [d, N], '[d, N]');
  assertTensor(a.B, 'B', [1]);
  expectShape(a.B, 'B', [N], '[N]');
  assertTensor(a.C, 'C', [2]);
  expectShape(a.C, 'C', [d, N], '[d, N]');
  if (a.D !== undefined) {
    assertTensor(a.D, 'D', [1]);
    expectShape(a.D, 'D', [d], '[d]');
  }
  return N;
}

/** S4D mixer output y [b, L, d] from x̂ [b, L, d]; shapes in the file comment. */
export function s4dInner(args: S4DInnerArgs): Tensor {
  checkS4D(args);
  const kernel = scanKernel<S4DKernel>('s4dInner', args.impl).impl;
  return tf.tidy(() => kernel(args));
}

/** The S4D inner op's arrays (any float precision), shaped as {@link S4DInnerArgs}. */
export interface S4DInnerArrays {
  x: ArrayLike<number>;
  ALog: ArrayLike<number>;
  B: ArrayLike<number>;
  C: ArrayLike<number>;
  D?: ArrayLike<number>;
}

/** Reference twin of {@link s4dInner}: the recurrence line by line in float64. Not differentiable. */
export function s4dInnerRef(args: S4DInnerArgs): Tensor {
  const N = checkS4D(args);
  const [b, L, d] = args.x.shape as [number, number, number];
  const r = (t: Tensor) => Float64Array.from(t.dataSync());
  const arrays = { x: r(args.x), ALog: r(args.ALog), B: r(args.B), C: r(args.C), D: args.D && r(args.D) };
  const y = s4dInnerRef64({ b, L, d, N }, arrays, args.bDiscretization ?? 'euler');
  return tf.tensor3d(Float32Array.from(y), [b, L, d]);
}

/** {@link s4dInnerRef} on arrays: y [b, L, d] in float64 (the twin finite differences are taken of). */
export function s4dInnerRef64(
  dims: { b: number; L: number; d: number; N: number },
  arrays: S4DInnerArrays,
  disc: BDiscretization,
): Float64Array {
  const { b, L, d, N } = dims;
  const { x: u, B, C, D } = arrays;
  const h = new Float64Array(d * N);
  const y = new Float64Array(b * L * d);
  for (let i = 0; i < b; i++) {
    h.fill(0);
    for (let t = 0; t < L; t++) {
      const o = (i * L + t) * d;
      for (let c = 0; c < d; c++) {
        let acc = 0;
        for (let n = 0; n < N; n++) {
          const k = c * N + n;
          const a = -Math.exp(arrays.ALog[k]);
          const coef = disc === 'zoh' ? zohCoef(1, a) : 1; // Δ = 1: euler's Δ·B is B
          h[k] = Math.exp(a) * h[k] + coef * B[n] * u[o + c];
          acc += h[k] * C[k];
        }
        y[o + c] = acc + (D ? D[c] * u[o + c] : 0);
      }
    }
  }
  return y;
}
