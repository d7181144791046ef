/**
 * Lem. 3 (App. C.2, paper l. 4030–4257): a 1-layer Mamba with the Mamba-Δ⊤ mixer (15) solves
 * INDUCTION HEADS with embedding size d = 2|V| and state size N = |V|.
 *
 * Notation / shapes (token ids 0 … |V|−1 as in `tasks.inductionHeads`; 1-based time in comments)
 *   embedding (100): v ↦ [e_v; e_v] ∈ R^{2|V|}       channels [0, |V|): "key" half, [|V|, 2|V|): "value" half
 *   conv (101): x̂_i = c0 ⊙ x_{i−1} + c1 ⊙ x_i, c0 = [1; 0], c1 = [0; 1] → x̂_i = [e_{x_{i−1}}; e_{x_i}]
 *     (σ = ReLU is the identity on these nonnegative vectors, as noted under (101))
 *   Mamba-Δ⊤ (15), (102): Λ = −1 (A_log = 0), B(x̂) = [I | 0] x̂ = e_{x_{i−1}}, C(x̂) = [0 | I] x̂ = e_{x_i},
 *     Δ(x̂) = softplus(w_Δ [I | 0] x̂ − b_Δ) ∈ R^N, B discretisation 'identity' (B̄ = B, as in (15))
 *   state h ∈ R^{2|V|×|V|}: column j holds [e_j; e_{next}] for the latest occurrence of token j (110)
 *   output: logits_v = y[|V| + v] for v < |V| (W_o = [0 | I]), plus a blank logit = ½ (bias).
 *
 * Δ erases the key's column: at step i, column x_{i−1} decays by e^{−Δ} = e^{−(w_Δ − b_Δ)} ≈ 0 and
 * then receives x̂_i; all other columns keep e^{−softplus(−b_Δ)} = 1. The paper's (102a) has no bias,
 * but then the other columns get softplus(0) = ln 2 and halve at every step ((109) writes Δ = w_Δ e_j,
 * dropping softplus(0)); the bias b_Δ = w_Δ/2 makes (109) hold: Δ ≈ (w_Δ/2) e_j.
 *
 * Decoding rule: y_i = column x_i of the state = [e_{x_j}; e_{x_{j+1}}] for j = the latest position < i
 * with x_j = x_i, else 0. The |V| value logits are y's second half, the blank logit is the constant ½,
 * so argmax = x_{j+1}, or the blank class |V| when x_i has not occurred before; predict reports the
 * blank as −1.
 */
import type { MambaConfig } from '../models/mamba.js';
import { int, object } from '../validate.js';
import { checkWeightCount, makeConstruction, Weights, type Construction } from './common.js';

/** Options of {@link inductionHeadsConstruction}; errors name `options.<field>`. */
export interface InductionHeadsConstructionOptions {
  /** |V|, number of token ids, in [1, 4096]. */
  vocabSize: number;
}

/** w_Δ of (102a) and the bias b_Δ = w_Δ/2: erase factor e^{−50}, keep factor exp(−softplus(−50)) = 1. */
export const IH_W_DELTA = 100;

function ihConfig(V: number): MambaConfig {
  return {
    vocabSize: V,
    numClasses: V + 1,
    dModel: 2 * V,
    dState: V,
    mixer: 'mambaDeltaT',
    conv: { kernelSize: 2, activation: 'relu' },
    gate: false,
    positionalEncoding: false,
    discretization: 'identity',
    skip: false,
    outputBias: true,
  };
}

/** Embedding (100): v ↦ [e_v; e_v]. */
function setEmbedding(w: Weights, V: number): void {
  for (let v = 0; v < V; v++) {
    w.set('embedding.weight', v, v, 1);
    w.set('embedding.weight', v, V + v, 1);
  }
}

/** Concatenating convolution (101): the first half takes x_{i−1} (tap 0), the second half x_i (tap 1). */
function setConv(w: Weights, V: number): void {
  for (let c = 0; c < V; c++) {
    w.set('mixer.conv1d.weight', c, 0, 1);
    w.set('mixer.conv1d.weight', V + c, 1, 1);
  }
}

/** Mamba-Δ⊤ (102a–d): A_log = 0 (Λ = −1), x_proj = [B rows; C rows], Δ erases the key's column. */
function setSsm(w: Weights, V: number): void {
  for (let j = 0; j < V; j++) {
    w.set('mixer.x_proj.weight', j, j, 1); // B = [I | 0] x̂
    w.set('mixer.x_proj.weight', V + j, V + j, 1); // C = [0 | I] x̂
    w.set('mixer.dt_proj.weight', j, j, IH_W_DELTA); // w_Δ [I | 0] x̂
    w.set('mixer.dt_proj.bias', j, 0, -IH_W_DELTA / 2);
  }
}

/** Output W_o = [0 | I] on the value half; blank class |V| with a constant logit ½. */
function setOutput(w: Weights, V: number): void {
  for (let v = 0; v < V; v++) w.set('lm_head.weight', v, V + v, 1);
  w.set('lm_head.bias', V, 0, 0.5);
}

/**
 * Lem. 3 (App. C.2): INDUCTION HEADS with the Mamba-Δ⊤ mixer (Eq. 15), d = 2|V|, N = |V|. predict(tokens [b][L])
 * → the token after the latest previous occurrence of x_t, or −1 (blank) where x_t has not occurred before.
 * @throws ConfigError naming `options.vocabSize`.
 * @example
 * ```ts
 * const c = constructions.inductionHeadsConstruction({ vocabSize: 4 });
 * c.predict([[0, 1, 2, 0, 3, 2]]); // [[-1, -1, -1, 1, -1, 0]]
 * c.dispose();
 * ```
 */
export function inductionHeadsConstruction(options: InductionHeadsConstructionOptions): Construction {
  object(options, 'options', 'an object {vocabSize}');
  const V = int(options.vocabSize, 'options.vocabSize', 1, 2 ** 12, 'an integer in [1, 4096]');
  const config = ihConfig(V);
  checkWeightCount(config, 'options.vocabSize');
  const w = new Weights(config);
  setEmbedding(w, V);
  setConv(w, V);
  setSsm(w, V);
  setOutput(w, V);
  return makeConstruction({
    theorem: 'Lem. 3',
    name: 'INDUCTION HEADS · Mamba-Δ⊤ (Eq. 15)',
    config,
    weights: w,
    decoder: 'argmaxBlank',
    dims: { d: 2 * V, N: V, bound: { d: { expr: '2|V|', nominal: 2 * V }, N: { expr: '|V|', nominal: V } } },
  });
}
