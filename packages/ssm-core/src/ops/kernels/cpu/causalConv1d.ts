/**
 * The causal depthwise conv of ../../causalConv1d.ts on the host (wasm / cpu / tfjs-node inference, no gradient
 * tape): taps in order, the bias, then σ, in float64. When x is mostly exact zeros (a one-hot or JL embedding:
 * ~90 %; flags CONV_ZERO_FRACTION, CONV_ZERO_SAMPLE), every output starts as σ(bias) — the value of the sum when
 * all its k inputs are 0 — and only the outputs a nonzero input reaches are computed.
 *   x [b, L, c], W [c, k], bias [c] → y [b, L, c]
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { sigmoid, silu } from '../../../math.js';
import { getFlag } from '../../../policy.js';
import { allFinite } from '../../../validate.js';
import type { Activation } from '../../core/types.js';

/** σ on one value, as the tensor activation (NaN stays NaN). */
export const HOST_ACT: Record<Activation, (v: number) => number> = {
  silu,
  relu: (v) => (v < 0 ? 0 : v),
  sigmoid,
  identity: (v) => v,
};

export function hostCausalConv1d(x: Tensor, W: Tensor, bias: Tensor | undefined, act: Activation): Tensor {
  const [b, L, c] = x.shape as [number, number, number];
  const k = W.shape[1] as number;
  const xs = x.dataSync() as Float32Array;
  const w = Float64Array.from(W.dataSync()); // [c, k]
  const bs = bias ? Float64Array.from(bias.dataSync()) : new Float64Array(c);
  const f = HOST_ACT[act];
  const y = new Float32Array(b * L * c);
  const at = (o: number, t: number, ch: number) => {
    // y at flat offset o = (i·L + t)·c, channel ch
    let acc = 0;
    for (let j = Math.max(0, k - 1 - t); j < k; j++) acc += w[ch * k + j] * xs[o + (j - (k - 1)) * c + ch]; // x[t − (k−1) + j]; before t = 0: padding
    y[o + ch] = f(acc + bs[ch]);
  };
  if (!mostlyZero(xs) || !allFinite(w)) {
    // dense (or 0 · ∞ possible): every output
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
/** Is at least the share CONV_ZERO_FRACTION of x exact zeros? (Only speed depends on the answer.) */
function mostlyZero(xs: Float32Array): boolean {
  const step = Math.max(1, Math.floor(xs.length / getFlag('CONV_ZERO_SAMPLE'))); // at most CONV_ZERO_SAMPLE entries judge x
  let zeros = 0;
  let seen = 0;
  for (let i = 0; i < xs.length; i += step, seen++) if (xs[i] === 0) zeros++;
  return zeros >= getFlag('CONV_ZERO_FRACTION') * seen;
}
