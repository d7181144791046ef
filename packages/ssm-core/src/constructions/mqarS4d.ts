/**
 * Thm. 4 (App. C.1, paper l. 3691–4008): a 1-layer Mamba block with an S4D mixer (no input
 * selectivity) and the gate solves MQAR with state size N = 1 and embedding size d = κ|V| (Step 1,
 * one-hot) or d = O(κ log|V|) (Step 2, JL). The state is one long column cut into κ chunks; chunk i
 * holds the value paired with key i (78), and the gate picks the queried chunk (90).
 *
 * Notation / shapes (token layout in ./mqarOptions.ts)
 *   q = |V| (one-hot) or p (JL);  d = κq channels in κ blocks [iq, (i+1)q);  N = 1
 *   embedding (79)–(81) / (92)–(93): k_i ↦ k·1 on block i;  v_j ↦ v e_j (one-hot) or M e_j + β 1_p (JL), tiled on every block
 *   conv (82): ReLU(c0 x_{t−1} + c1 x_t − b), c0 = 10, c1 = 1, k = 10, b = k c0, v = 1, β = 1 ((94))
 *     → only a (k_i, v_j) pair survives: block i ← v_j's code (83) / (95); all other pairs ↦ 0 (85)–(87), (96)
 *   S4D (88): Λ = 1 (A_log = −∞), B = 1, C = 1, Δ ≡ 1: h_t = Σ_s x̂_s, one column
 *   gate (14g): σ(Linear(x)) with Linear = I and σ = identity, so ỹ = k_i ⊙ h_t = k·(block i of h_t) (90), (98)
 *   output (91) / (99): W_o rows [v_jᵀ … v_jᵀ] (one-hot e_j, JL (M e_j)ᵀ) on every block.
 * JL (Step 2): the paper rotates M so that the (|V|+1)-th JL vector is parallel to 1_p, to make the
 * β-shift's contribution ⟨M e_j, 1_p⟩ small (l. 3866–3868, (99)). A rotation keeps inner products but not
 * the ±1/√p entries the ReLU step needs (components in [0, 2], l. 3887, 3897); instead we keep M as drawn and
 * cancel the shift exactly with an output bias b_j = −kβ⟨M e_j, 1_p⟩ (the device of Thm. 2's (72)):
 * the gate passes exactly one block, so the shift is the same at every query. Then
 * logit_j = k⟨M e_j, M e_{j(i)}⟩, maximal at j(i) whenever the columns of M are distinct (ε < 1).
 */
import type { MambaConfig } from '../models/mamba.js';
import { checkWeightCount, log2ceil, makeConstruction, Weights, type Construction } from './common.js';
import { columnSums, jlInfo, type JlEmbedding, type ResolvedMqar } from './mqarOptions.js';

/** (94) (Step 1 uses the same k, v = 1, c0, c1, b; (83)–(87)). */
export const THM4 = { k: 10, v: 1, beta: 1, c0: 10, c1: 1, b: 100 } as const;

function s4dConfig(K: number, V: number, q: number, jl: boolean): MambaConfig {
  return {
    vocabSize: K + V,
    numClasses: V,
    dModel: K * q,
    dState: 1,
    mixer: 's4d',
    conv: { kernelSize: 2, activation: 'relu' },
    gate: { activation: 'identity' },
    positionalEncoding: false,
    discretization: 'euler',
    skip: false,
    outputBias: jl,
  };
}

/** Value code on one block: v e_j (one-hot) or M e_j + β 1_p (JL), component r. */
const valueCode = (jl: JlEmbedding | undefined, j: number, r: number) =>
  jl ? jl.M[r * jl.n + j] + THM4.beta : r === j ? THM4.v : 0;

/** Embedding (79)–(81) / (92)–(93). */
function setEmbedding(w: Weights, K: number, V: number, q: number, jl?: JlEmbedding): void {
  for (let i = 0; i < K; i++) for (let r = 0; r < q; r++) w.set('embedding.weight', i, i * q + r, THM4.k);
  for (let j = 0; j < V; j++) {
    for (let i = 0; i < K; i++)
      for (let r = 0; r < q; r++) w.set('embedding.weight', K + j, i * q + r, valueCode(jl, j, r));
  }
}

/** Convolution (82) with c0 = 10, c1 = 1, b = k c0 = 100, σ = ReLU. */
function setConv(w: Weights, d: number): void {
  for (let c = 0; c < d; c++) {
    w.set('mixer.conv1d.weight', c, 0, THM4.c0);
    w.set('mixer.conv1d.weight', c, 1, THM4.c1);
    w.set('mixer.conv1d.bias', c, 0, -THM4.b);
  }
}

/** S4D (88) with Λ = B = C = 1 (A_log = −∞ ⇒ e^{A} = 1): h_t = Σ_{s ≤ t} x̂_s. Gate (90): Linear = I. */
function setSsmAndGate(w: Weights, d: number): void {
  w.fill('mixer.A_log', -Infinity);
  w.fill('mixer.B', 1);
  w.fill('mixer.C', 1);
  for (let c = 0; c < d; c++) w.set('mixer.gate.weight', c, c, 1);
}

/** Output (91) / (99), plus the JL shift-undo bias −kβ⟨M e_j, 1_p⟩. */
function setOutput(w: Weights, K: number, V: number, q: number, jl?: JlEmbedding): void {
  for (let j = 0; j < V; j++) {
    for (let i = 0; i < K; i++)
      for (let r = 0; r < q; r++) w.set('lm_head.weight', j, i * q + r, jl ? jl.M[r * V + j] : r === j ? 1 : 0);
  }
  if (!jl) return;
  const sums = columnSums(jl);
  for (let j = 0; j < V; j++) w.set('lm_head.bias', j, 0, -THM4.k * THM4.beta * sums[j]);
}

/** Thm. 4: MQAR with an S4D mixer and the gate, N = 1. */
export function mqarS4dConstruction(o: ResolvedMqar): Construction {
  const { K, V, jlValues: jl } = o;
  const q = jl ? jl.p : V;
  const config = s4dConfig(K, V, q, Boolean(jl));
  checkWeightCount(config, 'options.numKeys/vocabSize');
  const w = new Weights(config);
  setEmbedding(w, K, V, q, jl);
  setConv(w, K * q);
  setSsmAndGate(w, K * q);
  setOutput(w, K, V, q, jl);
  return makeConstruction({
    theorem: 'Thm. 4',
    name: `MQAR · S4D + gate · ${jl ? `JL p=${jl.p}` : 'one-hot'}`,
    config,
    weights: w,
    decoder: 'argmax',
    dims: {
      d: K * q,
      N: 1,
      bound: {
        d: jl ? { expr: 'O(κ log|V|)', nominal: K * log2ceil(V) } : { expr: 'κ|V| (Step 1)', nominal: K * V },
        N: { expr: '1', nominal: 1 },
      },
      jl: jl ? { values: jlInfo(jl) } : undefined,
    },
  });
}
