/**
 * Lemma 1 made executable: the sensitivity |∂h_t/∂x_j| of the state (and |∂y_t/∂x_j| of the
 * output) of the repo's real S4D, S6 and Mamba-2 mixers, by tf.grad, as t − j grows; fitted
 * exponential rates next to λ_n (S4D) and λ_n·mean Δ (S6, Mamba-2).
 *
 * Notation (mixer run directly, conv off — the SSM layer of Sec. 4.2 — times 1-indexed)
 *   x [L, d]              mixer input (x̂ = x; Mamba-2 reads x too);  j  the perturbed time
 *   h_t[c, n]             state of channel c, component n;  y_t [d] mixer output
 *   λ_{c,n} = e^{A_log}   decay rate (Λ = −λ);  Mamba-2: one scalar λ for every (c, n)
 *   Δ_{r,c}               step (S4D: Δ ≡ 1; S6: per channel; Mamba-2: one per time)
 *   sensitivity           ‖∂h_t[c,n]/∂x_j‖₂ over the d input coordinates (d = 1: the paper's |·|)
 *   output sensitivity    ‖∂(Σ_c y_t[c])/∂x_j‖₂
 *   Lemma 1 (Eq. 11, 35–41), exact for t > j when Λ_r, B_r depend on x_r only (conv off):
 *     ∂h_t/∂x_j = exp(−λ Σ_{r=j+1}^t Δ_r) · c̃(x_{≤j})   ⇒   ln sensitivity is linear in Σ Δ
 *   fitted rate           −slope of ln sensitivity on t over t > j (fit.ts); predicted λ·mean_{r>j} Δ_r
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { MIXERS, type MixerContext } from '../mixers/index.js';
import { Rng } from '../random.js';
import { fitExponentialRate, type LineFit } from './fit.js';
import { getter, mixerParams, toPlain, toTensors, type Param, type PlainParams } from './mixerParams.js';
import { finiteArray, int, oneOf, seed as checkSeed } from '../validate.js';
import { configError } from '../errors.js';

/** The SSM mixers Lemma 1 is checked on: S4D (Eq. 9), S6 (Eq. 14), Mamba-2 (scalar λ, one Δ per step). */
export type SsmMixer = 's4d' | 's6' | 'mamba2';

const SSM_MIXERS: readonly SsmMixer[] = ['s4d', 's6', 'mamba2'];

/** Options of {@link sensitivityProfile}; errors name `options.<field>`. */
export interface SensitivityOptions {
  /** Sequence length (default 128). */
  L?: number;
  /** Perturbed time j, 1-indexed (default 1). */
  j?: number;
  /** Model width d (default 1, the paper's 1-D input). */
  d?: number;
  /** State size N (default 4). */
  N?: number;
  /** Seed for the parameters (as MambaModel initialises them) and the N(0, 1) input, in [0, 2^32) (default 0). */
  seed?: number;
  /** Parameter overrides by mixer-relative name, e.g. { A_log: [...] }. */
  params?: Record<string, ArrayLike<number>>;
  /** Input x [L, d] row-major (default N(0, 1) draws). */
  input?: ArrayLike<number>;
  /** Times t ≥ j to differentiate at (default every t = j..L). */
  times?: number[];
}

/** An exponential fit v ≈ c·e^{−rate·t} (fit.ts). */
export interface ExpFit extends LineFit {
  /** −slope of ln v on t. */
  rate: number;
}

/** Lemma 1 for one state component h_t[c, n]. */
export interface StateSensitivity {
  /** Channel c. */
  channel: number;
  /** State component n. */
  state: number;
  /** λ_{c,n}. */
  lambda: number;
  /** mean_{j < r ≤ L} Δ_{r,c} (1 for S4D). */
  meanDelta: number;
  /** λ·mean Δ — Lemma 1's rate. */
  predictedRate: number;
  /** ‖∂h_t[c,n]/∂x_j‖ for each t in `t`. */
  values: number[];
  /** Exponential fit over t > j (null when fewer than 2 representable points). */
  fit: ExpFit | null;
  /** max_t |s_t·e^{λΣ_{r=j+1}^t Δ_r} / (s_{j+1}·e^{λΔ_{j+1}}) − 1|: 0 if Lemma 1's factorisation holds exactly. */
  lemma1Spread: number;
}

