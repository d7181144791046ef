/**
 * INDUCTION HEADS (paper Sec. 5.2, l. 1467–1475; App. C.2, l. 4014–4027; generator in App. D.4, l. 4743–4766),
 * in the formulation of Sanford et al.: report, at every step, the token that followed the latest previous
 * occurrence of the current token.
 *
 * Layout glossary (S samples, T positions; the paper counts from 1, arrays from 0):
 *   inputs  [S, T]  token ids 0 … |V|−1 (the paper's V = {1, …, |V|} shifted down by one) → vocabSize = |V|
 *   targets [S, T]  y_t = x_{j(t)+1}, j(t) = max{j < t : x_j = x_t}; the blank class × = |V| when x_t has not
 *                   occurred before → numClasses = |V| + 1, blank = numClasses − 1. Every position has a
 *                   target (C.2 defines y over V ∪ {×} at all t, l. 4016–4019); none is IGNORE.
 *   hard    [S]     1 where the sample was drawn from the hard setting, else 0 (for per-setting accuracy)
 *
 * Settings (D.4, l. 4745–4763):
 *   'standard' (default): x_t i.i.d. uniform over V, every sample.
 *   'hard': the paper's generator. Per sample draw X ~ Bernoulli(p); X = 0 gives a standard sample, X = 1 a
 *     hard one: pick v* uniform in V; draw x_t i.i.d. uniform over V \ {v*}; draw r uniform in {1, …, ⌊γT⌋};
 *     set x_r = x_{T−r} = v* (1-based, i.e. array indices r−1 and T−r−1). So v* occurs exactly twice, once near
 *     the start and once near the end, and y_{T−r} = x_{r+1} must be carried across the whole sequence.
 *     Fig. 3 uses T = 100, |V| ∈ {5, 10, 20, 40}, p = 0.75, γ = 0.1 (l. 4766), our defaults for p and γ.
 *
 * Where the paper is ambiguous, we chose:
 *   - v* is an ordinary token of V (step 1, l. 4753), not an extra id, so the hard setting adds no id.
 *   - γT need not be an integer: r ranges over 1 … ⌊γT⌋ (with 1e-9 slack against round-off, so 0.1·30 → 3),
 *     and we require ⌊γT⌋ ≥ 1.
 *   - "T > 2|V| + 1" and "γ ∈ (0, 0.1]", "p ∈ [0, 1]" (l. 4745) are enforced as stated.
 *   - p and gamma belong to the 'hard' setting only; passing them with 'standard' is an error rather than
 *     being silently ignored (the standard setting is the paper's generator with p = 0).
 *
 * Randomness: one Rng(seed) stream read in sample order (per sample: in 'hard', the Bernoulli draw, then v*,
 * the tokens and r for hard samples; the tokens otherwise), so the data depend on the seed alone and fewer
 * samples with the same seed are a prefix of more samples.
 */
import { configError } from '../errors.js';
import { Rng } from '../random.js';
import { int, numberIn, numberWhere, object, oneOf, seed as checkSeed, show } from '../validate.js';
import { checkDataMemory, type TaskData } from './types.js';

/** 'standard': x_t i.i.d. uniform over V. 'hard': App. D.4's Bernoulli(p) mix with hard samples (Fig. 3). */
export type InductionHeadsSetting = 'standard' | 'hard';

/** Options of {@link inductionHeads}; errors name `options.<field>`. */
export interface InductionHeadsOptions {
  /** |V|, number of ordinary token ids (paper: 5 … 40). */
  vocabSize: number;
  /** Sequence length, T > 2|V| + 1 (paper: 100). */
  T: number;
  /** S, number of samples (rows). */
  numSamples: number;
  /** Integer in [0, 2^32). */
  seed: number;
  /** Default 'standard'. 'hard' is the paper's Bernoulli(p) mix of standard and hard samples (Fig. 3). */
  setting?: InductionHeadsSetting;
  /** 'hard' only: probability of a hard sample, in [0, 1], default 0.75. */
  p?: number;
  /** 'hard' only: special range ratio γ ∈ (0, 0.1], default 0.1; r is uniform in {1, …, ⌊γT⌋}. */
  gamma?: number;
}

/** INDUCTION HEADS samples: TaskData with numClasses = |V| + 1 (the blank × = |V|) and the per-sample setting. */
export interface InductionHeadsData extends TaskData {
  /** [S] 1 where the sample comes from the hard setting, 0 for standard samples. */
  hard: Uint8Array;
}

const MAX_ID = 2 ** 31 - 2;
const SETTINGS: readonly InductionHeadsSetting[] = ['standard', 'hard'];

interface Checked {
  vocabSize: number;
  T: number;
  numSamples: number;
  seed: number;
  setting: InductionHeadsSetting;
  p: number;
  gamma: number;
  /** ⌊γT⌋, the largest r (0 in the standard setting). */
  rMax: number;
}

