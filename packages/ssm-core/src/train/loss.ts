/**
 * Masked cross-entropy and accuracy over positions whose target is not IGNORE.
 * logits [b, L, C], targets int32 [b, L] → mean loss over counted positions.
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';

/**
 * Mean cross-entropy −log softmax(logits)[y] over the positions whose target is not IGNORE.
 * @param logits - [b, L, C] float32.
 * @param targets - [b, L] int32 class ids, or IGNORE (−1).
 * @returns a scalar (0 when every target is IGNORE), differentiable in `logits`.
 */
export function maskedCrossEntropy(logits: Tensor, targets: Tensor): Scalar {
  return tf.tidy(() => {
    const C = logits.shape[2] as number;
    const mask = targets.greaterEqual(0).cast('float32'); // [b, L]
    const onehot = tf.oneHot(tf.relu(targets) as Tensor, C); // IGNORE → class 0, masked out below
    const nll = onehot.mul(tf.logSoftmax(logits)).sum(2).neg(); // [b, L]
    return nll.mul(mask).sum().div(tf.maximum(mask.sum(), 1)) as Scalar;
  });
}

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

/** [lossSum, correct, count] as one float32 tensor of 3 (caller disposes): one read-back per batch. */
export function lossStatsTensor(logits: Tensor, targets: Tensor): Tensor {
  return tf.tidy(() => {
    const C = logits.shape[2] as number;
    const mask = targets.greaterEqual(0).cast('float32');
    const nll = tf
      .oneHot(tf.relu(targets) as Tensor, C)
      .mul(tf.logSoftmax(logits))
      .sum(2)
      .neg();
    const hit = logits.argMax(2).equal(targets).cast('float32');
    return tf.stack([nll.mul(mask).sum(), hit.mul(mask).sum(), mask.sum()]);
  });
}
