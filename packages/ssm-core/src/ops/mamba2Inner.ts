/**
 * `mamba2Inner` — the single-head Mamba-2 mixer after its three convs, as one op, and its float64 reference twin:
 *
 *   Δ_t = softplus(dt_t + b_Δ) ∈ R ,  a = −exp(A_log)                                   (14c)
 *   h_t = e^{Δ_t a} h_{t−1} + (Δ_t x̂_t) ⊗ B_t ,   y_t = h_t C_t + D x̂_t                  (14f, 14g)
 *
 * Shapes: x [b, L, d] (x̂), B, C [b, L, N], dt [b, L, 1] (w_Δ·x_t before its bias), dtBias, ALog, D [1] → y [b, L, d].
 * Kernels: generic = selectiveScan with Δ_t, a, D broadcast to every channel (differentiable, any backend);
 * host (inference only) = the fused scan in the model's layout (kernels/cpu/mamba2Inner.ts).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { softplus } from '../math.js';
import { broadcastParam, toChannelsFirst, toTimeFirst } from './core/layout.js';
import type { Mamba2InnerArgs } from './core/types.js';
import { assertTensor, expectShape } from './core/validate.js';
import { zohCoef } from './kernels/cpu/layout.js';
import { mamba2InnerHost } from './kernels/cpu/mamba2Inner.js';
import { registerHostAndGeneric, scanKernel } from './registry.js';
import { selectiveScan } from './selectiveScan.js';

type Mamba2Kernel = (a: Mamba2InnerArgs) => Tensor;

/** The generic composition: y [b, L, d], and lastState [b, d, N] when asked. */
export function mamba2Parts(a: Mamba2InnerArgs, returnLastState: boolean): { y: Tensor; lastState?: Tensor } {
  const [b, L, d] = a.x.shape as number[];
  const N = a.B.shape[2] as number;
  const r = selectiveScan({
    u: toChannelsFirst(a.x),
    delta: toChannelsFirst(broadcastParam(a.dt, [b, L, d])),
    deltaBias: broadcastParam(a.dtBias, [d]),
    deltaSoftplus: true,
    A: broadcastParam(tf.exp(a.ALog).neg().reshape([1, 1]), [d, N]),
    B: toChannelsFirst(a.B),
    C: toChannelsFirst(a.C),
    D: a.D ? broadcastParam(a.D, [d]) : undefined,
    bDiscretization: a.bDiscretization,
    impl: a.impl,
    returnLastState,
  });
  return { y: toTimeFirst(r.out), lastState: r.lastState };
}

registerHostAndGeneric<Mamba2Kernel>('mamba2Inner', mamba2InnerHost, (a) => mamba2Parts(a, false).y, {
  inferenceOnly: true,
});

function checkMamba2(a: Mamba2InnerArgs): void {
  assertTensor(a.x, 'x', [3]);
  const [b, L] = a.x.shape as number[];
  assertTensor(a.B, 'B', [3]);
  const N = a.B.shape[2] as number;
  expectShape(a.B, 'B', [b, L, N], '[b, L, N]');
  assertTensor(a.C, 'C', [3]);
  expectShape(a.C, 'C', [b, L, N], '[b, L, N]');
  assertTensor(a.dt, 'dt', [3]);
  expectShape(a.dt, 'dt', [b, L, 1], '[b, L, 1]');
  for (const k of ['dtBias', 'ALog', 'D'] as const) {
    if (k === 'D' && a.D === undefined) continue;
    assertTensor(a[k], k, [1]);
    expectShape(a[k]!, k, [1], '[1]');
  }
}

/** Mamba-2 mixer output y [b, L, d] from x̂, B, C and the raw Δ (14c–14g); shapes in the file comment. */
export function mamba2Inner(args: Mamba2InnerArgs): Tensor {
  checkMamba2(args);
  const kernel = scanKernel<Mamba2Kernel>('mamba2Inner', args.impl).impl;
  return tf.tidy(() => kernel(args));
}

/** Reference twin of {@link mamba2Inner}: the recurrence in float64, line by line. Not differentiable. */
export function mamba2InnerRef(args: Mamba2InnerArgs): Tensor {
  checkMamba2(args);
  const [b, L, d] = args.x.shape as [number, number, number];
  const N = args.B.shape[2] as number;
  const u = args.x.dataSync();
  const B = args.B.dataSync();
  const C = args.C.dataSync();
  const dt = args.dt.dataSync();
  const bias = args.dtBias.dataSync()[0];
  const a = -Math.exp(args.ALog.dataSync()[0]);
  const D = args.D ? args.D.dataSync()[0] : 0;
  const disc = args.bDiscretization ?? 'euler';
  const h = new Float64Array(d * N);
  const y = new Float32Array(b * L * d);
  for (let i = 0; i < b; i++) {
    h.fill(0);
    for (let t = 0; t < L; t++) {
      const bt = i * L + t;
      const delta = softplus(dt[bt] + bias);
      const decay = Math.exp(delta * a);
      const coef = disc === 'euler' ? delta : disc === 'zoh' ? zohCoef(delta, a) : 1;
      for (let c = 0; c < d; c++) {
        const x = u[bt * d + c];
        let acc = 0;
        for (let n = 0; n < N; n++) {
          const k = c * N + n;
          h[k] = decay * h[k] + coef * B[bt * N + n] * x;
          acc += h[k] * C[bt * N + n];
        }
        y[bt * d + c] = acc + D * x;
      }
    }
  }
  return tf.tensor3d(y, [b, L, d]);
}
