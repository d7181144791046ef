/**
 * `causalConv1d` — the short causal depthwise convolution and its activation (Eq. 14b), torch's
 * `σ(Conv1d(c, c, k, groups=c, padding=k−1)(x)[..., :L])` on [b, L, c] data, and its reference twin.
 *   y[b, t, c] = σ(Σ_j W[c, j] · x[b, t − (k−1) + j, c] + bias[c])      x [b, L, c], W [c, k], bias [c] → y [b, L, c]
 * Kernels: generic = k shifted multiply-adds of tf ops (differentiable, any backend); host (inference only) =
 * kernels/cpu/causalConv1d.ts.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, fmtShape, shapeError } from '../errors.js';
import type { Activation } from './core/types.js';
import { assertTensor } from './core/validate.js';
import { HOST_ACT, hostCausalConv1d } from './kernels/cpu/causalConv1d.js';
import { registerHostAndGeneric, resolveKernel } from './registry.js';

type ConvKernel = (x: Tensor, W: Tensor, bias: Tensor | undefined, act: Activation) => Tensor;

/** σ ∈ {silu, relu, identity, sigmoid} on a tensor (Tab. 2's pointwise nonlinearity). */
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

function genericConv(x: Tensor, W: Tensor, bias: Tensor | undefined, act: Activation): Tensor {
  const [b, L, c] = x.shape;
  const k = W.shape[1] as number;
  const xp = tf.pad(x, [
    [0, 0],
    [k - 1, 0],
    [0, 0],
  ]);
  let y: Tensor | undefined;
  for (let j = 0; j < k; j++) {
    const term = xp.slice([0, j, 0], [b, L, c]).mul(W.slice([0, j], [c, 1]).reshape([c]));
    y = y ? y.add(term) : term;
  }
  return activate(bias ? y!.add(bias) : y!, act);
}

registerHostAndGeneric<ConvKernel>('causalConv1d', hostCausalConv1d, genericConv, { inferenceOnly: true });

function checkConv(x: Tensor, W: Tensor, bias: Tensor | undefined, act: Activation): void {
  assertTensor(x, 'x', [3]);
  assertTensor(W, 'W', [2]);
  const c = x.shape[2] as number;
  if (W.shape[0] !== c || (W.shape[1] as number) < 1)
    throw shapeError('W', `[channels = ${c}, k ≥ 1]`, fmtShape(W.shape));
  if (bias !== undefined) {
    assertTensor(bias, 'bias', [1]);
    if (bias.shape[0] !== c) throw shapeError('bias', `[channels = ${c}]`, fmtShape(bias.shape));
  }
  if (!(act in HOST_ACT)) throw configError('act', Object.keys(HOST_ACT).join(' | '), JSON.stringify(act));
}

/** σ(causal depthwise conv(x) + bias) (14b).  x [b, L, c], W [c, k] (torch's Conv1d weight squeezed), bias [c] → [b, L, c]. */
export function causalConv1d(x: Tensor, W: Tensor, bias?: Tensor, act: Activation = 'identity'): Tensor {
  checkConv(x, W, bias, act);
  const kernel = resolveKernel<ConvKernel>('causalConv1d').impl;
  return tf.tidy(() => kernel(x, W, bias, act));
}

/** Reference twin of {@link causalConv1d}: the dense sum in float64, float32 tensor out. Not differentiable. */
export function causalConv1dRef(x: Tensor, W: Tensor, bias?: Tensor, act: Activation = 'identity'): Tensor {
  checkConv(x, W, bias, act);
  const [b, L, c] = x.shape as [number, number, number];
  const k = W.shape[1] as number;
  const xs = x.dataSync();
  const w = W.dataSync();
  const bs = bias?.dataSync();
  const f = HOST_ACT[act];
  const y = new Float32Array(b * L * c);
  for (let i = 0; i < b; i++) {
    for (let t = 0; t < L; t++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let j = 0; j < k; j++) {
          const s = t - (k - 1) + j; // torch's left padding: x[s] = 0 for s < 0
          if (s >= 0) acc += w[ch * k + j] * xs[(i * L + s) * c + ch];
        }
        y[(i * L + t) * c + ch] = f(acc + (bs ? bs[ch] : 0));
      }
    }
  }
  return tf.tensor3d(y, [b, L, c]);
}
