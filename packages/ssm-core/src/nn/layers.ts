/**
 * Small functional layers on [batch, L, channels] tensors, with torch's parameter layouts
 * (Linear weight [out, in], depthwise Conv1d weight [channels, k]) so weights map 1:1 to
 * PyTorch checkpoints.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { isRecording, tf } from '../backend.js';
import { allFinite } from '../scan/validate.js';
import { sparseLinear, sparsePlan } from './sparseLinear.js';

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
  const plan = hostInference() ? sparsePlan(W) : undefined; // mostly-zero W (the analytic constructions): skip its zeros
  if (plan) {
    const xs = x.dataSync() as Float32Array;
    if (allFinite(xs)) return tf.tidy(() => sparseLinear(plan, xs, xs.length / inp, b?.dataSync() as Float32Array | undefined).reshape([...lead, out]));
  }
  const y = matMul2d(x.reshape([-1, inp]), W.transpose());
  return (b ? y.add(b) : y).reshape([...lead, out]);
}

/**
 * Causal depthwise conv and its activation (14b), torch `σ(Conv1d(c, c, k, groups=c, padding=k−1)[..., :L])`:
 * y[b, t, c] = σ(Σ_j W[c, j] · x[b, t − (k−1) + j, c] + bias[c]).   x [b, L, c], W [c, k].
 */
export function causalConv1d(x: Tensor, W: Tensor, bias?: Tensor, act: Activation = 'identity'): Tensor {
  if (hostInference()) return hostCausalConv1d(x, W, bias, act);
  const [b, L, c] = x.shape;
  const k = W.shape[1] as number;
  const xp = tf.pad(x, [[0, 0], [k - 1, 0], [0, 0]]);
  let y: Tensor | undefined;
  for (let j = 0; j < k; j++) {
    const term = xp.slice([0, j, 0], [b, L, c]).mul(W.slice([0, j], [c, 1]).reshape([c]));
    y = y ? y.add(term) : term;
  }
  return activate(bias ? y!.add(bias) : y!, act);
}

/** σ on one value, as {@link activate} (NaN stays NaN). */
const HOST_ACT: Record<Activation, (v: number) => number> = {
  silu: (v) => v / (1 + Math.exp(-v)),
  relu: (v) => (v < 0 ? 0 : v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  identity: (v) => v,
};

/**
 * The same sum as {@link causalConv1d} on the host (wasm/cpu, no gradient tape): taps in order, the bias, then σ,
 * in float64. When x is mostly exact zeros (a one-hot or JL embedding: ~90 %), every output starts as σ(bias) — the
 * value of the sum when all its k inputs are 0 — and only the outputs a nonzero input reaches are computed.
 */
function hostCausalConv1d(x: Tensor, W: Tensor, bias: Tensor | undefined, act: Activation): Tensor {
  const [b, L, c] = x.shape as [number, number, number];
  const k = W.shape[1] as number;
  const xs = x.dataSync() as Float32Array;
  const w = Float64Array.from(W.dataSync()); // [c, k]
  const bs = bias ? Float64Array.from(bias.dataSync()) : new Float64Array(c);
  const f = HOST_ACT[act];
  const y = new Float32Array(b * L * c);
  const at = (o: number, t: number, ch: number) => { // y at flat offset o = (i·L + t)·c, channel ch
    let acc = 0;
    for (let j = Math.max(0, k - 1 - t); j < k; j++) acc += w[ch * k + j] * xs[o + (j - (k - 1)) * c + ch]; // x[t − (k−1) + j]; before t = 0: padding
    y[o + ch] = f(acc + bs[ch]);
  };
  if (!mostlyZero(xs) || !allFinite(w)) { // dense (or 0 · ∞ possible): every output
    for (let o = 0, r = 0; r < b * L; r++, o += c) {
      const j0 = Math.max(0, k - 1 - (r % L));
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let j = j0; j < k; j++) acc += w[ch * k + j] * xs[o + (j - (k - 1)) * c + ch]; // at() written out: calling it here ran 2× slower
        y[o + ch] = f(acc + bs[ch]);
      }
    }
    return tf.tensor3d(y, [b, L, c]);
  }
  const rest = Float32Array.from(bs, (v) => f(0 + v)); // σ(0 + bias), as the sum of zeros gives it
  for (let r = 0; r < b * L; r++) y.set(rest, r * c);
  for (let i = 0; i < b; i++) {
    for (let t = 0; t < L; t++) {
      const o = (i * L + t) * c;
      for (let ch = 0; ch < c; ch++) {
        if (xs[o + ch] === 0) continue;
        for (let t2 = t; t2 < Math.min(L, t + k); t2++) at(o + (t2 - t) * c, t2, ch); // the outputs x[t] feeds
      }
    }
  }
  return tf.tensor3d(y, [b, L, c]);
}

/** Are ≥ 3/4 of x exact zeros, judging by ≤ 4096 evenly spaced entries? (Only speed depends on the answer.) */
function mostlyZero(xs: Float32Array): boolean {
  const step = Math.max(1, Math.floor(xs.length / 4096));
  let zeros = 0;
  let seen = 0;
  for (let i = 0; i < xs.length; i += step, seen++) if (xs[i] === 0) zeros++;
  return zeros >= 0.75 * seen;
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
