/**
 * Cor. 2 (App. A.3, paper l. 2117–2178): an S6 layer alone — no convolution, no gate — solves
 * KEEP n-TH on input with a time positional encoding, by projecting the input onto two Heaviside
 * bases built from an input-dependent Δ.
 *
 * Notation / shapes (1-based time t = 1 … L, as the PE of the block; arrays count from 0)
 *   |V| token ids 0 … |V|−1 → one-hot e_v;   PE coordinate = t (last embedding coordinate, scale 1)
 *   channels c < |V|: the token's one-hot;   channel |V|: the PE t.      d = |V| + 1,  N = 1
 *   Mamba basis (8), discrete:  g(s; t) = Π_{r=s+1..t} e^{−λΔ_r}
 *
 * How the block realises Cor. 2 (S6 with the ZOH discretisation of Eq. 5, λ = 1, B = C = 1):
 *   ZOH:  h_t = e^{−λΔ_t} h_{t−1} + (1 − e^{−λΔ_t})/λ · B u_t
 *   ⇒    h_t = Σ_s [g(s; t) − g(s−1; t)] u_s / λ       (telescoping the ZOH input weight)
 *   Δ_t = softplus(w_Δ (t − n − ½)),  w_Δ = −W → −∞  (32a): Δ → ∞ for t ≤ n, → 0 for t > n, so
 *   g(s; t) → H(s ≥ n) and g(s−1; t) → H(s ≥ n+1) for every t ≥ n, and
 *   h_t → ⟨x, H(· ≥ n) − H(· ≥ n+1)⟩ = x_n             (the difference of two Heavisides, l. 2126–2130)
 * The two bases are the paper's pair H(s − (n−1)), H(s − n) of (32a, b), one step apart: in
 * continuous time x_n lives on [n−1, n) (l. 2126), in discrete time it is step n; ZOH produces the
 * second basis from the same Δ shifted by one step, so one Δ per channel suffices.
 * The ½ in the switch time puts it between two integer PE values, so softplus never sits at 0.
 * App. A treats a scalar input x_t ∈ R; here each token is one-hot over |V| channels that share the
 * same Δ, so that the |V|-way output layer reads x_n exactly (a scalar x_n would need the quadratic
 * readout 2c·y − c², whose terms lose the answer to float32 round-off).
 * With W = 100: erase factor e^{−50}, keep factor exp(−softplus(−50)) = 1 in float64.
 *
 * Why not the identity discretisation (B̄ = B, as in (8) literally): there the state at t = n of the
 * H(· ≥ n+1) channel already holds x_n (inputs enter after the step's decay), so the difference is 0
 * at t = n, and no linear B, C can fix that step — but the task scores t = n (App. D.2, l. 4288).
 */
import type { MambaConfig } from '../models/mamba.js';
import { int, object } from '../validate.js';
import { checkWeightCount, makeConstruction, Weights, type Construction } from './common.js';

/** Options of {@link keepNthConstruction}; errors name `options.<field>`. */
export interface KeepNthConstructionOptions {
  /** 1-based position of the token to keep (paper: 5). */
  n: number;
  /** |V|, number of token ids. */
  vocabSize: number;
  /** Longest sequence length the caller will use (only checked against n; the weights do not depend on T). */
  T?: number;
}

/** |w_Δ| of (32a): the switch is sharp to e^{−W/2} ≈ 2e−22. */
export const KEEP_NTH_W = 100;

function check(o: KeepNthConstructionOptions) {
  object(o, 'options', 'an object {n, vocabSize, T?}');
  const vocabSize = int(o.vocabSize, 'options.vocabSize', 1, 2 ** 24, 'an integer in [1, 2^24]');
  const n = int(o.n, 'options.n', 1, 2 ** 24, 'an integer ≥ 1');
  if (o.T !== undefined) {
    const T = int(o.T, 'options.T', 1, 2 ** 24, 'an integer ≥ 1');
    int(n, 'options.n', 1, T, `an integer in [1, T=${T}]`);
  }
  return { n, V: vocabSize };
}

/** Block config: S6 only, PE on, ZOH, rank-1 Δ projection. */
function keepNthConfig(V: number): MambaConfig {
  return {
    vocabSize: V,
    numClasses: V,
    dModel: V + 1,
    dState: 1,
    mixer: 's6',
    conv: false,
    gate: false,
    positionalEncoding: { scale: 1 },
    discretization: 'zoh',
    dtRank: 1,
    skip: false,
    outputBias: false,
  };
}

/** Embedding: token v ↦ e_v in the first |V| channels (the PE fills channel |V|). */
function setEmbedding(w: Weights, V: number): void {
  for (let v = 0; v < V; v++) w.set('embedding.weight', v, v, 1);
}

/**
 * SSM (Eq. 7 with (32a)): λ = 1 (A_log = 0), B_t = C_t = Σ_v x̂_t[v] = 1, and
 * Δ_t = softplus(w_Δ·t + b_Δ) on the token channels with w_Δ = −W, b_Δ = W(n + ½).
 */
function setSsm(w: Weights, V: number, n: number): void {
  const PE = V;
  w.set('mixer.x_proj.weight', 0, PE, 1); // low-rank Δ input = t
  for (let v = 0; v < V; v++) {
    w.set('mixer.x_proj.weight', 1, v, 1); // B_t = 1 (one-hot sums to 1)
    w.set('mixer.x_proj.weight', 2, v, 1); // C_t = 1
    w.set('mixer.dt_proj.weight', v, 0, -KEEP_NTH_W);
    w.set('mixer.dt_proj.bias', v, 0, KEEP_NTH_W * (n + 0.5));
  }
  // A_log stays 0 (λ = 1); the PE channel gets Δ = softplus(0) and is ignored by the output.
}

/** Output: logits = the token channels, so argmax = x_n for t ≥ n. */
function setOutput(w: Weights, V: number): void {
  for (let v = 0; v < V; v++) w.set('lm_head.weight', v, v, 1);
}

/**
 * Cor. 2 (App. A.3): KEEP n-TH solved by an S6 layer alone (no conv, no gate) on time-PE input, d = |V| + 1, N = 1.
 * predict(tokens [b][L]) → x_n at every t ≥ n (meaningless before n).
 * @throws ConfigError naming `options.n`, `options.vocabSize` (also when the weights, about 2|V|², exceed 2^26) or
 *   `options.T`.
 * @example
 * ```ts
 * const c = constructions.keepNthConstruction({ n: 2, vocabSize: 4 });
 * c.predict([[3, 1, 0, 2]]); // [[…, 1, 1, 1]]: x_2 = 1 from t = 2 on
 * c.dispose();
 * ```
 */
export function keepNthConstruction(options: KeepNthConstructionOptions): Construction {
  const { n, V } = check(options);
  const config = keepNthConfig(V);
  checkWeightCount(config, 'options.vocabSize');
  const w = new Weights(config);
  setEmbedding(w, V);
  setSsm(w, V, n);
  setOutput(w, V);
  return makeConstruction({
    theorem: 'Cor. 2',
    name: `KEEP ${n}-TH · S6 + PE (no conv, no gate)`,
    config,
    weights: w,
    decoder: 'argmax',
    dims: {
      d: V + 1,
      N: 1,
      bound: {
        d: { expr: 'not stated (two Heaviside bases)', nominal: null },
        N: { expr: 'not stated', nominal: null },
      },
    },
  });
}
