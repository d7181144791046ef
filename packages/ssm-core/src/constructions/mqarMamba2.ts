/**
 * Thm. 3 (App. C.1, paper l. 3530–3688): a 1-layer Mamba-2 without gating solves MQAR with three
 * independent short convolutions — conv_B shifts the sequence by one step, so B_t holds the previous
 * token's key and every (key, next token) pair is stored as an outer product (77):
 *   y_t = Σ_{s ≤ t} x_s ⟨W_k x_{s−1}, W_k x_t⟩
 *
 * Notation / shapes (token layout in ./mqarOptions.ts)
 *   channels [0, q_k): keys — one-hot e_i (q_k = κ) or M_k e_i (q_k = p_k, JL)
 *   channels [q_k, q_k + q_v): values — e_j (q_v = |V|) or M_v e_j (q_v = p_v, JL)
 *   d = q_k + q_v, N = q_k (B, C live in the key subspace, (75))
 *   Mamba-2 block (Tab. 2 right): in_proj_x/B/C [·, d] then conv_x/B/C [·, 2]; σ = identity, (74):
 *     x̂_t = conv_x(x)[t] = x_t   (taps [0, 1])      B_t = conv_B(W_k x)[t] = W_k x_{t−1}   (taps [1, 0])
 *     C_t = conv_C(W_k x)[t] = W_k x_t   (taps [0, 1])
 *   SSM (75): λ = 0 (A_log = −∞), Δ_t = 1 (dt weights 0, dt bias softplus⁻¹(1))
 *   output (76): W_o rows v_jᵀ restricted to the value channels, no bias.
 * One-hot (Step 1): exact, y_t = v_{j(i)} at the query of key i (as in eq. (46) each key is queried once).
 * JL (Step 2, l. 3648–3680): y_t = v_{j(i)} + Σ_{l≠i} ⟨k_l, k_i⟩ (value stored under l); correct while
 * that cross-talk stays below the margin — Remark 7 (l. 3682–3689) gives an input where it does not.
 * `dims.jl.guarantee` bounds the margin over every instance from the drawn codes ({@link mamba2JlGuarantee}):
 * exact when positive, else the construction holds with high probability over the instances only.
 * σ is the identity because (74) asks the convolutions to copy/shift signed JL vectors unchanged.
 */
import type { MambaConfig } from '../models/mamba.js';
import { softplusInverse } from '../math.js';
import {
  checkWeightCount,
  log2ceil,
  makeConstruction,
  Weights,
  type Construction,
  type JlGuarantee,
} from './common.js';
import { JL_EPSILON_MAX_N } from './jl.js';
import { jlInfo, type JlEmbedding, type ResolvedMqar } from './mqarOptions.js';

function mamba2Config(K: number, V: number, qk: number, qv: number): MambaConfig {
  return {
    vocabSize: K + V,
    numClasses: V,
    dModel: qk + qv,
    dState: qk,
    mixer: 'mamba2',
    conv: { kernelSize: 2, activation: 'identity' },
    gate: false,
    positionalEncoding: false,
    discretization: 'euler',
    skip: false,
    outputBias: false,
  };
}

/** Column j of an embedding block: one-hot e_j or the JL column M e_j. */
const code = (jl: JlEmbedding | undefined, j: number, r: number) => (jl ? jl.M[r * jl.n + j] : r === j ? 1 : 0);

/** Embedding (73), reduced by JL in Step 2: k_i ↦ e_i | M_k e_i on [0, q_k), v_j ↦ e_j | M_v e_j on [q_k, d). */
function setEmbedding(
  w: Weights,
  K: number,
  V: number,
  qk: number,
  qv: number,
  keys?: JlEmbedding,
  values?: JlEmbedding,
): void {
  for (let i = 0; i < K; i++) for (let r = 0; r < qk; r++) w.set('embedding.weight', i, r, code(keys, i, r));
  for (let j = 0; j < V; j++) for (let r = 0; r < qv; r++) w.set('embedding.weight', K + j, qk + r, code(values, j, r));
}

/** Convolutions (74): conv_x and conv_C copy the current step, conv_B the previous one; projections I and W_k. */
function setConvs(w: Weights, d: number, N: number): void {
  for (let c = 0; c < d; c++) {
    w.set('mixer.in_proj_x.weight', c, c, 1);
    w.set('mixer.conv_x.weight', c, 1, 1);
  }
  for (let n = 0; n < N; n++) {
    w.set('mixer.in_proj_B.weight', n, n, 1); // W_k = [I_N | 0]
    w.set('mixer.in_proj_C.weight', n, n, 1);
    w.set('mixer.conv_B.weight', n, 0, 1); // shift by one: B_t = W_k x_{t−1}
    w.set('mixer.conv_C.weight', n, 1, 1);
  }
}

