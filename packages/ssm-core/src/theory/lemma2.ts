/**
 * Lemma 2 made executable: an S6 layer that keeps λ Σ_r Δ(x_r) ≤ c retains sensitivity
 * |∂h_t/∂x_j| ≥ e^{−c}·|∂(B(x_j)Δ(x_j)x_j)/∂x_j| at every t ("freezing time"), computed by
 * tf.grad through the real `s6` mixer.
 *
 * Notation (d = 1, N = 1, rank-1 Δ, Euler B̄ = Δ·B as in mamba_ssm and Eq. 13, conv off, no skip)
 *   Δ(x) = softplus(w_Δ x + b_Δ),  B(x) = β x,  C(x) = x,  λ = e^{A_log}                    (7)
 *   c = λ Σ_{r=1}^{L} Δ(x_r)           the realised value of the limit in (12) over the horizon L
 *   paper bound   e^{−c}·|∂(B_j Δ_j x_j)/∂x_j|                                             (13)
 *   exact bound   e^{−c}·|∂h_j/∂x_j|, since ∂h_t/∂x_j = e^{−λΣ_{r=j+1}^t Δ_r}·∂h_j/∂x_j     (35)
 *   ∂h_j/∂x_j = ∂(B_jΔ_jx_j)/∂x_j + (∂Λ_j/∂x_j)·h_{j−1}: the two bounds differ by the second
 *   term (Eq. 38), which (13) drops; it vanishes at j = 1 (h_0 = 0) or when w_Δ = 0.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { s6 } from '../mixers/s6.js';
import type { MixerContext } from '../mixers/types.js';
import { Rng } from '../random.js';
import { getter, param, toTensors, type Param } from './mixerParams.js';
import { finite, finiteArray, int, nonNegative, seed as checkSeed } from '../validate.js';
import { configError } from '../errors.js';

/** Options of {@link lemma2Demo}; errors name `options.<field>`. */
export interface Lemma2Options {
  /** Horizon L (default 256). */
  L?: number;
  /** λ ≥ 0 (default 1). */
  lambda?: number;
  /** w_Δ (default 0.5). */
  wDelta?: number;
  /** b_Δ (default −8: Δ ≈ 3e−4, so λΣΔ stays small). */
  bDelta?: number;
  /** β in B(x) = βx (default 1). */
  beta?: number;
  /** Input x_1..x_L (default N(0, 1) draws from `seed`). */
  input?: ArrayLike<number>;
  /** Seed of the default input, in [0, 2^32) (default 0). */
  seed?: number;
  /** Times j to report (default 1, 2, 8, 32, L/2). */
  js?: number[];
}

/** Lemma 2 at one perturbed time j: the sensitivity curve and both bounds. */
export interface Lemma2Row {
  /** The perturbed time (1-indexed). */
  j: number;
  /** t = j..L */
  t: number[];
  /** |∂h_t/∂x_j| */
  sensitivity: number[];
  /** e^{−c}·|∂(B_jΔ_jx_j)/∂x_j|  (13) */
  paperBound: number;
  /** e^{−c}·|∂h_j/∂x_j| */
  exactBound: number;
  /** min_t sensitivity/paperBound and min_t sensitivity/exactBound (≥ 1 when the bound holds). */
  minRatioPaper: number;
  /** See `minRatioPaper`. */
  minRatioExact: number;
}

/** Lemma 2 on one input: c = λΣΔ_r and one row per j. */
export interface Lemma2Result {
  /** Sequence length. */
  L: number;
  /** λ = −A of the one state. */
  lambda: number;
  /** c = λ Σ_{r=1}^L Δ_r. */
  c: number;
  /** Δ_r, r = 1..L, as the layer computed it. */
  delta: number[];
  /** One row per perturbed time j. */
  rows: Lemma2Row[];
}

const CTX: MixerContext = { d: 1, N: 1, dtRank: 1, disc: 'euler', conv: false, skip: false };

/** S6 parameters of the module note: Δ(x) = softplus(w_Δ x + b_Δ), B = βx, C = x, A = −λ  (Eq. 7). */
function lemma2Params(lambda: number, w: number, b: number, beta: number): Record<string, Param> {
  return {
    A_log: param([1, 1], () => Math.log(lambda)),
    'x_proj.weight': param([3, 1], (i) => [1, beta, 1][i]), // dtLow = x, B = βx, C = x
    'dt_proj.weight': param([1, 1], () => w),
    'dt_proj.bias': param([1], () => b),
  };
}

