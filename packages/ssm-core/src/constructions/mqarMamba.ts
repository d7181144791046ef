/**
 * Thm. 2 (App. C.1, paper l. 3123–3527): a 1-layer Mamba without gating solves MQAR with κ pairs,
 * state size N = κ and embedding size d = κ + |V| (Step 1, one-hot) or d = κ + O(log|V|) (Step 2, JL).
 *
 * Notation / shapes (token layout in ./mqarOptions.ts)
 *   channels [0, κ): keys (one-hot e_i, scale k)   channels [κ, κ+q): values, q = |V| (one-hot) or p (JL)
 *   d = κ + q, N = κ: state column i holds the value stored under key i (52)
 *   conv (54): x̂_t = ReLU(c0 x_{t−1} + c1 x_t − b), kernel 2, left padding 0
 *     block layout: conv1d.weight[c] = [c0, c1] (tap 0 multiplies x_{t−1}, tap 1 the current x_t)
 *   SSM (58): Λ = 0 (A_log = −∞), Δ_t = 1 (dt bias softplus⁻¹(1)), B_t = C_t = W_k x̂_t = x̂_t[0:κ]
 *   output (59) / (72): logits = W_o y_t (+ b_o)
 * Step 1 constants (56): v = 1, k = 2, c0 = 1, c1 = 2, b = 1.
 * Step 2 constants: (70) β = 2, k = 10, c1 = 10, b = 3, but c0 = 5/16 instead of 1 — see below.
 *
 * Reading the proof against the block, two details are made exact here:
 *  - The shift-undo bias (72) (l. 3517–3523) must carry the query's C_t scale: at a query preceded by a value,
 *    y = (c1k − b)(c0k − b)(c1 v̄ + s), so b_o = −(c1k − b)(c0k − b) W_o s (the paper writes
 *    −(c0k − b) W_o s, dropping C_t's factor c1k − b).
 *  - At a key–key query (k_l, k_i) (64)–(66) (l. 3399–3412), C_t also reads column l with weight
 *    δ = c0k − b, which adds δ²(c1 M e_{j(l)} + s) to y, and its shift s is not undone by the bias. With
 *    K = c1k − b and h ≥ 1 the Hamming distance between the sign patterns of two value codes
 *    (1 − ⟨M e_j, M e_j*⟩ = 2h/p, |⟨M e_j − M e_j*, 1_p⟩| ≤ 2h/√p), the margin of the right class is
 *    ≥ (2h/p)·δ·(K c1 − δ c1 − δ s √p), so every instance is answered exactly if the codes are distinct
 *    and √p < (K c1/δ − c1)/s. (70) (l. 3467) gives √p < 7.6, i.e. p ≤ 57 — Lem. 4's default p exceeds
 *    that once |V| ≥ 18 (a failure then needs rare code alignments; we found none). c0 = 5/16,
 *    another point of (69) (c0k = 3.125 > b, c0 v_max ≤ 15/16 ≤ b), makes δ = 1/8 and the bound
 *    p < 2·10⁵: the "c0 ≪ c1" of (66) / l. 3508, made quantitative.
 * The construction answers a key's query from the pair region; like eq. (46) it assumes each key is
 * queried once (a (k_i, v×) pair after k_i's query writes v× into column i).
 */
import type { MambaConfig } from '../models/mamba.js';
import { softplusInverse } from '../math.js';
import { checkWeightCount, log2ceil, makeConstruction, Weights, type Construction } from './common.js';
import { columnSums, jlInfo, type JlEmbedding, type ResolvedMqar } from './mqarOptions.js';

/** (56): one-hot scales and conv parameters. */
export const THM2_STEP1 = { v: 1, k: 2, c0: 1, c1: 2, b: 1 } as const;
/** (70) with c0 = 5/16 (see the header): value shift β, key scale k, conv c0, c1, b. */
export const THM2_STEP2 = { beta: 2, k: 10, c0: 5 / 16, c1: 10, b: 3 } as const;

function mambaConfig(K: number, V: number, q: number, jl: boolean): MambaConfig {
  return {
    vocabSize: K + V,
    numClasses: V,
    dModel: K + q,
    dState: K,
    mixer: 's6',
    conv: { kernelSize: 2, activation: 'relu' },
    gate: false,
    positionalEncoding: false,
    discretization: 'euler',
    dtRank: 1,
    skip: false,
    outputBias: jl,
  };
}