/** Sensitivity of a mixer's states and output to x_j at the times t, with Lemma 1's rates. */
export interface SensitivityProfile {
  /** Which layer. */
  mixer: SsmMixer;
  /** Sequence length. */
  L: number;
  /** The perturbed time (1-indexed). */
  j: number;
  /** Channels d. */
  d: number;
  /** State size N. */
  N: number;
  /** The times t ≥ j evaluated, ascending. */
  t: number[];
  /** One entry per (c, n), in the order c·N + n. */
  states: StateSensitivity[];
  /** ‖∂(Σ_c y_t[c])/∂x_j‖ and its fit; predictedRate is the slowest state's. */
  output: { values: number[]; fit: ExpFit | null; predictedRate: number };
  /** Δ_r for r = 1..L (channel 0; all ones for S4D). */
  delta: number[];
  /** The mixer parameters used (plain data). */
  params: PlainParams;
}

/** Lowest sensitivity used in fits: float32 keeps ~7 digits down to 1e−38; stay clear of denormals. */
const FLOOR = 1e-30;

/** Exponential fit over t > j on representable values, or null (Lem. 1 rate). */
const fitOrNull = (t: number[], v: number[], j: number): ExpFit | null => {
  const keep = t.map((x, i) => [x, v[i]]).filter(([x, y]) => x > j && y > FLOOR);
  return keep.length >= 2
    ? fitExponentialRate(
        keep.map((r) => r[0]),
        keep.map((r) => r[1]),
      )
    : null;
};

interface Run {
  kind: SsmMixer;
  ctx: MixerContext;
  params: Record<string, Param>;
  x: Float32Array;
  L: number;
}

/** Δ_{r,c} for r = 1..L as the mixer used it ([L][d]; S4D ones; Mamba-2 one value per r). */
function deltas(run: Run): number[][] {
  const { kind, ctx, L } = run;
  if (kind === 's4d') return Array.from({ length: L }, () => new Array(ctx.d).fill(1));
  const P = toTensors(run.params);
  const x = tf.tensor3d(run.x, [1, L, ctx.d]);
  const dt = tf.tidy(() => MIXERS[kind].forward(getter(P), x, ctx, true).internals.delta!.clone());
  const v = dt.dataSync();
  tf.dispose([dt, x, ...Object.values(P)]);
  return Array.from({ length: L }, (_, r) =>
    Array.from({ length: ctx.d }, (_, c) => (kind === 'mamba2' ? v[r] : v[r * ctx.d + c])),
  );
}

/** One backward pass at time t: ∂h_t[c,n]/∂x_j (all c, n) and ∂Σy_t/∂x_j, batched over d·N + 1 copies. */
function gradsAt(run: Run, P: Record<string, Tensor>, t: number, j: number): { state: number[]; output: number } {
  const { ctx, kind } = run;
  const { d, N } = ctx;
  const Bt = d * N + 1;
  const xs = new Float32Array(Bt * t * d);
  for (let b = 0; b < Bt; b++) xs.set(run.x.subarray(0, t * d), b * t * d);
  const sel = new Float32Array(Bt * d * N);
  for (let b = 0; b < d * N; b++) sel[b * d * N + b] = 1; // copy b reads out state component b = c·N + n
  const g = tf.tidy(() => {
    const x = tf.tensor3d(xs, [Bt, t, d]);
    const m = tf.tensor3d(sel, [Bt, d, N]);
    return tf
      .grad((xx: Tensor) => {
        const r = MIXERS[kind].forward(getter(P), xx, ctx, true);
        const yLast = r.y.slice([Bt - 1, t - 1, 0], [1, 1, d]).sum();
        return r.internals.lastState!.mul(m).sum().add(yLast);
      })(x)
      .slice([0, j - 1, 0], [Bt, 1, d]);
  });
  const v = g.dataSync();
  g.dispose();
  const norm = (b: number) => Math.hypot(...Array.from(v.subarray(b * d, (b + 1) * d)));
  return { state: Array.from({ length: d * N }, (_, b) => norm(b)), output: norm(Bt - 1) };
}

/** λ_{c,n} = e^{A_log} per state (Mamba-2: the one scalar), in the order c·N + n. */
function lambdas(run: Run): number[] {
  const a = run.params.A_log.data;
  return Array.from({ length: run.ctx.d * run.ctx.N }, (_, b) => Math.exp(run.kind === 'mamba2' ? a[0] : a[b]));
}

