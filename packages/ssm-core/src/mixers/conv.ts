/**
 * The one short causal conv (Eq. 14b) of the S6, S4D, Mamba-Δ⊤ and linear-attention mixers, as mamba_ssm's
 * `conv1d`: parameters `conv1d.weight` [d, k] and `conv1d.bias` [d], x̂ = σ(conv1d(x)) [b, L, d]; x̂ = x when off.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { convSpecs, type ParamSpec } from '../nn/params.js';
import { causalConv1d } from '../ops/causalConv1d.js';
import type { MixerContext } from './types.js';

/** The conv's parameters (none when the conv is off). */
export const conv1dSpecs = ({ d, conv }: MixerContext): ParamSpec[] =>
  conv ? convSpecs('conv1d', d, conv.kernelSize) : [];

/** x̂ = σ(conv1d(x)) (14b), or x when the conv is off.  x [b, L, d] → [b, L, d]. */
export function applyConv1d(p: (name: string) => Tensor, x: Tensor, { conv }: MixerContext): Tensor {
  return conv ? causalConv1d(x, p('conv1d.weight'), p('conv1d.bias'), conv.activation) : x;
}
