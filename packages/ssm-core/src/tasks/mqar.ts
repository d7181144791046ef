/**
 * MQAR, multi-query associative recall (paper Sec. 5.1, l. 807–824; App. C.1 eq. (46)–(47), l. 2935–2950;
 * set-up in App. D.3, l. 4484–4493), in two layouts.
 *
 * ── mode 'paper' (default) ─────────────────────────────────────────────────────────────────────────
 *   x = [k_1 v_1 … k_κ v_κ | v× … v× k_i1 v× … k_iκ v× …]       (eq. (46))
 *       └─ pair region [0, 2κ) ─┘ └─ query region [2κ, T) ─┘
 *   Token ids: keys 0 … κ−1, values κ … κ+|V|−1       → vocabSize = κ + |V|
 *   Classes:   the value index 0 … |V|−1 (id − κ)     → numClasses = |V|
 *   pairs:   each of the κ keys exactly once, in uniformly random order, each followed by its value,
 *            values i.i.d. uniform over the |V| values (so two keys may share a value)
 *   queries: the query region holds every key exactly once plus T − 3κ noise tokens (i.i.d. uniform values);
 *            the whole region is uniformly shuffled, so the query order and the query positions are uniform
 *   targets: at each query, the index of the value paired with that key; IGNORE everywhere else
 *   minimum T = 3κ (pairs + queries, no noise). The paper trains at T = 100 with κ up to 32 (Fig. 2, l. 1415).
 *
 *   Where the paper is ambiguous:
 *   - D.3 (l. 4491) says keys are drawn i.i.d. from {1, …, κ}, but a repeated key would make "the value of
 *     the key" ill-defined, and eq. (46) (l. 2938–2941) and eq. (60) (l. 3262–3269) show κ keys queried
 *     k_i1 … k_iκ once each. We use a random permutation of the κ keys.
 *   - How many noise tokens sit between queries is not given ("randomly interwoven", l. 3269); we place the
 *     κ queries at a uniformly random κ-subset of the query region. Noise is never required, so with
 *     T = 100 and κ = 32 the query region is 36 tokens: 32 queries and 4 noise tokens.
 *
 * ── mode 'zoology' ───────────────────────────────────────────────────────────────────────────────────
 *   Mirrors `multiquery_ar` of HazyResearch/zoology (zoology/data/multiquery_ar.py; older releases
 *   keep it in zoology/data/associative_recall.py), with vocabSize = vocab_size, numKeys = num_kv_pairs,
 *   T = input_seq_len, powerA = power_a, randomNonQueries = random_non_queries, numPasses = num_passes.
 *   Token ids 0 … vocabSize−1, split in halves at K = ⌊vocabSize/2⌋:
 *     keys   κ distinct ids from 1 … K−1 (0 is zoology's "empty" filler)
 *     values κ distinct ids from K … vocabSize−1
 *   x = [k_1 v_1 … k_κ v_κ (× numPasses) | query region of T − 2κ·numPasses tokens]
 *   Query region offsets come in 2-token slots g = 0 … space−1, space = (T − 2κ·numPasses)/2. Key i goes to
 *   offset 2·g_i, where g_1, g_2, … are drawn one after the other without replacement with
 *   P(g) ∝ (g+1)^(powerA − 1) — a power law favouring short gaps (powerA = 1 is uniform). Every other
 *   position is a filler: 0, or (randomNonQueries, the default) an id uniform over the whole vocabulary.
 *   targets: the value id at each query-key position (zoology shifts labels so the label sits on the key and
 *   the model predicts the next token); IGNORE elsewhere. numClasses = vocabSize.
 *   Checks as zoology asserts: T even, 2κ·numPasses + 2κ ≤ T, vocabSize > T, and κ ≤ K − 1 distinct keys.
 *
 * Randomness: one Rng(seed) stream read in sample order, so the data depend on the seed alone and fewer
 * samples with the same seed are a prefix of more samples. (Zoology's numpy stream is not reproduced.)
 */
import { configError } from '../errors.js';
import { Rng } from '../random.js';
import { bool, int, object, oneOf, positive, seed as checkSeed, show } from '../validate.js';
import { checkDataMemory, IGNORE, type TaskData } from './types.js';

/** 'paper': the layout of eq. (46)–(47). 'zoology': HazyResearch/zoology's `multiquery_ar`. See the module header. */
export type MqarMode = 'paper' | 'zoology';

/** Options of {@link mqar}; errors name `options.<field>`. */
export interface MqarOptions {
  /** κ, number of key–value pairs (zoology: num_kv_pairs). */
  numKeys: number;
  /** 'paper': |V|, number of values (paper: 128). 'zoology': the whole vocabulary (vocab_size). */
  vocabSize: number;
  /** Sequence length (zoology: input_seq_len). */
  T: number;
  /** S, number of samples (rows). */
  numSamples: number;
  /** Integer in [0, 2^32). */
  seed: number;
  /** Layout, default 'paper'. */
  mode?: MqarMode;
  /** 'zoology' only: power-law exponent of the query gaps, default 0.01. */
  powerA?: number;
  /** 'zoology' only: fill non-query positions with random ids (true, default) or 0. */
  randomNonQueries?: boolean;
  /** 'zoology' only: repetitions of the key–value block (JRT), default 1. */
  numPasses?: number;
}

