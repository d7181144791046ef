/**
 * `gatherRows` — rows of a 2-D tensor, x[idx]: x [n, e], idx int32 [...] (entries in [0, n)) → [..., e], and its
 * reference twin. Kernels: generic = tf.gather; host = a copy loop (kernels/cpu/gather.ts), which returns a new
 * tensor (no gradient to x: differentiable callers wrap it, as `embeddingLookup` in nn/layers.ts does).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { dtypeError, fmtShape, shapeError, valueError } from '../errors.js';
import { assertTensor } from './core/validate.js';
import { hostGatherRows } from './kernels/cpu/gather.js';
import { registerHostAndGeneric, resolveKernel } from './registry.js';

type GatherKernel = (x: Tensor, idx: Tensor) => Tensor;

registerHostAndGeneric<GatherKernel>('gatherRows', hostGatherRows, (x, idx) => tf.gather(x, idx));

function checkGather(x: Tensor, idx: Tensor, checkRange: boolean): void {
  assertTensor(x, 'x', [2]);
  if (!(idx instanceof tf.Tensor)) throw shapeError('idx', 'an int32 tf.Tensor', typeof idx);
  if (idx.dtype !== 'int32') throw dtypeError('idx', 'dtype int32', idx.dtype);
  if (!checkRange) return;
  const n = x.shape[0];
  const ids = idx.dataSync();
  const bad = ids.findIndex((i) => !(i >= 0 && i < n));
  if (bad >= 0)
    throw valueError('idx', `row ids in [0, ${n}) (x ${fmtShape(x.shape)})`, `${ids[bad]} at flat index ${bad}`);
}

/** x[idx]: x [n, e], idx int32 [...] → [..., e]. Ids are not range-checked here (callers check tokens once). */
export function gatherRows(x: Tensor, idx: Tensor): Tensor {
  checkGather(x, idx, false);
  return resolveKernel<GatherKernel>('gatherRows').impl(x, idx);
}

/** Reference twin of {@link gatherRows} (plain indexing, ids range-checked). Not differentiable. */
export function gatherRowsRef(x: Tensor, idx: Tensor): Tensor {
  checkGather(x, idx, true);
  const [, e] = x.shape as [number, number];
  const w = x.dataSync();
  const ids = idx.dataSync();
  const out = new Float32Array(ids.length * e);
  for (let i = 0; i < ids.length; i++) for (let j = 0; j < e; j++) out[i * e + j] = w[ids[i] * e + j];
  return tf.tensor(out, [...idx.shape, e], 'float32');
}