/** SSM (75): λ = 0 and Δ = 1, so h_t = Σ_s x̂_s ⊗ B_s (a cumulative sum). */
function setSsm(w: Weights): void {
  w.fill('mixer.A_log', -Infinity);
  w.fill('mixer.dt_bias', softplusInverse(1));
}

/** Output (76): logit_j = ⟨v_j, y_t⟩ on the value channels. */
function setOutput(w: Weights, V: number, qk: number, qv: number, values?: JlEmbedding): void {
  for (let j = 0; j < V; j++) for (let r = 0; r < qv; r++) w.set('lm_head.weight', j, qk + r, code(values, j, r));
}

/**
 * Thm. 3's margin guarantee from the drawn codes. At the query of key i the value logits are
 *   logit_j = Σ_{(a, b)} ⟨k_a, k_i⟩ ⟨v_j, v_b⟩   over every adjacent (key a, value b) pair before the query.
 * In an instance of (46) these are the κ context pairs — (i, j*) once — and, for each key a queried earlier, at most
 * one (query a, noise value) pair. With G_k, G_v the Gram matrices and |⟨v_j* − v_j, v_b⟩| ≤ 1 + ε_v,
 *   logit_j* − logit_j ≥ (1 − max_{j≠j*} G_v[j, j*]) − 2 (1 + ε_v) · max_i Σ_{a≠i} |G_k[a, i]|,
 * a bound the adversary attains up to the ε_v slack (Remark 7 builds such inputs). One-hot keys make the sum 0.
 */
export function mamba2JlGuarantee(K: number, V: number, keys?: JlEmbedding, values?: JlEmbedding): JlGuarantee {
  if (K > JL_EPSILON_MAX_N) return { margin: NaN, exact: false };
  const valueGap = V > 1 ? 1 - (values ? values.maxInner : 0) : 1;
  const epsV = values ? values.epsilon : 0;
  let crossTalk = 0;
  if (keys) {
    const { M, p } = keys;
    for (let i = 0; i < K; i++) {
      let sum = 0;
      for (let a = 0; a < K; a++) {
        if (a === i) continue;
        let g = 0;
        for (let r = 0; r < p; r++) g += M[r * K + a] * M[r * K + i];
        sum += Math.abs(g);
      }
      crossTalk = Math.max(crossTalk, sum);
    }
  }
  const margin = valueGap - 2 * (1 + epsV) * crossTalk;
  return { margin, exact: margin > 0 };
}

/** Thm. 3: MQAR with the Mamba-2 block, no gate; N = κ (one-hot) or N = p_k (JL). */
export function mqarMamba2Construction(o: ResolvedMqar): Construction {
  const { K, V, jlKeys: keys, jlValues: values } = o;
  const qk = keys ? keys.p : K;
  const qv = values ? values.p : V;
  const config = mamba2Config(K, V, qk, qv);
  checkWeightCount(config, 'options.numKeys/vocabSize');
  const w = new Weights(config);
  setEmbedding(w, K, V, qk, qv, keys, values);
  setConvs(w, qk + qv, qk);
  setSsm(w);
  setOutput(w, V, qk, qv, values);
  const jl = Boolean(values);
  const guarantee = jl ? mamba2JlGuarantee(K, V, keys, values) : undefined;
  const holds = guarantee ? (guarantee.exact ? ', exact' : ', w.h.p.') : '';
  return makeConstruction({
    theorem: 'Thm. 3',
    name: `MQAR · Mamba-2 (3 convs, no gate) · ${jl ? `JL p_k=${qk}, p_v=${qv}${holds}` : 'one-hot'}`,
    config,
    weights: w,
    decoder: 'argmax',
    dims: {
      d: qk + qv,
      N: qk,
      bound: jl
        ? {
            d: { expr: 'O(log κ + log|V|)', nominal: log2ceil(K) + log2ceil(V) },
            N: { expr: 'log κ', nominal: log2ceil(K) },
          }
        : { d: { expr: 'κ + |V| (Step 1)', nominal: K + V }, N: { expr: 'κ (Step 1)', nominal: K } },
      jl: jl ? { keys: jlInfo(keys), values: jlInfo(values), guarantee } : undefined,
    },
  });
}