const MAX_ID = 2 ** 31 - 1;
const NOISE = -1;
const MODES: readonly MqarMode[] = ['paper', 'zoology'];

/** k distinct entries of `pool` in uniformly random order into out[0, k) (partial Fisher–Yates; pool is restored). */
function sampleDistinct(rng: Rng, pool: Int32Array, k: number, out: Int32Array, swaps: Int32Array): void {
  const n = pool.length;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    swaps[i] = j;
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
    out[i] = pool[i];
  }
  for (let i = k - 1; i >= 0; i--) {
    const j = swaps[i];
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
}

/** In-place uniform shuffle (Fisher–Yates). */
function shuffle(rng: Rng, a: Int32Array): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = a[i];
    a[i] = a[j];
    a[j] = tmp;
  }
}

const iota = (n: number, start = 0) => Int32Array.from({ length: n }, (_, i) => start + i);

interface Common {
  numKeys: number;
  vocabSize: number;
  T: number;
  numSamples: number;
  seed: number;
}

function checkCommon(o: MqarOptions): Common {
  const numKeys = int(o.numKeys, 'options.numKeys', 1, MAX_ID, 'an integer ≥ 1');
  const vocabSize = int(o.vocabSize, 'options.vocabSize', 2, MAX_ID - numKeys, 'an integer ≥ 2');
  const T = int(o.T, 'options.T', 1, MAX_ID, 'an integer ≥ 1');
  const numSamples = int(o.numSamples, 'options.numSamples', 1, MAX_ID, 'an integer ≥ 1');
  const seed = checkSeed(o.seed, 'options.seed');
  return { numKeys, vocabSize, T, numSamples, seed };
}

// ── mode 'paper' ─────────────────────────────────────────────────────────────────────────────────────

function mqarPaper(o: MqarOptions): TaskData {
  for (const k of ['powerA', 'randomNonQueries', 'numPasses'] as const) {
    if (o[k] !== undefined)
      throw configError(`options.${k}`, "undefined in mode 'paper'", show(o[k]), "it is a mode 'zoology' option");
  }
  const { numKeys: K, vocabSize: V, T, numSamples: S, seed } = checkCommon(o);
  if (T < 3 * K) throw configError('options.T', `an integer ≥ 3·numKeys = ${3 * K} (κ pairs, then κ queries)`, show(T));
  checkDataMemory(S, T);
  const inputs = new Int32Array(S * T);
  const targets = new Int32Array(S * T).fill(IGNORE);
  const rng = new Rng(seed);
  const keyPool = iota(K);
  const order = new Int32Array(K); // [κ] keys in pair order
  const swaps = new Int32Array(K);
  const valueOf = new Int32Array(K); // [κ] value index of each key
  const region = new Int32Array(T - 2 * K); // [T − 2κ] query region: key ids or NOISE
  for (let s = 0; s < S; s++) {
    const row = s * T;
    sampleDistinct(rng, keyPool, K, order, swaps);
    for (let i = 0; i < K; i++) {
      const key = order[i];
      valueOf[key] = rng.int(V);
      inputs[row + 2 * i] = key;
      inputs[row + 2 * i + 1] = K + valueOf[key];
    }
    for (let i = 0; i < region.length; i++) region[i] = i < K ? i : NOISE;
    shuffle(rng, region);
    for (let i = 0, t = row + 2 * K; i < region.length; i++, t++) {
      const key = region[i];
      if (key === NOISE) {
        inputs[t] = K + rng.int(V);
      } else {
        inputs[t] = key;
        targets[t] = valueOf[key];
      }
    }
  }
  return {
    inputs,
    targets,
    numSamples: S,
    T,
    vocabSize: K + V,
    numClasses: V,
    meta: { task: 'mqar', mode: 'paper', seed, numKeys: K, vocabSize: V, T, numSamples: S },
  };
}

// ── mode 'zoology' ───────────────────────────────────────────────────────────────────────────────────

interface ZoologyOptions extends Common {
  powerA: number;
  randomNonQueries: boolean;
  numPasses: number;
}

function checkZoology(o: MqarOptions): ZoologyOptions {
  const c = checkCommon(o);
  const half = Math.floor(c.vocabSize / 2);
  if (c.numKeys > half - 1) {
    throw configError(
      'options.numKeys',
      `an integer ≤ ⌊vocabSize/2⌋ − 1 = ${half - 1} in mode 'zoology'`,
      show(c.numKeys),
      'keys are distinct ids from 1 … ⌊vocabSize/2⌋ − 1',
    );
  }
  const numPasses = int(o.numPasses ?? 1, 'options.numPasses', 1, MAX_ID, 'an integer ≥ 1');
  const powerA = positive(o.powerA ?? 0.01, 'options.powerA');
  const randomNonQueries = bool(o.randomNonQueries ?? true, 'options.randomNonQueries');
  if (c.T % 2 !== 0) throw configError('options.T', "an even integer in mode 'zoology'", show(c.T));
  const minT = 2 * c.numKeys * numPasses + 2 * c.numKeys;
  if (c.T < minT)
    throw configError(
      'options.T',
      `an integer ≥ 2·numKeys·numPasses + 2·numKeys = ${minT} in mode 'zoology'`,
      show(c.T),
    );
  if (c.vocabSize <= c.T)
    throw configError(
      'options.vocabSize',
      `an integer > T=${c.T} in mode 'zoology' (zoology asserts vocab_size > input_seq_len)`,
      show(c.vocabSize),
    );
  return { ...c, powerA, randomNonQueries, numPasses };
}

