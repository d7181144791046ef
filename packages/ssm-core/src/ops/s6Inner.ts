/**
 * `s6Inner` — the S6 (Mamba) mixer after its conv, as one op (in the manner of mamba_ssm's `mamba_inner_fn` /
 * `mamba_inner_ref`), and its float64 reference twin `s6InnerRef`:
 *
 *   x_dbl = W_x x̂_t = [Δ_low | B_t | C_t] ,  Δ_t = softplus(W_dt Δ_low + b_dt)      (14c–14e)
 *   h_t = e^{Δ_t ⊗ A} ⊙ h_{t−1} + (Δ_t ⊙ x̂_t) ⊗ B_t ,  A = −exp(A_log)              (14f)
 *   y_t = h_t C_t + D ⊙ x̂_t                                                        (14g)
 *
 * Shapes (b batch, L length, d channels, N state size, R Δ rank): x [b, L, d], xProjWeight [R + 2N, d],
 * dtProjWeight [d, R], dtProjBias [d], ALog [d, N], D [d] → y [b, L, d].
 * Kernels: generic = linear + selectiveScan (differentiable, any backend); host = one differentiable op over typed
 * arrays with an analytic backward (kernels/cpu/s6InnerGrad.ts) for dense weights and, where the flag
 * HOST_GRAD_KERNELS allows, under a gradient tape; else one inference pass with B, C read in place and mostly-zero
 * weights skipped (kernels/cpu/s6Inner.ts); webgpu = the projections + the fused WGSL scan in the model's time-major
 * layout (kernels/webgpu/s6.ts: no layout transposes, forward or backward).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { softplus } from '../math.js';
import { isRecording } from '../policy.js';
import { toChannelsFirst, toTimeFirst } from './core/layout.js';
import type { BDiscretization, S6InnerArgs } from './core/types.js';
import { assertTensor, expectShape } from './core/validate.js';
import { s6InnerHost } from './kernels/cpu/s6Inner.js';
import { s6FusedServesInference, s6InnerFused } from './kernels/cpu/s6InnerGrad.js';
import { zohCoef } from './kernels/cpu/layout.js';
import { s6ScanWebgpu } from './kernels/webgpu/s6.js';
import { linear } from './linear.js';
import { registerHostAndGeneric, registerKernel, scanKernel } from './registry.js';
import { selectiveScan } from './selectiveScan.js';

type S6Kernel = (a: S6InnerArgs, R: number, N: number) => Tensor;

/** What the generic S6 computation produces besides y: Δ before softplus [b, L, d], B, C [b, L, N], A [d, N], lastState [b, d, N]. */
export interface S6Parts {
  y: Tensor;
  deltaRaw: Tensor;
  B: Tensor;
  C: Tensor;
  A: Tensor;
  lastState?: Tensor;
}

/** x_proj and dt_proj (14c–14e): x_dbl = [Δ_low | B | C] [b, L, R + 2N] and Δ before its bias [b, L, d]. */
function s6Projections(a: S6InnerArgs, R: number): { xdbl: Tensor; deltaRaw: Tensor } {
  const [b, L] = a.x.shape;
  const xdbl = linear(a.x, a.xProjWeight); // [b, L, R + 2N] = [Δ_low | B | C]
  const dtLow = xdbl.slice([0, 0, 0], [b, L, R]);
  return { xdbl, deltaRaw: linear(dtLow, a.dtProjWeight) }; // the bias is added inside the scan
}

/** The generic composition (tf ops + selectiveScan), with its intermediate tensors for the mixer's internals. */
export function s6Parts(a: S6InnerArgs, R: number, N: number, returnLastState: boolean): S6Parts {
  const [b, L] = a.x.shape;
  const { xdbl, deltaRaw } = s6Projections(a, R);
  const B = xdbl.slice([0, 0, R], [b, L, N]);
  const C = xdbl.slice([0, 0, R + N], [b, L, N]);
  const A = tf.exp(a.ALog).neg();
  const r = selectiveScan({
    u: toChannelsFirst(a.x),
    delta: toChannelsFirst(deltaRaw),
    A,
    B: toChannelsFirst(B),
    C: toChannelsFirst(C),
    D: a.D,
    deltaBias: a.dtProjBias,
    deltaSoftplus: true,
    bDiscretization: a.bDiscretization,
    impl: a.impl,
    returnLastState,
  });
  return { y: toTimeFirst(r.out), deltaRaw, B, C, A, lastState: r.lastState };
}

/**
 * The host kernel: the differentiable fused op under a gradient tape and for dense weights; the time-major
 * inference pass for the sparse and decay-free weights it exploits.
 */
const s6InnerHostKernel: S6Kernel = (a, R, N) =>
  isRecording() || s6FusedServesInference(a, N) ? s6InnerFused(a, R, N) : s6InnerHost(a, R, N);

registerHostAndGeneric<S6Kernel>('s6Inner', s6InnerHostKernel, (a, R, N) => s6Parts(a, R, N, false).y, {
  gradFlagged: true,
});

/**
 * The webgpu kernel: the projections, then the WGSL scan reading x̂, Δ and B, C (x_dbl's columns) in the model's
 * layout; with `z`, the output y ⊙ silu(z) (mambaInner's silu gate, fused into the scan).
 */
