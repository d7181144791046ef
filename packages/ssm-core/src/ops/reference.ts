/**
 * The slow, obviously-correct selective scan: a line-by-line float64 transcription of
 * `mamba_ssm/ops/selective_scan_interface.py::selective_scan_ref`. Every fast path is tested
 * against it. Same signature as {@link selectiveScan}.
 */
import { tf } from '../backend.js';
import { softplus } from '../math.js';
import type { ScanArrays, ScanDims, SelectiveScanArgs, SelectiveScanResult } from './core/types.js';
import { readScanArrays, validateScanArgs } from './core/validate.js';
import { at, scanLayout, zohCoef } from './kernels/cpu/layout.js';

/**
 * The float64 reference on flat arrays: `s` is what {@link validateScanArgs} returns for the arguments, `x` their
 * data (u, delta, A, B, C and the optional D, z, deltaBias as Float32Array or Float64Array, same layout as the
 * tensors). Returns out [b, d, L] and lastState [b, d, n] as Float64Array.
 * @example
 * ```ts
 * const s = validateScanArgs(args);
 * const { out } = selectiveScanRef64(s, { u: args.u.dataSync(), delta: args.delta.dataSync(), A: args.A.dataSync(),
 *   B: args.B.dataSync(), C: args.C.dataSync() });
 * ```
 */
export function selectiveScanRef64(s: ScanDims, x: ScanArrays): { out: Float64Array; lastState: Float64Array } {
  const { batch, dInner, dState, L } = s;
  const lay = scanLayout(s);
  const out = new Float64Array(batch * dInner * L);
  const lastState = new Float64Array(batch * dInner * dState);
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < dInner; d++) {
      const h = new Float64Array(dState); // x = A.new_zeros((batch, dim, dstate))
      for (let t = 0; t < L; t++) {
        const ut = x.u[at(lay.u, b, d, 0, t)];
        let y = 0;
        for (let n = 0; n < dState; n++) {
          let dt = x.delta[at(lay.delta, b, d, n, t)]; // delta = delta + delta_bias[..., None]
          if (x.deltaBias) dt += x.deltaBias[at(lay.bias, b, d, n, t)];
          if (s.softplus) dt = softplus(dt); // delta = F.softplus(delta)
          const a = x.A[at(lay.A, b, d, n, t)];
          const deltaA = Math.exp(dt * a); // deltaA = exp(einsum('bdl,dn->bdln', delta, A))
          const Bv = x.B[at(lay.B, b, d, n, t)];
          const coef = s.disc === 'euler' ? dt : s.disc === 'zoh' ? zohCoef(dt, a) : 1;
          h[n] = deltaA * h[n] + coef * Bv * ut; // x = deltaA[:, :, i] * x + deltaB_u[:, :, i]
          y += h[n] * x.C[at(lay.C, b, d, n, t)]; // y = einsum('bdn,dn->bd' | 'bdn,bn->bd', x, C)
        }
        if (x.D) y += ut * x.D[d]; // out = y + u * rearrange(D, "d -> d 1")
        if (x.z) {
          const zt = x.z[at(lay.u, b, d, 0, t)];
          y *= zt / (1 + Math.exp(-zt)); // out = out * F.silu(z)
        }
        out[at(lay.u, b, d, 0, t)] = y;
      }
      lastState.set(h, (b * dInner + d) * dState);
    }
  }
  return { out, lastState };
}

/**
 * Reference twin of {@link selectiveScan}: same arguments and result (u [b, d, L], … → out [b, d, L], lastState
 * [b, d, n]), computed by {@link selectiveScanRef64} in float64, float32 tensors out. Not differentiable; `impl` is ignored.
 */
export function selectiveScanRef(args: SelectiveScanArgs): SelectiveScanResult {
  const s = validateScanArgs(args);
  const r = selectiveScanRef64(s, readScanArrays(args));
  const out = tf.tensor3d(Float32Array.from(r.out), [s.batch, s.dInner, s.L]);
  if (!args.returnLastState) return { out };
  return { out, lastState: tf.tensor3d(Float32Array.from(r.lastState), [s.batch, s.dInner, s.dState]) };
}
