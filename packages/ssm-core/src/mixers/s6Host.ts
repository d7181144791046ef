/**
 * S6 inference on the host (CPU / wasm, no gradient recorded): the same computation as `s6.forward`
 * (Eq. 14c–14g) and the same fused kernel, minus the tensor-op plumbing around it. The tensor path slices
 * x_proj's output into Δ/B/C, transposes four [b, L, ·] tensors to the scan's [b, ·, L] layout, transposes
 * B and C back to time-major inside the kernel, and transposes y again; here x_proj runs as one matMul,
 * its output is read once, and the kernel runs in the model's own time-major layout (no transposes). Tested against the float64 block
 * reference like the tensor path (test/model.test.ts) and against it directly (test/s6Host.test.ts).
 *
 * Shapes: xhat = u [b, L, d] → xdbl [b·L, R + 2N] = [Δ_low | B | C] → Δ [b, L, d]; B, C [b, L, N] → y [b, L, d].
 */
import type { Tensor } from '@tensorflow/tfjs';
import { isRecording, preferredScanImpl, tf } from '../backend.js';
import { linear } from '../nn/layers.js';
import { fusedForward } from '../scan/fusedKernel.js';
import type { ScanDims } from '../scan/types.js';
import { assertFinite } from '../scan/validate.js';
import type { MixerContext } from './types.js';

/** The host path applies when the fused kernel would run anyway and no gradient is being recorded. */
export function s6HostApplies(ctx: MixerContext): boolean {
  const impl = !ctx.impl || ctx.impl === 'auto' ? preferredScanImpl() : ctx.impl;
  return impl === 'fused' && !isRecording();
}

export function s6HostForward(p: (name: string) => Tensor, xhat: Tensor, ctx: MixerContext): Tensor {
  const { d, N, dtRank: R } = ctx;
  const [b, L] = xhat.shape as [number, number, number];
  const W = R + 2 * N;
  const xdblT = linear(xhat, p('x_proj.weight')); // [b, L, R + 2N]  (14c–14e before dt_proj)
  const xdbl = xdblT.dataSync() as Float32Array;
  xdblT.dispose();
  const u = xhat.dataSync() as Float32Array; // [b, L, d], already the kernel's time-major layout
  const Wdt = p('dt_proj.weight').dataSync() as Float32Array; // [d, R]
  const delta = new Float32Array(b * L * d);
  const B = new Float32Array(b * L * N);
  const C = new Float32Array(b * L * N);
  for (let bt = 0; bt < b * L; bt++) {
    const row = bt * W;
    B.set(xdbl.subarray(row + R, row + R + N), bt * N);
    C.set(xdbl.subarray(row + R + N, row + W), bt * N);
    for (let c = 0; c < d; c++) {
      let dt = 0;
      for (let r = 0; r < R; r++) dt += Wdt[c * R + r] * xdbl[row + r]; // dt_proj (its bias is added in the scan)
      delta[bt * d + c] = dt;
    }
  }
  const A = Float32Array.from(p('A_log').dataSync(), (a) => -Math.exp(a)); // A = −exp(A_log)
  const s: ScanDims = {
    batch: b, dInner: d, dState: N, L, deltaAlong: 'channel', bFixed: false, cFixed: false,
    hasD: ctx.skip, hasZ: false, hasBias: true, softplus: true, disc: ctx.disc, timeMajor: true,
  };
  const x = { u, delta, A, B, C, D: ctx.skip ? (p('D').dataSync() as Float32Array) : undefined, deltaBias: p('dt_proj.bias').dataSync() as Float32Array };
  const shapes: Record<string, number[]> = { u: [b, L, d], delta: [b, L, d], A: [d, N], B: [b, L, N], C: [b, L, N], D: [d], deltaBias: [d] };
  for (const [k, v] of Object.entries(x)) if (v) assertFinite(v, k, shapes[k]);
  return tf.tensor3d(fusedForward(s, x, false).out, [b, L, d]); // out is [b, L, d] in this layout
}