export function s6InnerWebgpu(a: S6InnerArgs, R: number, z?: Tensor): Tensor {
  const { xdbl, deltaRaw } = s6Projections(a, R);
  const { x, dtProjBias, ALog, D, bDiscretization } = a;
  return s6ScanWebgpu({ x, deltaRaw, xdbl, R, dtProjBias, ALog, D, z, bDiscretization });
}

registerKernel<S6Kernel>('s6Inner', 'webgpu', (a, R) => s6InnerWebgpu(a, R), { host: false });

/** Validate once; returns the Δ rank R and state size N. */
export function checkS6(a: S6InnerArgs): { R: number; N: number } {
  assertTensor(a.x, 'x', [3]);
  const d = a.x.shape[2] as number;
  assertTensor(a.ALog, 'ALog', [2]);
  const N = a.ALog.shape[1] as number;
  expectShape(a.ALog, 'ALog', [d, N], '[d, N]');
  assertTensor(a.dtProjWeight, 'dtProjWeight', [2]);
  const R = a.dtProjWeight.shape[1] as number;
  expectShape(a.dtProjWeight, 'dtProjWeight', [d, R], '[d, R]');
  assertTensor(a.xProjWeight, 'xProjWeight', [2]);
  expectShape(a.xProjWeight, 'xProjWeight', [R + 2 * N, d], '[R + 2N, d]');
  assertTensor(a.dtProjBias, 'dtProjBias', [1]);
  expectShape(a.dtProjBias, 'dtProjBias', [d], '[d]');
  if (a.D !== undefined) {
    assertTensor(a.D, 'D', [1]);
    expectShape(a.D, 'D', [d], '[d]');
  }
  return { R, N };
}

/** S6 mixer output y [b, L, d] from x̂ [b, L, d] (14c–14g); shapes in the file comment. */
export function s6Inner(args: S6InnerArgs): Tensor {
  const { R, N } = checkS6(args);
  const kernel = scanKernel<S6Kernel>('s6Inner', args.impl).impl;
  return tf.tidy(() => kernel(args, R, N));
}

/** The S6 inner op's arrays (any float precision), shaped as {@link S6InnerArgs}. */
export interface S6InnerArrays {
  x: ArrayLike<number>;
  xProjWeight: ArrayLike<number>;
  dtProjWeight: ArrayLike<number>;
  dtProjBias: ArrayLike<number>;
  ALog: ArrayLike<number>;
  D?: ArrayLike<number>;
}

/** Reference twin of {@link s6Inner}: the recurrence (14c–14g) line by line in float64. Not differentiable. */
export function s6InnerRef(args: S6InnerArgs): Tensor {
  const { R, N } = checkS6(args);
  const [b, L, d] = args.x.shape as [number, number, number];
  const y = s6InnerRef64({ b, L, d, R, N }, readS6(args), args.bDiscretization ?? 'euler');
  return tf.tensor3d(Float32Array.from(y), [b, L, d]);
}

/** The float64 data of the op's tensors. */
function readS6(a: S6InnerArgs): S6InnerArrays {
  const r = (t: Tensor) => Float64Array.from(t.dataSync());
  return {
    x: r(a.x),
    xProjWeight: r(a.xProjWeight),
    dtProjWeight: r(a.dtProjWeight),
    dtProjBias: r(a.dtProjBias),
    ALog: r(a.ALog),
    D: a.D && r(a.D),
  };
}

/** {@link s6InnerRef} on arrays: y [b, L, d] in float64 (the twin finite differences are taken of). */
export function s6InnerRef64(
  dims: { b: number; L: number; d: number; R: number; N: number },
  arrays: S6InnerArrays,
  disc: BDiscretization,
): Float64Array {
  const { b, L, d, R, N } = dims;
  const { x: u, xProjWeight: Wx, dtProjWeight: Wdt, dtProjBias: bias, D } = arrays;
  const A = Float64Array.from(arrays.ALog, (v) => -Math.exp(v));
  const W = R + 2 * N;
  const xdbl = new Float64Array(W);
  const h = new Float64Array(d * N);
  const y = new Float64Array(b * L * d);
  for (let i = 0; i < b; i++) {
    h.fill(0);
    for (let t = 0; t < L; t++) {
      const o = (i * L + t) * d;
      for (let w = 0; w < W; w++) {
        let acc = 0;
        for (let c = 0; c < d; c++) acc += Wx[w * d + c] * u[o + c];
        xdbl[w] = acc; // [Δ_low | B_t | C_t]
      }
      for (let c = 0; c < d; c++) {
        let dl = bias[c];
        for (let r = 0; r < R; r++) dl += Wdt[c * R + r] * xdbl[r];
        const dt = softplus(dl); // (14c)
        let acc = 0;
        for (let n = 0; n < N; n++) {
          const a = A[c * N + n];
          const coef = disc === 'euler' ? dt : disc === 'zoh' ? zohCoef(dt, a) : 1;
          const k = c * N + n;
          h[k] = Math.exp(dt * a) * h[k] + coef * xdbl[R + n] * u[o + c]; // (14f)
          acc += h[k] * xdbl[R + N + n]; // (14g)
        }
        y[o + c] = acc + (D ? D[c] * u[o + c] : 0);
      }
    }
  }
  return y;
}