/** Δ_r and ∂(B_rΔ_rx_r)/∂x_r for every r, from the mixer's own internals (one pass). */
function inputTerm(P: Record<string, Tensor>, x: Float32Array): { delta: number[]; dBdx: number[] } {
  const L = x.length;
  const xt = tf.tensor3d(x, [1, L, 1]);
  const [dt, g] = tf.tidy(() => {
    const dlt = s6.forward(getter(P), xt, CTX, true).internals.delta!.clone();
    const grad = tf.grad((xx: Tensor) => {
      const i = s6.forward(getter(P), xx, CTX, true).internals;
      return i.B!.mul(i.delta!).mul(xx).sum(); // Σ_r B_r Δ_r x_r: term r depends on x_r only
    })(xt);
    return [dlt, grad];
  });
  const out = { delta: Array.from(dt.dataSync()), dBdx: Array.from(g.dataSync()) };
  tf.dispose([xt, dt, g]);
  return out;
}

/** Row t of the Jacobian: ∂h_t/∂x_j for j = 1..t (one backward pass through the prefix). */
function jacobianRow(P: Record<string, Tensor>, x: Float32Array, t: number): Float32Array {
  const g = tf.tidy(() => {
    const xt = tf.tensor3d(x.subarray(0, t), [1, t, 1]);
    return tf.grad((xx: Tensor) => s6.forward(getter(P), xx, CTX, true).internals.lastState!.sum())(xt);
  });
  const v = g.dataSync() as Float32Array;
  g.dispose();
  return v;
}

/**
 * Lemma 2 (Eq. 12–13, 42–43) on a hand-set S6 layer (d = N = 1, Euler, Δ(x) = softplus(w_Δ x + b_Δ),
 * B(x) = βx, C(x) = x): |∂h_t/∂x_j| by tf.grad at every t ≥ j against e^{−c}·|∂(B_jΔ_jx_j)/∂x_j| (13) and the
 * exact e^{−c}·|∂h_j/∂x_j|, with c = λΣ_{r≤L}Δ_r.
 * @throws ConfigError naming `options.<field>`; ValueError when `options.input` is not finite.
 */
export function lemma2Demo(opts: Lemma2Options = {}): Lemma2Result {
  const L = int(opts.L ?? 256, 'options.L', 2, 4096),
    lambda = nonNegative(opts.lambda ?? 1, 'options.lambda');
  const w = finite(opts.wDelta ?? 0.5, 'options.wDelta'),
    b = finite(opts.bDelta ?? -8, 'options.bDelta'),
    beta = finite(opts.beta ?? 1, 'options.beta');
  const x = opts.input
    ? Float32Array.from(opts.input)
    : new Rng(checkSeed(opts.seed ?? 0, 'options.seed')).fill(L, (r) => r.normal());
  if (x.length !== L) throw configError('options.input', `${L} values`, `${x.length}`);
  finiteArray(x, 'options.input');
  const js = opts.js ?? [1, 2, 8, 32, Math.floor(L / 2)].filter((j) => j <= L);
  js.forEach((j, i) => int(j, `options.js[${i}]`, 1, L));
  const P = toTensors(lemma2Params(lambda, w, b, beta));
  try {
    const { delta, dBdx } = inputTerm(P, x);
    const c = lambda * delta.reduce((s, v) => s + v, 0);
    const J = Array.from({ length: L }, (_, i) => jacobianRow(P, x, i + 1)); // J[t−1][j−1] = ∂h_t/∂x_j
    const rows = js.map((j) => {
      const t = Array.from({ length: L - j + 1 }, (_, i) => j + i);
      const sensitivity = t.map((tt) => Math.abs(J[tt - 1][j - 1]));
      const paperBound = Math.exp(-c) * Math.abs(dBdx[j - 1]),
        exactBound = Math.exp(-c) * sensitivity[0];
      const minOver = (bound: number) => Math.min(...sensitivity.map((s) => s / bound));
      return {
        j,
        t,
        sensitivity,
        paperBound,
        exactBound,
        minRatioPaper: minOver(paperBound),
        minRatioExact: minOver(exactBound),
      };
    });
    return { L, lambda, c, delta, rows };
  } finally {
    tf.dispose(Object.values(P));
  }
}
