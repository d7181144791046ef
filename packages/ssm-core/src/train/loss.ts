/**
 * Masked cross-entropy and accuracy over positions whose target is not IGNORE, from logits [b, L, C] and targets
 * int32 [b, L]. The formulas are ops (../ops/linearCrossEntropy.ts, which also fuses them with the output layer).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { lossStatsTensor } from '../ops/linearCrossEntropy.js';

export { lossStatsTensor, maskedCrossEntropy } from '../ops/linearCrossEntropy.js';

/** Summed loss, correct argmax predictions and counted (non-IGNORE) positions of a batch. */
export interface LossStats {
  /** Sum of the cross-entropy over the counted positions. */
  lossSum: number;
  /** Counted positions whose argmax equals the target. */
  correct: number;
  /** Positions counted (targets other than IGNORE). */
  count: number;
}

/** logits [b, L, C], targets [b, L] → summed loss, correct argmax predictions and counted (non-IGNORE) positions, for exact aggregation over batches. */
export function lossAndAccuracy(logits: Tensor, targets: Tensor): LossStats {
  const packed = lossStatsTensor(logits, targets);
  const [lossSum, correct, count] = packed.dataSync() as Float32Array;
  packed.dispose();
  return { lossSum, correct, count };
}

/**
 * {@link lossAndAccuracy} read back with `await data()`: the form for GPU backends, where a synchronous read
 * stalls the device queue (and throws on webgpu in Node, which has no OffscreenCanvas).
 */
export async function lossAndAccuracyAsync(logits: Tensor, targets: Tensor): Promise<LossStats> {
  const packed = lossStatsTensor(logits, targets);
  try {
    const [lossSum, correct, count] = (await packed.data()) as Float32Array;
    return { lossSum, correct, count };
  } finally {
    packed.dispose();
  }
}