/** Lemma 1's invariant sensitivity·e^{λΣ_{r=j+1}^tΔ_r}: its largest relative deviation over t  (Eq. 40). */
function spread(values: number[], t: number[], j: number, lambda: number, dlt: number[]): number {
  let cum = 0,
    ref = NaN,
    worst = 0;
  for (let i = 0, r = j; i < t.length; i++) {
    while (r < t[i]) cum += dlt[r++]; // Σ_{r=j+1}^{t} Δ_r (dlt is 0-indexed)
    if (t[i] <= j || !(values[i] > FLOOR)) continue;
    const inv = values[i] * Math.exp(lambda * cum);
    if (Number.isNaN(ref)) ref = inv;
    else worst = Math.max(worst, Math.abs(inv / ref - 1));
  }
  return worst;
}

/** Validated options, default input and the seeded mixer parameters. */
function setup(kind: SsmMixer, o: SensitivityOptions): Run & { j: number; times: number[] } {
  oneOf(kind, 'mixer', SSM_MIXERS);
  const L = int(o.L ?? 128, 'options.L', 2, 4096),
    d = int(o.d ?? 1, 'options.d', 1, 64),
    N = int(o.N ?? 4, 'options.N', 1, 64);
  const j = int(o.j ?? 1, 'options.j', 1, L - 1),
    seed = checkSeed(o.seed ?? 0, 'options.seed');
  const ctx: MixerContext = { d, N, dtRank: Math.ceil(d / 16), disc: 'euler', conv: false, skip: true };
  const rng = new Rng(seed + 1);
  const x = o.input ? Float32Array.from(o.input) : rng.fill(L * d, (r) => r.normal());
  if (x.length !== L * d) throw configError('options.input', `${L * d} values ([L, d] row-major)`, `${x.length}`);
  finiteArray(x, 'options.input');
  const times = o.times ?? Array.from({ length: L - j + 1 }, (_, i) => j + i);
  times.forEach((t, i) => int(t, `options.times[${i}]`, j, L));
  return {
    kind,
    ctx,
    params: mixerParams(kind, ctx, seed, o.params),
    x,
    L,
    j,
    times: [...times].sort((a, b) => a - b),
  };
}

/**
 * Lemma 1 (Eq. 11, 35–41) on a real mixer (conv off): ‖∂h_t[c,n]/∂x_j‖ and ‖∂(Σ_c y_t[c])/∂x_j‖ by tf.grad for
 * each t, with the fitted exponential rate next to λ_{c,n}·mean Δ (S4D: λ_{c,n}).
 * @param kind - 's4d' | 's6' | 'mamba2'.
 * @throws ConfigError naming `mixer` or `options.<field>`; ShapeError for `options.params` of the wrong size.
 * @example
 * ```ts
 * const p = theory.sensitivityProfile('s6', { L: 64, N: 4 });
 * p.states[0].fit?.rate; // ≈ p.states[0].predictedRate = λ_{0,0}·mean Δ
 * ```
 */
export function sensitivityProfile(kind: SsmMixer, opts: SensitivityOptions = {}): SensitivityProfile {
  const run = setup(kind, opts);
  const { j, times, ctx } = run;
  const dl = deltas(run);
  const P = toTensors(run.params);
  let rows: { state: number[]; output: number }[];
  try {
    rows = times.map((t) => gradsAt(run, P, t, j));
  } finally {
    tf.dispose(Object.values(P));
  }
  const lam = lambdas(run);
  const states: StateSensitivity[] = lam.map((lambda, b) => {
    const c = Math.floor(b / ctx.N),
      dc = dl.map((row) => row[c]);
    const meanDelta = dc.slice(j).reduce((s, v) => s + v, 0) / (run.L - j);
    const values = rows.map((r) => r.state[b]);
    return {
      channel: c,
      state: b % ctx.N,
      lambda,
      meanDelta,
      predictedRate: lambda * meanDelta,
      values,
      fit: fitOrNull(times, values, j),
      lemma1Spread: spread(values, times, j, lambda, dc),
    };
  });
  const outValues = rows.map((r) => r.output);
  return {
    mixer: kind,
    L: run.L,
    j,
    d: ctx.d,
    N: ctx.N,
    t: times,
    states,
    output: {
      values: outValues,
      fit: fitOrNull(times, outValues, j),
      predictedRate: Math.min(...states.map((s) => s.predictedRate)),
    },
    delta: dl.map((row) => row[0]),
    params: toPlain(run.params),
  };
}
