/**
 * `selectiveScan` — the selective scan with the contract of mamba_ssm's `selective_scan_fn` / `selective_scan_ref`
 * (shapes in ./core/types.ts), differentiable in every tensor argument. Kernels:
 *   host     fused typed-array kernel + analytic backward via tf.customGrad (kernels/cpu/fusedScan.ts)
 *   generic  log-depth Hillis–Steele scan of tf ops (kernels/tensor/scan.ts; GPU backends: never downloads data)
 * Both are tested equal to the float64 reference {@link selectiveScanRef} (./reference.ts).
 */
import { tf } from '../backend.js';
import { checkScanFinite, readScanArrays, SCAN_KEYS, validateScanArgs } from './core/validate.js';
import type { ScanDims, SelectiveScanArgs, SelectiveScanResult } from './core/types.js';
import { fusedScan } from './kernels/cpu/fusedScan.js';
import { tensorScan, tensorScanBytes } from './kernels/tensor/scan.js';
import { deferFiniteCheck, gpuDevice, guardGpu } from '../gpu.js';
import { registerHostAndGeneric, scanKernel } from './registry.js';

type ScanKernel = (s: ScanDims, args: SelectiveScanArgs) => SelectiveScanResult;

function genericScan(s: ScanDims, args: SelectiveScanArgs): SelectiveScanResult {
  if (args.checkFinite && !gpuDevice()) checkScanFinite(readScanArrays(args), args); // on webgpu: selectiveScan
  const r = tensorScan(s, args);
  if (args.returnLastState) return r;
  r.lastState.dispose();
  return { out: r.out };
}

registerHostAndGeneric<ScanKernel>('selectiveScan', fusedScan, genericScan);

/**
 * The selective scan of Mamba (Eq. 14f–14g), with the contract of mamba_ssm's `selective_scan_fn`, differentiable
 * in every tensor argument:
 *
 * ```text
 * Δ̄_t = softplus(delta_t + deltaBias)   (delta_t + deltaBias without deltaSoftplus)
 * h_t = exp(Δ̄_t ⊙ A) ⊙ h_{t−1} + B̄_t u_t,   B̄_t = Δ̄_t B_t   ('euler'; 'zoh', 'identity': bDiscretization)
 * y_t = Σ_n h_t[·, n] C_t[n] + D ⊙ u_t,   out_t = y_t ⊙ silu(z_t)
 * ```
 *
 * Shapes (b batch, d channels, n state size, L length): u, delta, z [b, d, L] (delta [b, n, L] with
 * `deltaAlong: 'state'`, [b, d, n, L] per channel and state); A [d, n]; B, C [b, n, L] (input-dependent, S6) or
 * [d, n] (fixed, S4D); D [d] → out [b, d, L], and lastState [b, d, n] with `returnLastState`. `impl` picks the
 * kernel ('fused' host kernel, 'tensor' tf-op scan, 'auto' per policy and backend). The result equals
 * {@link selectiveScanRef} (float64) to float32 round-off.
 *
 * @throws ShapeError naming the argument whose shape does not fit the others, e.g.
 * `B: expected [batch, dState, L] (input-dependent) = [1,8,16], got [1,8,15]`; ValueError for a NaN or ±Infinity
 * input when `checkFinite` is on.
 * @example
 * ```ts
 * import { selectiveScan, tf } from 'ssm-core';
 * const [b, d, n, L] = [1, 4, 8, 16];
 * const u = tf.randomNormal([b, d, L]);
 * const args = {
 *   u,
 *   delta: tf.fill([b, d, L], 0.1),
 *   A: tf.neg(tf.ones([d, n])),
 *   B: tf.randomNormal([b, n, L]),
 *   C: tf.randomNormal([b, n, L]),
 *   D: tf.ones([d]),
 * };
 * const { out, lastState } = selectiveScan({ ...args, returnLastState: true }); // out [1, 4, 16], lastState [1, 4, 8]
 * // gradients flow through every tensor argument:
 * const du = tf.grad((x: tf.Tensor) => selectiveScan({ ...args, u: x }).out.sum())(u);
 * ```
 */
export function selectiveScan(args: SelectiveScanArgs): SelectiveScanResult {
  const s = validateScanArgs(args);
  const { key, impl: kernel } = scanKernel<ScanKernel>('selectiveScan', args.impl);
  const run = () =>
    tf.tidy(() => kernel(s, args) as unknown as tf.TensorContainerObject) as unknown as SelectiveScanResult;
  // checkFinite on webgpu, for whichever kernel runs: checked on the device, thrown at the next read-back (no
  // synchronous read there)
  if (args.checkFinite && gpuDevice())
    deferFiniteCheck('selectiveScan', Object.fromEntries(SCAN_KEYS.map((k) => [k, args[k]])));
  // On webgpu: refused before launch when the tensor scan's intermediates cannot fit, and run inside error
  // scopes (a dedicated webgpu kernel checks its own, smaller request with checkGpuRequest).
  const need = key === 'generic' ? tensorScanBytes(s) : { bytes: 0, largest: 0 };
  return guardGpu('selectiveScan', need.bytes, run, need.largest);
}
