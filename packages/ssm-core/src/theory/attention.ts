/**
 * Sensitivity of softmax attention for comparison with Lem. 1 (App. B, Eq. 44–45): through
 * the repo's real 1-layer `TransformerModel` (one head, no LayerNorm, no MLP) by tf.variableGrads,
 * next to the closed form (44) and the O(1/t) bound (45) evaluated from the same weights in float64.
 *
 * Notation (torch layouts: Linear W [out, in], y = W x + b;  times 1-indexed)
 *   x_s = E[tok_s] + pos_s ∈ R^d              input at time s (∂/∂x_j = ∂/∂pos_j)
 *   q_t = W_q x_t + b_q,  k_s, v_s likewise;   s_tr = q_t·k_r/√d;  P_tr = softmax_{r ≤ t}(s_tr)
 *   y_t = W_o Σ_{r ≤ t} P_tr v_r + b_o        the attention output ("attnOut")
 *   sensitivity   ‖∂(1ᵀy_t)/∂x_j‖₂ for j < t
 *   (44)  ∂(1ᵀy_t)/∂x_j = P_tj [W_vᵀW_oᵀ1 + (W_kᵀq_t/√d)·1ᵀW_o(v_j − v̄_t)],  v̄_t = Σ_r P_tr v_r
 *   (45)  ≤ (C/t)·e^{s_tj − min_{r≤t} s_tr},  C = ‖W_vᵀW_oᵀ1‖ + max_t‖W_kᵀq_t‖/√d · 2 max_r |1ᵀW_o v_r|
 */
import { tf } from '../backend.js';
import { TransformerModel } from '../models/transformer.js';
import { Rng } from '../random.js';
import { fitPowerLaw, type LineFit } from './fit.js';
import { int, seed as checkSeed } from '../validate.js';

/** Options of {@link attentionSensitivity}; errors name `options.<field>`. */
export interface AttentionSensitivityOptions {
  /** Sequence length (default 256). */
  L?: number;
  /** Perturbed time j, 1-indexed (default 1). */
  j?: number;
  /** Model width (default 4). */
  dModel?: number;
  /** Vocabulary size for the random tokens (default 16). */
  vocabSize?: number;
  /** Seed of the weights and the random tokens, in [0, 2^32) (default 0). */
  seed?: number;
  /** Times t > j (default every t = j+1..L). */
  times?: number[];
}

/** Attention's sensitivity to x_j at each t, by autodiff and by Eq. 44, with the bound (45). */
export interface AttentionSensitivity {
  /** Sequence length. */
  L: number;
  /** The perturbed time (1-indexed). */
  j: number;
  /** The times t > j evaluated. */
  t: number[];
  /** ‖∂(1ᵀy_t)/∂x_j‖ by autodiff through TransformerModel. */
  values: number[];
  /** The same from the closed form (44) in float64. */
  closedForm: number[];
  /** P_tj. */
  attentionWeight: number[];
  /** (C/t)·e^{s_tj − min_r s_tr}  (45). */
  bound: number[];
  /** ln values on ln t: the exponent (45) predicts −1. */
  fit: LineFit & { exponent: number };
  /** −1: the O(1/t) decay of (45). */
  predictedExponent: number;
}

type Mat = number[][];
/** A [r, c] parameter as rows of float64 numbers. */
const mat = (m: TransformerModel, name: string): Mat => {
  const v = m.getParam(name);
  const [r, c] = v.shape as number[];
  const a = v.dataSync();
  return Array.from({ length: r }, (_, i) => Array.from(a.subarray(i * c, (i + 1) * c)));
};
/** A 1-D parameter as numbers. */
const vec = (m: TransformerModel, name: string) => Array.from(m.getParam(name).dataSync());
/** W x + b (torch layout W [out, in]). */
const mv = (W: Mat, x: number[], b?: number[]) =>
  W.map((row, i) => row.reduce((s, w, k) => s + w * x[k], b ? b[i] : 0));
/** Wᵀy. */
const tmv = (W: Mat, y: number[]) => W[0].map((_, k) => W.reduce((s, row, i) => s + row[k] * y[i], 0));
/** a·b and ‖a‖₂. */
const dotv = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const norm = (a: number[]) => Math.hypot(...a);