/**
 * Gap slots g_1 … g_k into out, drawn one after the other without replacement with P(g) ∝ weights[g]
 * (numpy's `choice(replace=False, p=…)` has this law). taken: [space] scratch, left cleared.
 */
function sampleWeighted(
  rng: Rng,
  weights: Float64Array,
  total: number,
  k: number,
  out: Int32Array,
  taken: Uint8Array,
): void {
  let left = total;
  for (let i = 0; i < k; i++) {
    const u = rng.uniform() * left;
    let acc = 0;
    let pick = -1;
    for (let g = 0; g < weights.length; g++) {
      if (taken[g]) continue;
      pick = g; // the last free slot also absorbs round-off in `left`
      acc += weights[g];
      if (u < acc) break;
    }
    taken[pick] = 1;
    left -= weights[pick];
    out[i] = pick;
  }
  for (let i = 0; i < k; i++) taken[out[i]] = 0;
}

function mqarZoology(o: MqarOptions): TaskData {
  const { numKeys: K, vocabSize: V, T, numSamples: S, seed, powerA, randomNonQueries, numPasses } = checkZoology(o);
  const half = Math.floor(V / 2);
  const context = 2 * K * numPasses;
  const space = (T - context) / 2;
  const weights = Float64Array.from({ length: space }, (_, g) => (g + 1) ** (powerA - 1)); // [space]
  const total = weights.reduce((a, b) => a + b, 0);
  const keyPool = iota(half - 1, 1);
  const valuePool = iota(V - half, half);
  const keys = new Int32Array(K); // [κ]
  const values = new Int32Array(K); // [κ]
  const gaps = new Int32Array(K); // [κ]
  const swaps = new Int32Array(K);
  const taken = new Uint8Array(space);
  checkDataMemory(S, T);
  const inputs = new Int32Array(S * T);
  const targets = new Int32Array(S * T).fill(IGNORE);
  const rng = new Rng(seed);
  for (let s = 0; s < S; s++) {
    const row = s * T;
    sampleDistinct(rng, keyPool, K, keys, swaps);
    sampleDistinct(rng, valuePool, K, values, swaps);
    for (let pass = 0; pass < numPasses; pass++) {
      for (let i = 0; i < K; i++) {
        inputs[row + pass * 2 * K + 2 * i] = keys[i];
        inputs[row + pass * 2 * K + 2 * i + 1] = values[i];
      }
    }
    sampleWeighted(rng, weights, total, K, gaps, taken);
    for (let t = row + context; t < row + T; t++) inputs[t] = 0;
    for (let i = 0; i < K; i++) {
      const t = row + context + 2 * gaps[i];
      inputs[t] = keys[i];
      targets[t] = values[i];
    }
    if (randomNonQueries) {
      for (let t = row + context; t < row + T; t++) if (targets[t] === IGNORE) inputs[t] = rng.int(V);
    }
  }
  return {
    inputs,
    targets,
    numSamples: S,
    T,
    vocabSize: V,
    numClasses: V,
    meta: {
      task: 'mqar',
      mode: 'zoology',
      seed,
      numKeys: K,
      vocabSize: V,
      T,
      numSamples: S,
      powerA,
      randomNonQueries,
      numPasses,
    },
  };
}

/**
 * MQAR samples (Sec. 5.1, App. C.1 eq. (46)–(47), set-up of App. D.3), in the paper's or zoology's layout.
 *
 * @param options - κ = numKeys, |V| = vocabSize, T (≥ 3κ in mode 'paper'), S = numSamples, seed, mode.
 * @returns inputs [S, T]; targets [S, T] set only at the query positions (the value index 0 … |V|−1 in mode
 *   'paper', the value id in mode 'zoology'), IGNORE elsewhere. Mode 'paper': vocabSize = κ + |V|,
 *   numClasses = |V|.
 * @throws ConfigError naming `options.<field>`, e.g. `options.T: expected an integer ≥ 3·numKeys = 96 …`.
 * @example
 * ```ts
 * const d = tasks.mqar({ numKeys: 32, vocabSize: 128, T: 100, numSamples: 1000, seed: 0 });
 * d.vocabSize; // 160 = κ + |V| token ids; d.numClasses = 128
 * ```
 */
export function mqar(options: MqarOptions): TaskData {
  object(options, 'options', 'an object {numKeys, vocabSize, T, numSamples, seed, mode?}');
  const mode = oneOf(options.mode ?? 'paper', 'options.mode', MODES);
  return mode === 'paper' ? mqarPaper(options) : mqarZoology(options);
}
