/**
 * `linearCrossEntropy` — a model's output layer, the masked cross-entropy over its logits and the batch's statistics
 * in one op, and its reference twin `linearCrossEntropyRef`:
 *
 *   z [..., d], W [C, d] (torch's Linear layout), b [C] (optional), targets int32 [...] (class ids in [0, C), or any
 *   negative value — IGNORE — for a position without a target)
 *   logits_r = W z_r + b                                              (the output layer, one row r per position)
 *   loss     = Σ_{r: y_r ≥ 0} (logsumexp(logits_r) − logits_r[y_r]) / max(count, 1)    (0 when no position counts)
 *   stats    = [lossSum, correct, count]: the summed loss, the positions whose first argmax is y_r, the counted ones
 *   → { loss: scalar, differentiable in z, W and b;  stats: float32 [3], not differentiable }
 *
 * Backward (p_r = softmax(logits_r), e_y the one-hot of y_r, rows without a target contribute 0):
 *   G_r = (p_r − e_y) · ∂loss / count;   ∂z = G W,   ∂W = Gᵀ z,   ∂b = Σ_r G_r.
 *
 * Kernels: generic = `linear` + {@link maskedCrossEntropy} + {@link lossStatsTensor} (tf ops, any backend); host
 * (kernels/cpu/linearCrossEntropy.ts) = the two products z Wᵀ, G W and Gᵀ z as tfjs matMuls (the backend's
 * SIMD GEMM), softmax, loss, statistics and G in one pass over typed arrays that skips rows without a target;
 * webgpu (kernels/webgpu/linearCrossEntropy.ts) = the fused matMul of `linear`'s webgpu kernel and four WGSL programs
 * (per-row terms, statistics, loss, G).
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, dtypeError, fmtShape, shapeError, valueError } from '../errors.js';
import { assertTensor, checkTargetIds } from './core/validate.js';
import { hostLinearCrossEntropy } from './kernels/cpu/linearCrossEntropy.js';
import { webgpuLinearCrossEntropy } from './kernels/webgpu/linearCrossEntropy.js';
import { linear } from './linear.js';
import { registerHostAndGeneric, registerKernel, resolveKernel } from './registry.js';

/** What {@link linearCrossEntropy} returns: the mean masked loss and [lossSum, correct, count]. */
export interface LinearCrossEntropyResult {
  /** Mean cross-entropy over the counted positions (0 when none count); differentiable in z, W and b. */
  loss: Scalar;
  /** float32 [3]: summed loss, correct first-argmax predictions, counted positions (no gradient). */
  stats: Tensor;
}

export type LinearCrossEntropyKernel = (
  z: Tensor,
  W: Tensor,
  b: Tensor | undefined,
  targets: Tensor,
) => LinearCrossEntropyResult;

/**
 * Mean cross-entropy −log softmax(logits)[y] over the positions whose target is not IGNORE (any negative id).
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

/** logits [b, L, C], targets [b, L] → [lossSum, correct, count] as one float32 tensor of 3 (caller disposes). */
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

function genericLinearCrossEntropy(
  z: Tensor,
  W: Tensor,
  b: Tensor | undefined,
  targets: Tensor,
): LinearCrossEntropyResult {
  const C = W.shape[0];
  const M = targets.size;
  const logits = linear(z, W, b).reshape([1, M, C]);
  const y = targets.reshape([1, M]);
  return { loss: maskedCrossEntropy(logits, y), stats: lossStatsTensor(logits, y) };
}

registerHostAndGeneric<LinearCrossEntropyKernel>(
  'linearCrossEntropy',
  hostLinearCrossEntropy,
  genericLinearCrossEntropy,
);
registerKernel<LinearCrossEntropyKernel>('linearCrossEntropy', 'webgpu', webgpuLinearCrossEntropy, { host: false });

function checkArgs(z: Tensor, W: Tensor, b: Tensor | undefined, targets: Tensor): void {
  assertTensor(W, 'W', [2]);
  const [C, d] = W.shape as [number, number];
  assertTensor(z, 'z');
  if (z.rank < 1 || z.shape[z.rank - 1] !== d) throw shapeError('z', `[..., d = ${d}] (W [C, d])`, fmtShape(z.shape));
  if (b !== undefined) {
    assertTensor(b, 'b', [1]);
    if (b.shape[0] !== C) throw shapeError('b', `[C = ${C}] (W [C, d])`, fmtShape(b.shape));
  }
  if (!(targets instanceof tf.Tensor)) throw configError('targets', 'an int32 tf.Tensor', typeof targets);
  if (targets.isDisposed) throw valueError('targets', 'a live tensor', 'a disposed tensor');
  if (targets.dtype !== 'int32') throw dtypeError('targets', 'dtype int32', targets.dtype);
  const lead = z.shape.slice(0, -1);
  if (targets.rank !== lead.length || targets.shape.some((n, i) => n !== lead[i]))
    throw shapeError('targets', `${fmtShape(lead)} (z's shape without its last axis)`, fmtShape(targets.shape));
}

/**
 * Output layer + masked cross-entropy + statistics: logits = z Wᵀ + b, the mean loss over positions with a target,
 * and [lossSum, correct, count]. z [..., d], W [C, d], b [C] or undefined, targets int32 z.shape[:-1] (negative =
 * no target). Targets ≥ C are refused where a kernel reads them (the host kernels and the reference).
 * @throws ShapeError / DtypeError / ConfigError naming z, W, b or targets.
 * @example
 * ```ts
 * const { loss, stats } = linearCrossEntropy(z, model.getParam('lm_head.weight'), model.getParam('lm_head.bias'), y);
 * ```
 */
export function linearCrossEntropy(
  z: Tensor,
  W: Tensor,
  b: Tensor | undefined,
  targets: Tensor,
): LinearCrossEntropyResult {
  checkArgs(z, W, b, targets);
  const kernel = resolveKernel<LinearCrossEntropyKernel>('linearCrossEntropy').impl;
  const out = tf.tidy(() => {
    const r = kernel(z, W, b, targets);
    return [r.loss, r.stats];
  });
  return { loss: out[0] as Scalar, stats: out[1] };
}

/**
 * Reference twin of {@link linearCrossEntropy}: logits, log-sum-exp and sums in float64, float32 tensors out.
 * Not differentiable.
 */
export function linearCrossEntropyRef(
  z: Tensor,
  W: Tensor,
  b: Tensor | undefined,
  targets: Tensor,
): LinearCrossEntropyResult {
  checkArgs(z, W, b, targets);
  const [C, d] = W.shape as [number, number];
  const zs = z.dataSync();
  const w = W.dataSync();
  const bs = b?.dataSync();
  const ys = targets.dataSync() as Int32Array;
  checkTargetIds(ys, C);
  const logits = new Float64Array(C);
  let lossSum = 0;
  let correct = 0;
  let count = 0;
  for (let r = 0; r < ys.length; r++) {
    const y = ys[r];
    if (y < 0) continue;
    let best = 0;
    for (let c = 0; c < C; c++) {
      let acc = bs ? bs[c] : 0;
      for (let i = 0; i < d; i++) acc += w[c * d + i] * zs[r * d + i];
      logits[c] = acc;
      if (acc > logits[best]) best = c;
    }
    const max = logits[best];
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(logits[c] - max);
    lossSum += max + Math.log(sum) - logits[y];
    if (best === y) correct += 1;
    count += 1;
  }
  return {
    loss: tf.scalar(lossSum / Math.max(count, 1), 'float32'),
    stats: tf.tensor1d([lossSum, correct, count], 'float32'),
  };
}