/** Eq. 44 and 45 in float64 from the model's weights, for j < t. */
function closedForm(m: TransformerModel, tokens: number[], j: number, times: number[]) {
  const d = m.config.dModel;
  const E = mat(m, 'embedding.weight'),
    pos = mat(m, 'pos_embedding.weight');
  const [Wq, Wk, Wv, Wo] = ['q', 'k', 'v', 'out'].map((n) => mat(m, `attn.${n}_proj.weight`));
  const [bq, bk, bv] = ['q', 'k', 'v'].map((n) => vec(m, `attn.${n}_proj.bias`));
  const x = tokens.map((tok, s) => E[tok].map((e, c) => e + pos[s][c]));
  const q = x.map((xs) => mv(Wq, xs, bq)),
    k = x.map((xs) => mv(Wk, xs, bk)),
    v = x.map((xs) => mv(Wv, xs, bv));
  const u = tmv(Wo, new Array(d).fill(1)); // W_oᵀ1
  const a = tmv(Wv, u); // W_vᵀW_oᵀ1
  const uv = v.map((vs) => dotv(u, vs)); // 1ᵀW_o v_r
  const gq = q.map((qt) => tmv(Wk, qt).map((g) => g / Math.sqrt(d))); // W_kᵀq_t/√d
  const C = norm(a) + Math.max(...gq.map(norm)) * 2 * Math.max(...uv.map(Math.abs));
  return times.map((t) => {
    const s = Array.from({ length: t }, (_, r) => dotv(q[t - 1], k[r]) / Math.sqrt(d));
    const mx = Math.max(...s),
      mn = Math.min(...s);
    const e = s.map((z) => Math.exp(z - mx)),
      Z = e.reduce((p, z) => p + z, 0);
    const P = e.map((z) => z / Z);
    const vbar = P.reduce((acc, p, r) => acc + p * uv[r], 0);
    const grad = a.map((ai, c) => P[j - 1] * (ai + gq[t - 1][c] * (uv[j - 1] - vbar)));
    return { value: norm(grad), weight: P[j - 1], bound: (C / t) * Math.exp(s[j - 1] - mn) };
  });
}

/** ‖∂(1ᵀy_t)/∂x_j‖ by autodiff: the gradient lands on pos_embedding row j (x_j = E[tok_j] + pos_j). */
function autodiff(m: TransformerModel, tokens: number[], j: number, times: number[]): number[] {
  const posVar = m.getParam('pos_embedding.weight');
  const d = m.config.dModel;
  return times.map((t) => {
    const { value, grads } = tf.variableGrads(() => {
      const r = m.forwardWithInternals([tokens]);
      return r.attnOut.slice([0, t - 1, 0], [1, 1, d]).sum() as tf.Scalar;
    }, [posVar]);
    const row = tf.tidy(() => grads[posVar.name].slice([j - 1, 0], [1, d]));
    const out = norm(Array.from(row.dataSync()));
    tf.dispose([value, row, ...Object.values(grads)]);
    return out;
  });
}

/**
 * App. B (Eq. 44–45): ‖∂(1ᵀy_t)/∂x_j‖₂ of a real 1-head TransformerModel (no LayerNorm, no MLP) on random
 * tokens, against the closed form (44) and the bound (C/t)·e^{s_tj − min_r s_tr} (45); decays like t^{−1}.
 * @throws ConfigError naming `options.<field>`, e.g. `options.j: expected an integer in [1, 15] …`.
 */
export function attentionSensitivity(opts: AttentionSensitivityOptions = {}): AttentionSensitivity {
  const L = int(opts.L ?? 256, 'options.L', 3, 4096),
    j = int(opts.j ?? 1, 'options.j', 1, L - 1);
  const d = int(opts.dModel ?? 4, 'options.dModel', 1, 256),
    V = int(opts.vocabSize ?? 16, 'options.vocabSize', 1);
  const seed = checkSeed(opts.seed ?? 0, 'options.seed');
  const times = (opts.times ?? Array.from({ length: L - j }, (_, i) => j + 1 + i)).map((t, i) =>
    int(t, `options.times[${i}]`, j + 1, L),
  );
  const rng = new Rng(seed + 1);
  const tokens = Array.from({ length: L }, () => rng.int(V));
  const m = new TransformerModel({
    vocabSize: V,
    dModel: d,
    maxLen: L,
    numHeads: 1,
    layerNorm: false,
    mlp: false,
    seed,
  });
  try {
    const values = autodiff(m, tokens, j, times);
    const cf = closedForm(m, tokens, j, times);
    return {
      L,
      j,
      t: times,
      values,
      closedForm: cf.map((c) => c.value),
      attentionWeight: cf.map((c) => c.weight),
      bound: cf.map((c) => c.bound),
      fit: fitPowerLaw(times, values),
      predictedExponent: -1,
    };
  } finally {
    m.dispose();
  }
}