/** Embedding (53) / (67): k_i ↦ k e_i, v_j ↦ v e_{κ+j} (one-hot) or M e_j + β 1_p on the value channels (JL). */
function setEmbedding(w: Weights, K: number, V: number, jl?: JlEmbedding): void {
  const k = jl ? THM2_STEP2.k : THM2_STEP1.k;
  for (let i = 0; i < K; i++) w.set('embedding.weight', i, i, k);
  for (let j = 0; j < V; j++) {
    if (!jl) w.set('embedding.weight', K + j, K + j, THM2_STEP1.v);
    else for (let r = 0; r < jl.p; r++) w.set('embedding.weight', K + j, K + r, jl.M[r * V + j] + THM2_STEP2.beta);
  }
}

/** Convolution (54) with c0 = c0·1, c1 = c1·1, b = b·1, σ = ReLU. */
function setConv(w: Weights, d: number, jl: boolean): void {
  const { c0, c1, b } = jl ? THM2_STEP2 : THM2_STEP1;
  for (let c = 0; c < d; c++) {
    w.set('mixer.conv1d.weight', c, 0, c0);
    w.set('mixer.conv1d.weight', c, 1, c1);
    w.set('mixer.conv1d.bias', c, 0, -b);
  }
}

/** SSM (58): Λ = 0, Δ = 1, B(x̂) = C(x̂) = W_k x̂ = [I_κ | 0] x̂. x_proj rows: [Δ (rank 1) | B (κ) | C (κ)]. */
function setSsm(w: Weights, K: number): void {
  w.fill('mixer.A_log', -Infinity);
  w.fill('mixer.dt_proj.bias', softplusInverse(1));
  for (let i = 0; i < K; i++) {
    w.set('mixer.x_proj.weight', 1 + i, i, 1);
    w.set('mixer.x_proj.weight', 1 + K + i, i, 1);
  }
}

/** Output (59): W_o rows v_j^T (one-hot), or (72): W_o = [0 | M_vᵀ] with the shift-undo bias. */
function setOutput(w: Weights, K: number, V: number, jl?: JlEmbedding): void {
  if (!jl) {
    for (let j = 0; j < V; j++) w.set('lm_head.weight', j, K + j, THM2_STEP1.v);
    return;
  }
  const { k, c0, c1, b, beta } = THM2_STEP2;
  const shift = c1 * beta - b; // s = (c1β − b) 1_p, (71a)
  const scale = (c1 * k - b) * (c0 * k - b); // C_t scale × B_t scale at a (v, k_i) query
  const sums = columnSums(jl);
  for (let j = 0; j < V; j++) {
    for (let r = 0; r < jl.p; r++) w.set('lm_head.weight', j, K + r, jl.M[r * V + j]);
    w.set('lm_head.bias', j, 0, -scale * shift * sums[j]);
  }
}

/** Thm. 2: MQAR with the Mamba (S6) block, no gate, N = κ. */
export function mqarMambaConstruction(o: ResolvedMqar): Construction {
  const { K, V, jlValues: jl } = o;
  const q = jl ? jl.p : V;
  const config = mambaConfig(K, V, q, Boolean(jl));
  checkWeightCount(config, 'options.numKeys/vocabSize');
  const w = new Weights(config);
  setEmbedding(w, K, V, jl);
  setConv(w, K + q, Boolean(jl));
  setSsm(w, K);
  setOutput(w, K, V, jl);
  return makeConstruction({
    theorem: 'Thm. 2',
    name: `MQAR · Mamba (S6, no gate) · ${jl ? `JL p=${jl.p}` : 'one-hot'}`,
    config,
    weights: w,
    decoder: 'argmax',
    dims: {
      d: K + q,
      N: K,
      bound: {
        d: jl ? { expr: 'O(κ + log|V|)', nominal: K + log2ceil(V) } : { expr: 'κ + |V| (Step 1)', nominal: K + V },
        N: { expr: 'κ', nominal: K },
      },
      jl: jl ? { values: jlInfo(jl) } : undefined,
    },
  });
}
