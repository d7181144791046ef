/**
 * KEEP n-TH (paper Sec. 4, l. 491–493; set-up in App. D.2, l. 4286–4288): recall the n-th token of a
 * random sequence at every later step. KEEP FIRST is n = 1.
 *
 * Layout glossary (S samples, T positions; the paper counts t and n from 1, arrays from 0):
 *   inputs  [S, T]  x_t i.i.d. uniform over token ids 0 … |V|−1 (the paper's {1, …, |V|} shifted down by one)
 *   targets [S, T]  y_t = x_n for 1-based t ≥ n, i.e. array indices n−1 … T−1; IGNORE before
 *   vocabSize = numClasses = |V|
 *
 * Where the paper is ambiguous: D.2 writes the target as "y_t = x_n for n < t ≤ T" (l. 4287) but scores
 * "the predicted output at time t = n, …, T" (l. 4288). We follow the scoring sentence, so t = n (where the
 * answer is the current input) has a target too.
 *
 * Randomness: one Rng(seed) stream read in sample order (x_1 … x_T of sample 0, then sample 1, …), so the
 * data depend on the seed alone and fewer samples with the same seed are a prefix of more samples.
 */
import { Rng } from '../random.js';
import { int, object, seed as checkSeed } from '../validate.js';
import { checkDataMemory, IGNORE, type TaskData } from './types.js';

/** Options of {@link keepNth}; errors name `options.<field>`. */
export interface KeepNthOptions {
  /** 1-based position of the token to keep, 1 ≤ n ≤ T (paper: n = 5). */
  n: number;
  /** |V|, number of token ids (paper: 128). */
  vocabSize: number;
  /** Sequence length. */
  T: number;
  /** S, number of samples (rows). */
  numSamples: number;
  /** Integer in [0, 2^32). */
  seed: number;
}

const MAX_ID = 2 ** 31 - 1;

function check(o: KeepNthOptions): Required<KeepNthOptions> {
  object(o, 'options', 'an object {n, vocabSize, T, numSamples, seed}');
  const T = int(o.T, 'options.T', 1, MAX_ID, 'an integer ≥ 1');
  const n = int(o.n, 'options.n', 1, T, `an integer in [1, T=${T}]`);
  const vocabSize = int(o.vocabSize, 'options.vocabSize', 2, MAX_ID, 'an integer ≥ 2');
  const numSamples = int(o.numSamples, 'options.numSamples', 1, MAX_ID, 'an integer ≥ 1');
  const seed = checkSeed(o.seed, 'options.seed');
  return { n, vocabSize, T, numSamples, seed };
}

/**
 * KEEP n-TH samples (Sec. 4; set-up of App. D.2): recall x_n at every step t ≥ n.
 *
 * @param options - n (1-based, ≤ T), |V| = vocabSize, T, S = numSamples, seed.
 * @returns inputs [S, T] i.i.d. uniform over |V| ids; targets [S, T] = x_n at 1-based t ≥ n, IGNORE
 *   before; numClasses = |V|.
 * @throws ConfigError naming `options.<field>`, e.g. `options.n: expected an integer in [1, T=50], got 60`.
 * @example
 * ```ts
 * const d = tasks.keepNth({ n: 5, vocabSize: 128, T: 50, numSamples: 1000, seed: 0 });
 * d.targets[4] === d.inputs[4]; // row 0, t = n = 5
 * ```
 */
export function keepNth(options: KeepNthOptions): TaskData {
  const { n, vocabSize: V, T, numSamples: S, seed } = check(options);
  checkDataMemory(S, T);
  const inputs = new Int32Array(S * T);
  const targets = new Int32Array(S * T).fill(IGNORE);
  const rng = new Rng(seed);
  for (let s = 0; s < S; s++) {
    const row = s * T;
    for (let t = 0; t < T; t++) inputs[row + t] = rng.int(V);
    targets.fill(inputs[row + n - 1], row + n - 1, row + T);
  }
  return {
    inputs,
    targets,
    numSamples: S,
    T,
    vocabSize: V,
    numClasses: V,
    meta: { task: 'keepNth', seed, n, vocabSize: V, T, numSamples: S },
  };
}
