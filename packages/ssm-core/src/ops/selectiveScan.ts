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
 * out_t = y_t ⊙ silu(z_t), y_t = h_t C_t + D u_t, h_t = exp(Δ̄_t A) h_{t−1} + B̄_t u_t  (Eq. 14f–14g).
 * u, delta, z [b, d, L] (delta [b, n, L] with deltaAlong 'state', [b, d, n, L] full); A [d, n]; B, C [b, n, L]
 * (input-dependent) or [d, n] (fixed); D [d] → out [b, d, L], lastState [b, d, n] with `returnLastState`.
 * `impl` picks the kernel ('fused' host, 'tensor' generic, 'auto' per policy and backend).
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
