/**
 * Host kernel of `linearCrossEntropy` (../../linearCrossEntropy.ts): z [M, d] (any leading shape), W [C, d], b [C],
 * targets int32 [M] (negative = no target).
 *
 * The forward is three tfjs kernels — logits = z Wᵀ (+ b) and P = softmax(logits), the backend's SIMD GEMM and
 * softmax (on wasm ~10× a JS loop of Math.exp) — read back once each; then one pass over the rows as typed arrays:
 * first argmax of the logits, loss −log P[y] (log-sum-exp of the logits in float64 where P[y] is below
 * {@link P_FLOOR}, so a confident wrong answer still gets its exact loss), and, under a gradient tape,
 * G = (P − e_y) / count written over P in place with its column sums ∂b; rows without a target are skipped (G = 0).
 * The backward scales G by ∂loss (1 in training: no copy) and takes ∂z = G W, ∂W = Gᵀ z (an explicit transpose:
 * tfjs-wasm's matMul is ~10× slower with a transpose flag).
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { isRecording } from '../../../policy.js';
import { checkTargetIds } from '../../core/validate.js';

interface Pass {
  lossSum: number;
  correct: number;
  count: number;
}

/** Below this, −log P[y] is taken from the logits (float32 softmax keeps ~7 digits only well above underflow). */
export const P_FLOOR = 1e-30;

/** log Σ_c exp(L[o + c]) in float64. */
function logSumExp(L: Float32Array, o: number, C: number): number {
  let max = -Infinity;
  for (let c = 0; c < C; c++) if (L[o + c] > max) max = L[o + c];
  let sum = 0;
  for (let c = 0; c < C; c++) sum += Math.exp(L[o + c] - max);
  return max + Math.log(sum);
}

/**
 * Per row with a target: loss and hit from logits L and softmax P [M, C]; where `db` is given, P becomes
 * G = (P − e_y) / count (0 on rows without a target) and db its column sums.
 */
function lossPass(L: Float32Array, P: Float32Array, ys: Int32Array, C: number, db?: Float64Array): Pass {
  let count = 0;
  for (let r = 0; r < ys.length; r++) if (ys[r] >= 0) count += 1;
  const inv = 1 / Math.max(count, 1);
  let lossSum = 0;
  let correct = 0;
  for (let r = 0; r < ys.length; r++) {
    const o = r * C;
    const y = ys[r];
    if (y < 0) {
      if (db) P.fill(0, o, o + C);
      continue;
    }
    let best = 0;
    let max = L[o];
    for (let c = 1; c < C; c++) {
      if (L[o + c] > max) {
        max = L[o + c];
        best = c;
      }
    }
    if (best === y) correct += 1;
    const py = P[o + y];
    lossSum += py >= P_FLOOR ? -Math.log(py) : logSumExp(L, o, C) - L[o + y];
    if (db) {
      for (let c = 0; c < C; c++) {
        const g = P[o + c] * inv;
        P[o + c] = g;
        db[c] += g;
      }
      P[o + y] -= inv;
      db[y] -= inv;
    }
  }
  return { lossSum, correct, count };
}

type Save = (ts: Tensor[]) => void;

/**
 * A tensor's data as a typed array this kernel may overwrite: wasm's `dataSync` copies out of its heap; other
 * backends may hand out a buffer they keep (cpu always), so those are copied.
 */
const ownData = (t: Tensor): Float32Array => {
  const a = t.dataSync() as Float32Array;
  return tf.getBackend() === 'wasm' ? a : new Float32Array(a);
};

/** logits and softmax [M, C] as typed arrays. */
function logitsAndSoftmax(z: Tensor, W: Tensor, b: Tensor | undefined, M: number): [Float32Array, Float32Array] {
  const [C, d] = W.shape as [number, number];
  const [lt, pt] = tf.tidy(() => {
    const mm = tf.matMul(z.reshape([M, d]), W.transpose());
    const logits = b ? mm.add(b) : mm;
    return [logits.reshape([M, C]), tf.softmax(logits)];
  });
  const out: [Float32Array, Float32Array] = [ownData(lt), ownData(pt)];
  tf.dispose([lt, pt]);
  return out;
}

export function hostLinearCrossEntropy(
  z: Tensor,
  W: Tensor,
  b: Tensor | undefined,
  targets: Tensor,
): { loss: Scalar; stats: Tensor } {
  const [C, d] = W.shape as [number, number];
  const M = targets.size;
  const ys = targets.dataSync() as Int32Array;
  checkTargetIds(ys, C);
  let pass: Pass;
  let loss: Scalar;
  if (!isRecording()) {
    const [L, P] = logitsAndSoftmax(z, W, b, M);
    pass = lossPass(L, P, ys, C);
    loss = tf.scalar(pass.lossSum / Math.max(pass.count, 1), 'float32');
  } else {
    const op = tf.customGrad(((...args: (Tensor | Save)[]) => {
      const save = args.pop() as Save;
      const [zz, ww, bb] = args as Tensor[];
      const [L, G] = logitsAndSoftmax(zz, ww, bb, M);
      const db = new Float64Array(C);
      pass = lossPass(L, G, ys, C, db);
      save([zz, ww]);
      return {
        value: tf.scalar(pass.lossSum / Math.max(pass.count, 1), 'float32'),
        gradFunc: (dy: Tensor, [zs, ws]: Tensor[]) => {
          const s = dy.dataSync()[0] as number;
          const Gs = s === 1 ? G : G.map((g) => g * s);
          const Gt = tf.tensor2d(Gs, [M, C]);
          const dz = tf.matMul(Gt, ws).reshape(zs.shape);
          const dW = tf.matMul(Gt.transpose(), zs.reshape([M, d]));
          return bb ? [dz, dW, tf.tensor1d(Float32Array.from(db, (g) => g * s))] : [dz, dW];
        },
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    loss = (b ? op(z, W, b) : op(z, W)) as Scalar;
  }
  return { loss, stats: tf.tensor1d([pass!.lossSum, pass!.correct, pass!.count], 'float32') };
}
