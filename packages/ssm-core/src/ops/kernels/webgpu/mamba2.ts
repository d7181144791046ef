/**
 * Mamba-2's scalar-decay scan on WebGPU (the 'webgpu' kernel of `mamba2Inner`): the fused WGSL scan of ./scan.ts
 * in the model's time-major layout (x, y [b, L, d], B, C [b, L, n] read and written as they are, no transposes),
 * with Δ_t read once per (b, t) from dt [b, L, 1] and shared by every channel and state (ScanPlan.deltaPerTime),
 * so the [b, L, d] broadcast of Δ that the generic kernel builds never exists. A_log and D are broadcast to [d, n]
 * and [d] (parameter-sized, by broadcastParam: gradients one sum each); the programs take a = −exp(A_log) (ScanPlan.aLog).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { broadcastParam } from '../../core/layout.js';
import type { Mamba2InnerArgs } from '../../core/types.js';
import { innerScanDims } from '../cpu/layout.js';
import { scanTensors } from './scan.js';

/** y [b, L, d] of the Mamba-2 inner op (shapes checked by the op). Differentiable in every argument. */
export function mamba2Webgpu(a: Mamba2InnerArgs): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const N = a.B.shape[2] as number;
  const s = innerScanDims(b, d, N, L, a.D !== undefined, a.bDiscretization ?? 'euler');
  const r = scanTensors(
    s,
    {
      u: a.x,
      delta: a.dt.reshape([b, L]),
      A: broadcastParam(a.ALog.reshape([1, 1]), [d, N]), // a = −exp(A_log) inside the programs
      B: a.B,
      C: a.C,
      D: a.D ? broadcastParam(a.D, [d]) : undefined,
      deltaBias: a.dtBias,
    },
    { deltaPerTime: true, layout: 'timeMajor', aLog: true },
  );
  return r.out;
}
