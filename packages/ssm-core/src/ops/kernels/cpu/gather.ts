/**
 * Rows of a 2-D tensor copied on the host: x [n, e], idx int32 [...] → [..., e]. On wasm, tfjs's Gather kernel is
 * ~20× slower than this copy loop. The result is a new tensor: no gradient flows back to x.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';

export function hostGatherRows(x: Tensor, idx: Tensor): Tensor {
  const [, e] = x.shape as [number, number];
  const w = x.dataSync() as Float32Array;
  const ids = idx.dataSync() as Int32Array;
  const out = new Float32Array(ids.length * e);
  for (let i = 0; i < ids.length; i++) out.set(w.subarray(ids[i] * e, ids[i] * e + e), i * e);
  return tf.tensor(out, [...idx.shape, e], 'float32');
}
