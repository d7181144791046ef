/**
 * Small functional layers on [batch, L, channels] tensors, with torch's parameter layouts
 * (Linear weight [out, in], depthwise Conv1d weight [channels, k]) so weights map 1:1 to
 * PyTorch checkpoints.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { isRecording, tf } from '../backend.js';

export type Activation = 'silu' | 'relu' | 'identity' | 'sigmoid';

/** σ ∈ {silu, relu, identity, sigmoid} (Tab. 2's pointwise nonlinearity). */
export function activate(x: Tensor, act: Activation): Tensor {
  switch (act) {
    case 'silu':
      return x.mul(tf.sigmoid(x));
    case 'relu':
      return tf.relu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'identity':
      return x;
  }
}

/**
 * 2-D a·b whose forward and backward only use untransposed matMuls (explicit transposes
 * instead): tfjs-wasm's matMul is 10–30× slower with transposeA/transposeB set, and the
 * built-in matMul gradient uses exactly those flags.
 */
export function matMul2d(a: Tensor, b: Tensor): Tensor {
  const op = tf.customGrad(((x: Tensor, y: Tensor, save: (ts: Tensor[]) => void) => {
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: Tensor, [xs, ys]: Tensor[]) => [tf.matMul(dy, ys.transpose()), tf.matMul(xs.transpose(), dy)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as Tensor;
}

/** y = x Wᵀ + b.  x [..., in], W [out, in] (torch layout), b [out] → [..., out]. */
export function linear(x: Tensor, W: Tensor, b?: Tensor): Tensor {
  const [out, inp] = W.shape;
  const lead = x.shape.slice(0, -1);
  const y = matMul2d(x.reshape([-1, inp]), W.transpose());
  return (b ? y.add(b) : y).reshape([...lead, out]);
}

/**
 * Causal depthwise conv, torch `Conv1d(c, c, k, groups=c, padding=k−1)[..., :L]`:
 * y[b, t, c] = Σ_j W[c, j] · x[b, t − (k−1) + j, c] + bias[c].   x [b, L, c], W [c, k].
 */
export function causalConv1d(x: Tensor, W: Tensor, bias?: Tensor): Tensor {
  if (hostInference()) return hostCausalConv1d(x, W, bias);
  const [b, L, c] = x.shape;
  const k = W.shape[1] as number;
  const xp = tf.pad(x, [[0, 0], [k - 1, 0], [0, 0]]);
  let y: Tensor | undefined;
  for (let j = 0; j < k; j++) {
    const term = xp.slice([0, j, 0], [b, L, c]).mul(W.slice([0, j], [c, 1]).reshape([c]));
    y = y ? y.add(term) : term;
  }
  return bias ? y!.add(bias) : y!;
}

/** The same sum as {@link causalConv1d} in one host pass (wasm/cpu, no gradient tape): taps in order, then the bias. */
function hostCausalConv1d(x: Tensor, W: Tensor, bias?: Tensor): Tensor {
  const [b, L, c] = x.shape as [number, number, number];
  const k = W.shape[1] as number;
  const xs = x.dataSync() as Float32Array;
  const w = W.dataSync() as Float32Array; // [c, k]
  const bs = bias ? (bias.dataSync() as Float32Array) : undefined;
  const y = new Float32Array(b * L * c);
  const wT = new Float64Array(k * c); // [k, c]: tap-major, so the inner loop runs over contiguous channels
  for (let ch = 0; ch < c; ch++) for (let j = 0; j < k; j++) wT[j * c + ch] = w[ch * k + j];
  const acc = new Float64Array(c);
  for (let i = 0; i < b; i++) {
    for (let t = 0; t < L; t++) {
      const o = (i * L + t) * c;
      acc.fill(0);
      for (let j = Math.max(0, k - 1 - t); j < k; j++) {
        const xo = o + (j - (k - 1)) * c; // x[t − (k−1) + j]
        for (let ch = 0; ch < c; ch++) acc[ch] += wT[j * c + ch] * xs[xo + ch];
      }
      if (bs) for (let ch = 0; ch < c; ch++) y[o + ch] = acc[ch] + bs[ch];
      else y.set(acc, o);
    }
  }
  return tf.tensor3d(y, [b, L, c]);
}

/** [b, L, c] ↔ [b, c, L] (model layout ↔ selective-scan layout). */
export const toChannelsFirst = (x: Tensor) => x.transpose([0, 2, 1]);
export const toTimeFirst = (x: Tensor) => x.transpose([0, 2, 1]);

/** Backends computing in this process's memory, where tfjs's Gather kernel is the slow path (wasm: ~20× a copy loop). */
const HOST_BACKENDS = new Set(['wasm', 'cpu']);

/** Inference on a host backend: a typed-array loop beats a chain of small tf ops, and no gradient is needed. */
export function hostInference(): boolean {
  return HOST_BACKENDS.has(tf.getBackend()) && !isRecording();
}

/**
 * Rows of a 2-D tensor: x [n, e], idx int32 [...] → [..., e]. Copies on the host for wasm/cpu (fast), tf.gather
 * elsewhere. For inference: on host backends the result is a new tensor, so no gradient flows back to x.
 */
export function gatherRows(x: Tensor, idx: Tensor): Tensor {
  return HOST_BACKENDS.has(tf.getBackend()) ? hostGather(x, idx) : tf.gather(x, idx);
}

/** W[tokens] by copying rows on the host: W [V, e], tokens int32 [...] → [..., e]. */
function hostGather(W: Tensor, tokens: Tensor): Tensor {
  const [, e] = W.shape as [number, number];
  const w = W.dataSync() as Float32Array;
  const ids = tokens.dataSync() as Int32Array;
  const out = new Float32Array(ids.length * e);
  for (let i = 0; i < ids.length; i++) out.set(w.subarray(ids[i] * e, ids[i] * e + e), i * e);
  return tf.tensor(out, [...tokens.shape, e], 'float32');
}

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
      gradFunc: (dy: Tensor, [tok]: Tensor[]) => tf.matMul(tf.oneHot(tok.reshape([b * L]), V).transpose(), dy.reshape([b * L, e])),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(W) as Tensor;
}
