import { linearAttention } from './linearAttention.js';
import { mamba2 } from './mamba2.js';
import { mambaDeltaT } from './mambaDeltaT.js';
import { s4d } from './s4d.js';
import { s6 } from './s6.js';
import type { Mixer, MixerKind } from './types.js';

/** Every mixer by kind: S4D, S6 (Mamba), Mamba-2, Mamba-Δ⊤ (Eq. 15), linear attention (Λ = I). */
export const MIXERS: Record<MixerKind, Mixer> = { s4d, s6, mamba2, mambaDeltaT, linearAttention };
export type { Mixer, MixerContext, MixerInternals, MixerKind, MixerOutput } from './types.js';
