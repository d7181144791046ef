/**
 * Layers built from the ops, with torch's parameter layouts so weights map 1:1 to PyTorch checkpoints.
 * (Linear, causal conv and activation are ops: ../ops/linear.ts, ../ops/causalConv1d.ts.)
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { gatherRows } from '../ops/gatherRows.js';

/**
 * Embedding lookup W[tokens]: W [V, e], tokens int32 [b, L] → [b, L, e]. The forward is a
 * gather; the backward is onehot(tokens)ᵀ·dy as a matMul, because the wasm backend has no
 * UnsortedSegmentSum kernel (tfjs's own gather gradient) and this stays on-device on GPUs.
 */
export function embeddingLookup(W: Tensor, tokens: Tensor): Tensor {
  const [V, e] = W.shape as [number, number];
  const [b, L] = tokens.shape as [number, number];
  const op = tf.customGrad(((w: Tensor, save: (ts: Tensor[]) => void) => {
    save([tokens]); // kept alive for the backward pass even after the caller's tidy ends
    return {
      value: gatherRows(w, tokens),
      gradFunc: (dy: Tensor, [tok]: Tensor[]) =>
        tf.matMul(tf.oneHot(tok.reshape([b * L]), V).transpose(), dy.reshape([b * L, e])),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(W) as Tensor;
}
