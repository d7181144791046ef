/**
 * Mixer interface. A mixer maps the block input x [b, L, d] (the embedding) to y [b, L, d]: it applies its own
 * short causal convolution (Eq. 14b; one `conv1d` for S6, S4D, Mamba-Δ⊤ and linear attention, three for
 * Mamba-2) and then its SSM (paper Tab. 2, Eq. 14a–14g, 15).
 *
 * Shape glossary: b batch, L length, d model width (= SSM channels; expand factor 1 as in
 * Tab. 2), N state size, R rank of the Δ projection (mamba_ssm's dt_rank).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { ParamSpec } from '../nn/params.js';
import type { Activation, BDiscretization } from '../ops/core/types.js';

export type MixerKind = 's4d' | 's6' | 'mamba2' | 'mambaDeltaT' | 'linearAttention';

export interface MixerContext {
  /** Channels d (d_inner of the block). */
  d: number;
  /** State size N. */
  N: number;
  /** Rank of the Δ projection (S6). */
  dtRank: number;
  /** Discretisation of B ('euler', 'zoh' or 'identity'). */
  disc: BDiscretization;
  /** Short causal conv settings, or false when off. Mamba-2 applies them to its three convs. */
  conv: false | { kernelSize: number; activation: Activation };
  /** Include the D skip term. */
  skip: boolean;
  /** Scan kernel to use (default auto). */
  impl?: 'auto' | 'fused' | 'tensor';
}

/** What the SSM saw, in model layout, for plots and analysis. */
export interface MixerInternals {
  /** Δ̄_t after softplus: [b, L, d] (S6, Mamba-2 broadcast), [b, L, N] (Mamba-Δ⊤); S4D/linear attention: absent (Δ ≡ 1). */
  delta?: Tensor;
  /** B_t, C_t: [b, L, N] (input-dependent) or [d, N] / [N] (fixed). */
  B?: Tensor;
  /** See `B`. */
  C?: Tensor;
  /** Decay exp(Δ̄ ⊙ A): the factor multiplying h_{t−1}. [b, L, d, N] (S6, Δ⊤), [b, L] (Mamba-2, scalar), [d, N] (S4D, time-invariant). */
  decay?: Tensor;
  /** Final hidden state [b, d, N]. */
  lastState?: Tensor;
}

/** What a mixer's forward returns. */
export interface MixerOutput {
  /** y [b, L, d], before the block's gate. */
  y: Tensor;
  /**
   * x̂ [b, L, d], the SSM's input after the conv and σ (14b); x itself with the conv off. Mamba-2 convolves
   * inside its three projections and reports its block input x here.
   */
  xhat: Tensor;
  /** Δ̄, B, C, the decay and the last state, for the plots (filled when asked for). */
  internals: MixerInternals;
}

export interface Mixer {
  /** Which mixer this is. */
  kind: MixerKind;
  /** Its parameters (conv first when on), named without the `mixer.` prefix, in a fixed order. */
  specs(ctx: MixerContext): ParamSpec[];
  /** x [b, L, d] → y [b, L, d] (conv, then SSM). `p(name)` returns the parameter `mixer.<name>`. */
  forward(p: (name: string) => Tensor, x: Tensor, ctx: MixerContext, withInternals: boolean): MixerOutput;
}
