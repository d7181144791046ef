/**
 * Mamba-2's scalar-decay scan on WebGPU (the 'webgpu' kernel of `mamba2Inner`): the fused WGSL scan of ./scan.ts
 * with Δ_t read once per (b, t) from dt [b, L, 1] and shared by every channel and state (ScanPlan.deltaPerTime),
 * so the [b, d, L] broadcast of Δ that the generic kernel builds never exists. a = −exp(A_log) and D are
 * broadcast to [d, n] and [d] (parameter-sized); x, B, C go to the reference layout [b, ·, L].
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { toChannelsFirst, toTimeFirst } from '../../core/layout.js';
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
      u: toChannelsFirst(a.x),
      delta: a.dt.reshape([b, L]),
      A: tf.broadcastTo(tf.exp(a.ALog).neg().reshape([1, 1]), [d, N]),
      B: toChannelsFirst(a.B),
      C: toChannelsFirst(a.C),
      D: a.D ? tf.broadcastTo(a.D, [d]) : undefined,
      deltaBias: a.dtBias,
    },
    false,
    true,
  );
  return toTimeFirst(r.out);
}
