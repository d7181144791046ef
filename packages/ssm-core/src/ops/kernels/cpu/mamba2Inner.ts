/**
 * Mamba-2 inner forward on the host (inference, no gradient recorded): the scan of `mamba2Inner` (Eq. 14f–14g)
 * with the fused kernel in the model's time-major layout. The generic kernel broadcasts the scalar Δ_t, a and D
 * to every channel and transposes x̂, Δ, B, C to the scan's [b, ·, L] layout and y back; here the kernel reads
 * x̂, B and C as they are, and Δ is a per-channel constant when w_Δ·x ≡ 0 (Thm. 3's Δ = 1, dt_proj ≡ 0).
 *
 * Shapes: x̂ [b, L, d], B, C [b, L, N], Δ_raw [b, L, 1] → y [b, L, d].
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import type { Mamba2InnerArgs } from '../../core/types.js';
import { assertFinite } from '../../core/validate.js';
import { innerScanDims } from './layout.js';
import { fusedForward } from './scanForward.js';

export function mamba2InnerHost(a: Mamba2InnerArgs): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const N = a.B.shape[2] as number;
  const data = (t: Tensor, name: string, shape: number[]) => {
    const v = t.dataSync() as Float32Array;
    assertFinite(v, name, shape);
    return v;
  };
  const dt = data(a.dt, 'delta', [b, L, 1]); // [b·L]: one Δ_t (before its bias) for every channel
  const deltaConstant = dt.every((w) => w === 0); // Δ̄ = softplus(bias) at every b, t
  const delta = new Float32Array(deltaConstant ? d : b * L * d); // [d] | [b, L, d]
  if (!deltaConstant) for (let i = 0; i < b * L; i++) delta.fill(dt[i], i * d, (i + 1) * d);
  const one = (t: Tensor, n: number) => new Float32Array(n).fill(t.dataSync()[0]); // a scalar for every channel
  const A = -Math.exp(a.ALog.dataSync()[0]); // a = −exp(A_log)
  const tm = { stride: N, bOffset: 0, cOffset: 0, deltaConstant }; // B, C: their own [b, L, N]
  const s = innerScanDims(b, d, N, L, a.D !== undefined, a.bDiscretization ?? 'euler', tm);
  const x = {
    u: data(a.x, 'u', [b, L, d]),
    delta,
    A: new Float32Array(d * N).fill(A),
    B: data(a.B, 'B', [b, L, N]),
    C: data(a.C, 'C', [b, L, N]),
    D: a.D ? one(a.D, d) : undefined,
    deltaBias: one(a.dtBias, d),
  };
  assertFinite(x.A, 'A', [d, N]);
  return tf.tensor3d(fusedForward(s, x, false).out, [b, L, d]); // out is [b, L, d] in this layout
}
