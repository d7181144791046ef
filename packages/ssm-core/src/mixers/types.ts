/**
 * Mixer interface. A mixer maps the conv output x̂ [b, L, d] (and the raw embedding x, used by
 * Mamba-2's own projections) to y [b, L, d] through an SSM (paper Tab. 2, Eq. 14a–14g, 15).
 *
 * Shape glossary: b batch, L length, d model width (= SSM channels; expand factor 1 as in
 * Tab. 2), N state size, R rank of the Δ projection (mamba_ssm's dt_rank).
 */
import type { Tensor } from '@tensorflow/tfjs';
import type { Activation } from '../nn/layers.js';
import type { ParamSpec } from '../nn/params.js';
import type { BDiscretization } from '../scan/types.js';

export type MixerKind = 's4d' | 's6' | 'mamba2' | 'mambaDeltaT' | 'linearAttention';

export interface MixerContext {
  d: number;
  N: number;
  /** Rank of the Δ projection (S6). */
  dtRank: number;
  disc: BDiscretization;
  /** Short causal conv settings, or false when off. Mamba-2 applies them to its three convs. */
  conv: false | { kernelSize: number; activation: Activation };
  /** Include the D skip term. */
  skip: boolean;
  impl?: 'auto' | 'fused' | 'tensor';
}

/** What the SSM saw, in model layout, for plots and analysis. */
export interface MixerInternals {
  /** Δ̄_t after softplus: [b, L, d] (S6, Mamba-2 broadcast), [b, L, N] (Mamba-Δ⊤); S4D/linear attention: absent (Δ ≡ 1). */
  delta?: Tensor;
  /** B_t, C_t: [b, L, N] (input-dependent) or [d, N] / [N] (fixed). */
  B?: Tensor;
  C?: Tensor;
  /** Decay exp(Δ̄ ⊙ A): the factor multiplying h_{t−1}. [b, L, d, N] (S6, Δ⊤), [b, L] (Mamba-2, scalar), [d, N] (S4D, time-invariant). */
  decay?: Tensor;
  /** Final hidden state [b, d, N]. */
  lastState?: Tensor;
}

export interface Mixer {
  kind: MixerKind;
  /** True when the mixer runs its own convolutions on the raw input (Mamba-2, Eq. 14b). */
  ownsConv: boolean;
  specs(ctx: MixerContext): ParamSpec[];
  /** `p(name)` returns the parameter `mixer.<name>`. */
  forward(p: (name: string) => Tensor, xhat: Tensor, x: Tensor, ctx: MixerContext, withInternals: boolean): { y: Tensor; internals: MixerInternals };
}
