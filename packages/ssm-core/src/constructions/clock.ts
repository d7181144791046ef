/**
 * Prop. 1 (App. A.2, paper l. 1942–1957): a 1-layer Mamba recovers absolute time from an all-ones
 * input. With λ ≡ 0 and B ≡ 1 the basis (8) is constant and the state integrates the input:
 *   h_t = Σ_{s=1..t} x_s = t                                                    (24), discrete form
 *
 * Notation / shapes: one token id 0 whose embedding is the scalar 1 (the all-ones input);
 *   d = 1 channel, N = 1 state; tokens [b, L] (all 0) → predictions [b, L] = t = 1 … L.
 * Block: S6, no conv, no gate, Λ = 0 (A_log = −∞), B_t = C_t = x̂_t = 1, B discretisation
 * 'identity' (B̄ = B: (24) has no Δ on the input), output = the state itself (one logit, no bias).
 * With λ = 0 the decay e^{λΔ} is 1 whatever Δ is; Δ's weights are left at 0.
 */
import type { MambaConfig } from '../models/mamba.js';
import { makeConstruction, Weights, type Construction } from './common.js';

function clockConfig(): MambaConfig {
  return {
    vocabSize: 1,
    numClasses: 1,
    dModel: 1,
    dState: 1,
    mixer: 's6',
    conv: false,
    gate: false,
    positionalEncoding: false,
    discretization: 'identity',
    dtRank: 1,
    skip: false,
    outputBias: false,
  };
}

/**
 * Prop. 1 (Eq. 24): an S6 block with λ = 0, B = C = 1 on the all-ones input (token id 0) outputs absolute time.
 * predict(all-zero token ids [b][L]) → t at position t (1-based), exactly in float32 up to 2^24.
 */
export function clockConstruction(): Construction {
  const config = clockConfig();
  const w = new Weights(config);
  w.set('embedding.weight', 0, 0, 1); // x_t ≡ 1
  w.set('mixer.A_log', 0, 0, -Infinity); // λ = 0
  w.set('mixer.x_proj.weight', 1, 0, 1); // B_t = x_t = 1
  w.set('mixer.x_proj.weight', 2, 0, 1); // C_t = x_t = 1
  w.set('lm_head.weight', 0, 0, 1); // read h_t
  return makeConstruction({
    theorem: 'Prop. 1',
    name: 'clock · S6, λ = 0, B = 1, all-ones input',
    config,
    weights: w,
    decoder: 'value',
    dims: { d: 1, N: 1, bound: { d: { expr: '1 (scalar input)', nominal: 1 }, N: { expr: '1', nominal: 1 } } },
  });
}
