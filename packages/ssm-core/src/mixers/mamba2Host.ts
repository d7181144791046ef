/**
 * Mamba-2 inference on the host (CPU / wasm, no gradient recorded): the scan of `mamba2.forward` (Eq. 14f–14g)
 * with the fused kernel in the model's time-major layout. The tensor path broadcasts the scalar Δ_t, a and D
 * to every channel and transposes x̂, Δ, B, C to the scan's [b, ·, L] layout and y back; here the kernel reads
 * x̂, B and C as they are, and Δ is a per-channel constant when dt_proj ≡ 0 (Thm. 3's Δ = 1).
 * Tested against the float64 block reference (test/model.test.ts, test/scan.decayFree.test.ts).
 *
 * Shapes: x̂ [b, L, d], B, C [b, L, N], Δ_raw [b, L, 1] → y [b, L, d].
 */
import type { Tensor } from '@tensorflow/tfjs';
import { tf } from '../backend.js';
import { fusedForward } from '../scan/fusedKernel.js';
import type { ScanDims } from '../scan/types.js';
import { assertFinite } from '../scan/validate.js';
import type { MixerContext } from './types.js';

export function mamba2HostForward(p: (name: string) => Tensor, xu: Tensor, B: Tensor, C: Tensor, dtRaw: Tensor, ctx: MixerContext): Tensor {
  const { d, N } = ctx;
  const [b, L] = xu.shape as [number, number, number];
  const data = (t: Tensor, name: string, shape: number[]) => {
    const v = t.dataSync() as Float32Array;
    assertFinite(v, name, shape);
    return v;
  };
  const dt = data(dtRaw, 'delta', [b, L, 1]); // [b·L]: one Δ_t (before its bias) for every channel
  const deltaConstant = (p('dt_proj.weight').dataSync() as Float32Array).every((w) => w === 0); // then dt ≡ 0, being finite
  const delta = new Float32Array(deltaConstant ? d : b * L * d); // [d] | [b, L, d]
  if (!deltaConstant) for (let i = 0; i < b * L; i++) delta.fill(dt[i], i * d, (i + 1) * d);
  const one = (name: string, n: number) => new Float32Array(n).fill(p(name).dataSync()[0]); // a scalar for every channel
  const a = -Math.exp(p('A_log').dataSync()[0]); // a = −exp(A_log)
  const s: ScanDims = {
    batch: b, dInner: d, dState: N, L, deltaAlong: 'channel', bFixed: false, cFixed: false,
    hasD: ctx.skip, hasZ: false, hasBias: true, softplus: true, disc: ctx.disc,
    timeMajor: { stride: N, bOffset: 0, cOffset: 0, deltaConstant },
  };
  const x = {
    u: data(xu, 'u', [b, L, d]), delta, A: new Float32Array(d * N).fill(a), B: data(B, 'B', [b, L, N]), C: data(C, 'C', [b, L, N]),
    D: ctx.skip ? one('D', d) : undefined, deltaBias: one('dt_bias', d),
  };
  assertFinite(x.A, 'A', [d, N]);
  return tf.tensor3d(fusedForward(s, x, false).out, [b, L, d]); // out is [b, L, d] in this layout
}
