/**
 * The S6 scan of s6Inner and mambaInner on WebGPU: the fused WGSL scan of ./scan.ts in the model's time-major
 * layout. x̂, Δ before its bias [b, L, d] and B, C [b, L, n] (x_proj's outputs) are read as they are and y is
 * written [b, L, d], so no layout transpose runs around the scan, forward or backward.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { BDiscretization } from '../../core/types.js';
import { innerScanDims } from '../cpu/layout.js';
import { scanTensors } from './scan.js';

/** The tensors of one S6 scan in the model's layout. */
export interface S6ScanTensors {
  /** x̂ [b, L, d]. */
  x: Tensor;
  /** W_dt Δ_low [b, L, d], before the bias. */
  deltaRaw: Tensor;
  /** [d] */
  dtProjBias: Tensor;
  /** [d, N] */
  ALog: Tensor;
  /** [b, L, N] */
  B: Tensor;
  /** [b, L, N] */
  C: Tensor;
  /** [d] */
  D?: Tensor;
  /** The gate z [b, L, d]: y ⊙ silu(z) (Eq. 14g with mamba_ssm's gate), fused into the scan. */
  z?: Tensor;
  bDiscretization?: BDiscretization;
}

/** y [b, L, d] = S6(x̂) (⊙ silu(z)), Eq. 14c–14g; differentiable in every tensor. */
export function s6ScanWebgpu(a: S6ScanTensors): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const N = a.B.shape[2] as number;
  const s = { ...innerScanDims(b, d, N, L, a.D !== undefined, a.bDiscretization ?? 'euler'), hasZ: a.z !== undefined };
  const r = scanTensors(
    s,
    { u: a.x, delta: a.deltaRaw, A: a.ALog, B: a.B, C: a.C, D: a.D, z: a.z, deltaBias: a.dtProjBias },
    { layout: 'timeMajor', aLog: true }, // A = −exp(A_log) inside the programs
  );
  return r.out;
}
