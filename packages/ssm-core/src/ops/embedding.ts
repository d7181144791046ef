/**
 * `embedding` — rows of an embedding table with an optional position column, and its reference twin:
 *   W [V, e], tokens int32 [b, L] (ids in [0, V)), positionScale s (optional)
 *   → x [b, L, e] = W[tokens], or x [b, L, e + 1] = [W[tokens], s·t] with t = 1..L
 *     (Tab. 1's PE in the last coordinate)
 * differentiable in W: ∂W[v] = Σ_{(i, t): tokens[i, t] = v} ∂x[i, t, :e] (the position column has no parameter).
 *
 * Kernels: generic = gather + concat of a broadcast range (tf ops; the gradient a one-hot matMul, as
 * nn/layers.ts's `embeddingLookup`: tfjs-wasm has no UnsortedSegmentSum); host = one copy loop forward and one
 * scatter-add loop backward over typed arrays; webgpu = one WGSL program each way (kernels/webgpu/embedding.ts).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, dtypeError, fmtShape, shapeError, valueError } from '../errors.js';
import { assertTensor } from './core/validate.js';
import { gatherRows } from './gatherRows.js';
import { webgpuEmbedding } from './kernels/webgpu/embedding.js';
import { registerHostAndGeneric, registerKernel, resolveKernel } from './registry.js';

type EmbeddingKernel = (W: Tensor, tokens: Tensor, positionScale: number | undefined) => Tensor;

function genericEmbedding(W: Tensor, tokens: Tensor, positionScale: number | undefined): Tensor {
  const [V, e] = W.shape as [number, number];
  const [b, L] = tokens.shape as [number, number];
  const op = tf.customGrad(((w: Tensor, save: (ts: Tensor[]) => void) => {
    save([tokens]);
    return {
      value: gatherRows(w, tokens),
      gradFunc: (dy: Tensor, [tok]: Tensor[]) =>
        tf.matMul(tf.oneHot(tok.reshape([b * L]), V).transpose(), dy.reshape([b * L, e])),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const rows = op(W) as Tensor;
  if (positionScale === undefined) return rows;
  const t = tf
    .range(1, L + 1, 1, 'float32')
    .mul(positionScale)
    .reshape([1, L, 1]);
  return tf.concat([rows, tf.broadcastTo(t, [b, L, 1])], 2);
}

function hostEmbedding(W: Tensor, tokens: Tensor, positionScale: number | undefined): Tensor {
  const [V, e] = W.shape as [number, number];
  const [b, L] = tokens.shape as [number, number];
  const ids = tokens.dataSync() as Int32Array;
  const width = positionScale === undefined ? e : e + 1;
  const s32 = Math.fround(positionScale ?? 0); // the scale as the generic kernel's float32 multiply sees it
  const op = tf.customGrad(((w: Tensor) => {
    const ws = w.dataSync() as Float32Array;
    const x = new Float32Array(b * L * width);
    for (let i = 0; i < b * L; i++) {
      x.set(ws.subarray(ids[i] * e, ids[i] * e + e), i * width);
      if (positionScale !== undefined) x[i * width + e] = Math.fround(((i % L) + 1) * s32);
    }
    return {
      value: tf.tensor3d(x, [b, L, width]),
      gradFunc: (dy: Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const dW = new Float32Array(V * e);
        for (let i = 0; i < b * L; i++) {
          const o = ids[i] * e;
          const s = i * width;
          for (let j = 0; j < e; j++) dW[o + j] += g[s + j];
        }
        return tf.tensor2d(dW, [V, e]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(W) as Tensor;
}

registerHostAndGeneric<EmbeddingKernel>('embedding', hostEmbedding, genericEmbedding);
registerKernel<EmbeddingKernel>('embedding', 'webgpu', webgpuEmbedding, { host: false });

function checkArgs(W: Tensor, tokens: Tensor, positionScale: number | undefined, checkIds: boolean): void {
  assertTensor(W, 'W', [2]);
  if (!(tokens instanceof tf.Tensor)) throw configError('tokens', 'an int32 tf.Tensor [b, L]', typeof tokens);
  if (tokens.dtype !== 'int32') throw dtypeError('tokens', 'dtype int32', tokens.dtype);
  if (tokens.rank !== 2) throw shapeError('tokens', '[b, L]', fmtShape(tokens.shape));
  if (positionScale !== undefined && !Number.isFinite(positionScale))
    throw configError('positionScale', 'a finite number or undefined', String(positionScale));
  if (!checkIds) return;
  const V = W.shape[0];
  const ids = tokens.dataSync();
  const bad = ids.findIndex((i) => !(i >= 0 && i < V));
  if (bad >= 0)
    throw valueError('tokens', `ids in [0, ${V}) (W ${fmtShape(W.shape)})`, `${ids[bad]} at flat index ${bad}`);
}

/**
 * W[tokens], with the position column s·t (t = 1..L) appended when `positionScale` = s is given. W [V, e], tokens
 * int32 [b, L] → [b, L, e] or [b, L, e + 1]; differentiable in W. Ids are not range-checked here (models check
 * tokens once, `tokenTensor`); the reference twin checks them.
 */
export function embedding(W: Tensor, tokens: Tensor, positionScale?: number): Tensor {
  checkArgs(W, tokens, positionScale, false);
  const kernel = resolveKernel<EmbeddingKernel>('embedding').impl;
  return tf.tidy(() => kernel(W, tokens, positionScale));
}

/** Reference twin of {@link embedding} (plain indexing, position t·s computed in float64). Not differentiable. */
export function embeddingRef(W: Tensor, tokens: Tensor, positionScale?: number): Tensor {
  checkArgs(W, tokens, positionScale, true);
  const [, e] = W.shape as [number, number];
  const [b, L] = tokens.shape as [number, number];
  const w = W.dataSync();
  const ids = tokens.dataSync();
  const width = positionScale === undefined ? e : e + 1;
  const out = new Float32Array(b * L * width);
  for (let i = 0; i < b * L; i++) {
    for (let j = 0; j < e; j++) out[i * width + j] = w[ids[i] * e + j];
    if (positionScale !== undefined) out[i * width + e] = ((i % L) + 1) * positionScale;
  }
  return tf.tensor3d(out, [b, L, width]);
}
