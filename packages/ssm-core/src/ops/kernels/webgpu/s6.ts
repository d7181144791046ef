/**
 * The S6 scan of s6Inner and mambaInner on WebGPU: the fused WGSL scan of ./scan.ts in the model's time-major
 * layout. x̂ and Δ before its bias [b, L, d] are read as they are, B and C in place as columns of x_proj's output
 * x_dbl = [Δ_low | B | C] [b, L, R + 2n] (ScanPlan.bcColumns), and y is written [b, L, d]: no layout transpose and
 * no copy of B or C runs around the scan, forward or backward.
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
  /** x_dbl = [Δ_low | B | C] [b, L, R + 2N]. */
  xdbl: Tensor;
  /** Δ rank R: B in columns R … R + N, C in R + N … R + 2N of x_dbl. */
  R: number;
  /** [d] */
  D?: Tensor;
  /** The gate z [b, L, d]: y ⊙ silu(z) (Eq. 14g with mamba_ssm's gate), fused into the scan. */
  z?: Tensor;
  bDiscretization?: BDiscretization;
}

/** y [b, L, d] = S6(x̂) (⊙ silu(z)), Eq. 14c–14g; differentiable in every tensor. */
export function s6ScanWebgpu(a: S6ScanTensors): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const N = a.ALog.shape[1] as number;
  const W = a.xdbl.shape[2] as number;
  const s = { ...innerScanDims(b, d, N, L, a.D !== undefined, a.bDiscretization ?? 'euler'), hasZ: a.z !== undefined };
  const r = scanTensors(
    s,
    { u: a.x, delta: a.deltaRaw, A: a.ALog, B: a.xdbl, D: a.D, z: a.z, deltaBias: a.dtProjBias },
    // A = −exp(A_log) inside the programs; B and C read from x_dbl's columns
    { layout: 'timeMajor', aLog: true, bcColumns: { W, bOff: a.R, cOff: a.R + N } },
  );
  return r.out;
}