function check(o: InductionHeadsOptions): Checked {
  object(o, 'options', 'an object {vocabSize, T, numSamples, seed, setting?}');
  const vocabSize = int(o.vocabSize, 'options.vocabSize', 2, MAX_ID, 'an integer ≥ 2');
  const T = int(
    o.T,
    'options.T',
    2 * vocabSize + 2,
    MAX_ID,
    `an integer > 2·vocabSize + 1 = ${2 * vocabSize + 1} (App. D.4)`,
  );
  const numSamples = int(o.numSamples, 'options.numSamples', 1, MAX_ID, 'an integer ≥ 1');
  const seed = checkSeed(o.seed, 'options.seed');
  const setting = oneOf(o.setting ?? 'standard', 'options.setting', SETTINGS);
  if (setting === 'standard') {
    for (const k of ['p', 'gamma'] as const) {
      if (o[k] !== undefined) {
        throw configError(
          `options.${k}`,
          "undefined with setting 'standard'",
          show(o[k]),
          "p and gamma only apply to setting 'hard'",
        );
      }
    }
    return { vocabSize, T, numSamples, seed, setting, p: 0, gamma: 0, rMax: 0 };
  }
  const p = numberIn(o.p ?? 0.75, 'options.p', 0, 1);
  const gamma = numberWhere(
    o.gamma ?? 0.1,
    'options.gamma',
    (x) => x > 0 && x <= 0.1,
    'a number in (0, 0.1] (App. D.4)',
  );
  const rMax = Math.floor(gamma * T + 1e-9);
  if (rMax < 1)
    throw configError('options.gamma', `γ·T ≥ 1 so that r ∈ {1, …, ⌊γT⌋} is not empty (T=${T})`, show(gamma));
  return { vocabSize, T, numSamples, seed, setting, p, gamma, rMax };
}

/** x [T] (one row): hard-setting tokens; v* at 1-based positions r and T − r. */
function fillHard(rng: Rng, x: Int32Array, V: number, rMax: number): void {
  const special = rng.int(V);
  for (let t = 0; t < x.length; t++) {
    const id = rng.int(V - 1); // uniform over V \ {v*}
    x[t] = id >= special ? id + 1 : id;
  }
  const r = 1 + rng.int(rMax);
  x[r - 1] = special;
  x[x.length - r - 1] = special;
}

/** y [T] from x [T]: next token after the latest previous occurrence, or blank. last: [V] scratch. */
function fillTargets(x: Int32Array, y: Int32Array, last: Int32Array, blank: number): void {
  last.fill(-1);
  for (let t = 0; t < x.length; t++) {
    const j = last[x[t]];
    y[t] = j < 0 ? blank : x[j + 1];
    last[x[t]] = t;
  }
}

/**
 * INDUCTION HEADS samples (App. C.2; generator of App. D.4): y_t = x_{j(t)+1} with j(t) the latest earlier
 * occurrence of x_t, or the blank class |V|.
 *
 * @param options - |V| = vocabSize, T > 2|V| + 1, S = numSamples, seed; setting 'hard' with p, γ for Fig. 3.
 * @returns inputs [S, T] over |V| ids, targets [S, T] over |V| + 1 classes (blank = |V|, never IGNORE),
 *   hard [S] (1 for hard samples).
 * @throws ConfigError naming `options.<field>` (e.g. `options.T: expected an integer > 2·vocabSize + 1 = 21 …`).
 * @example
 * ```ts
 * const d = tasks.inductionHeads({ vocabSize: 10, T: 100, numSamples: 1000, seed: 0, setting: 'hard' });
 * d.numClasses; // 11: ten tokens and the blank
 * ```
 */
export function inductionHeads(options: InductionHeadsOptions): InductionHeadsData {
  const { vocabSize: V, T, numSamples: S, seed, setting, p, gamma, rMax } = check(options);
  checkDataMemory(S, T);
  const inputs = new Int32Array(S * T);
  const targets = new Int32Array(S * T);
  const hard = new Uint8Array(S);
  const last = new Int32Array(V);
  const rng = new Rng(seed);
  for (let s = 0; s < S; s++) {
    const x = inputs.subarray(s * T, (s + 1) * T);
    hard[s] = setting === 'hard' && rng.uniform() < p ? 1 : 0;
    if (hard[s]) fillHard(rng, x, V, rMax);
    else for (let t = 0; t < T; t++) x[t] = rng.int(V);
    fillTargets(x, targets.subarray(s * T, (s + 1) * T), last, V);
  }
  const meta =
    setting === 'hard'
      ? { task: 'inductionHeads', seed, vocabSize: V, T, numSamples: S, setting, p, gamma }
      : { task: 'inductionHeads', seed, vocabSize: V, T, numSamples: S, setting };
  return { inputs, targets, numSamples: S, T, vocabSize: V, numClasses: V + 1, meta, hard };
}
