/**
 * S6 inference on the host (CPU / wasm, no gradient recorded): the same computation as `s6.forward`
 * (Eq. 14c–14g) and the same fused kernel, minus the tensor-op plumbing around it. The tensor path slices
 * x_proj's output into Δ/B/C, transposes four [b, L, ·] tensors to the scan's [b, ·, L] layout and y back;
 * here x_proj's output stays one host array that the kernel reads B and C from in place (ScanDims.timeMajor),
 * in the model's own time-major layout. Mostly-zero weights — the analytic constructions — skip their zeros:
 * x_proj via nn/sparseLinear.ts, and dt_proj ≡ 0 makes Δ a per-channel constant softplus(bias).
 * Tested against the float64 block reference and the tensor path (test/model.test.ts, test/scan.decayFree.test.ts).
 *
 * Shapes: xhat = u [b, L, d] → xdbl [b·L, R + 2N] = [Δ_low | B | C] → Δ [b, L, d] (or [d]); y [b, L, d].
 */
import type { Tensor } from '@tensorflow/tfjs';
import { isRecording, preferredScanImpl, tf } from '../backend.js';
import { scatterLinear, sparseLinear, sparsePlan } from '../nn/sparseLinear.js';
import { fusedForward } from '../scan/fusedKernel.js';
import type { ScanDims } from '../scan/types.js';
import { assertFinite } from '../scan/validate.js';
import type { MixerContext } from './types.js';

/** The host paths (S6 here, Mamba-2 in mamba2Host.ts) apply when the fused kernel would run anyway and no gradient is being recorded. */
export function hostScanApplies(ctx: MixerContext): boolean {
  const impl = !ctx.impl || ctx.impl === 'auto' ? preferredScanImpl() : ctx.impl;
  return impl === 'fused' && !isRecording();
}

export function s6HostForward(p: (name: string) => Tensor, xhat: Tensor, ctx: MixerContext): Tensor {
  const { d, N, dtRank: R } = ctx;
  const [b, L] = xhat.shape as [number, number, number];
  const W = R + 2 * N;
  const u = xhat.dataSync() as Float32Array; // [b, L, d], already the kernel's time-major layout
  assertFinite(u, 'u', [b, L, d]);
  const xdbl = xProj(u, b * L, p('x_proj.weight'), xhat); // [b·L, R + 2N]  (14c–14e before dt_proj)
  assertFinite(xdbl, 'x_proj(u)', [b, L, W]);
  const Wdt = p('dt_proj.weight').dataSync() as Float32Array; // [d, R]
  const deltaConstant = Wdt.every((w) => w === 0); // Δ = softplus(bias) everywhere (Thm. 2/3): dt_proj(·) = 0 exactly, xdbl being finite
  const delta = deltaConstant ? new Float32Array(d) : dtProj(xdbl, b * L, W, Wdt, d, R); // [d] | [b, L, d]
  const A = Float32Array.from(p('A_log').dataSync(), (a) => -Math.exp(a)); // A = −exp(A_log)
  const s: ScanDims = {
    batch: b, dInner: d, dState: N, L, deltaAlong: 'channel', bFixed: false, cFixed: false,
    hasD: ctx.skip, hasZ: false, hasBias: true, softplus: true, disc: ctx.disc,
    timeMajor: { stride: W, bOffset: R, cOffset: R + N, deltaConstant }, // B, C read in place from xdbl
  };
  const x = { u, delta, A, B: xdbl, C: xdbl, D: ctx.skip ? (p('D').dataSync() as Float32Array) : undefined, deltaBias: p('dt_proj.bias').dataSync() as Float32Array };
  const shapes: Record<string, number[]> = { A: [d, N], D: [d], deltaBias: [d], ...(deltaConstant ? {} : { delta: [b, L, d] }) };
  for (const k of Object.keys(shapes)) if (x[k as keyof typeof x]) assertFinite(x[k as keyof typeof x]!, k, shapes[k]);
  return tf.tensor3d(fusedForward(s, x, false).out, [b, L, d]); // out is [b, L, d] in this layout
}

/** Δ before its bias: dt_proj(xdbl[:, :R]) → [m, d]  (14c). */
function dtProj(xdbl: Float32Array, m: number, W: number, Wdt: Float32Array, d: number, R: number): Float32Array {
  const delta = new Float32Array(m * d);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < d; c++) {
      let dt = 0;
      for (let r = 0; r < R; r++) dt += Wdt[c * R + r] * xdbl[i * W + r];
      delta[i * d + c] = dt;
    }
  }
  return delta;
}

/** x_proj(u) [m, R + 2N] as host data: W's zeros skipped when it is mostly zero (nn/sparseLinear.ts), else one matMul. */
function xProj(u: Float32Array, m: number, Wx: Tensor, xhat: Tensor): Float32Array {
  const plan = sparsePlan(Wx); // u was checked finite
  if (plan?.kind === 'scatter') return scatterLinear(plan, u, m);
  const y = plan ? sparseLinear(plan, u, m) : tf.tidy(() => tf.matMul(xhat.reshape([m, -1]), Wx.transpose())); // linear(xhat, Wx) without asking for a plan again
  const ys = y.dataSync() as Float32Array;
  y.dispose();
  return ys;
}
