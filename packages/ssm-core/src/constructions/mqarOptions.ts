/**
 * Options shared by the three MQAR constructions (Thm. 2, 3, 4; App. C.1) and the token layout they
 * read — the layout of the task generator `tasks.mqar` in mode 'paper' (eq. (46)–(47)):
 *   token ids: keys 0 … κ−1, values κ … κ+|V|−1      (vocabSize of the block = κ + |V|)
 *   classes:   the value index 0 … |V|−1              (numClasses = |V|), meaningful at query positions
 *
 * Embeddings: 'onehot' is each proof's Step 1 (standard basis vectors); 'jl' is its Step 2, which
 * replaces one-hot vectors by the columns of a Johnson–Lindenstrauss matrix (Lem. 4, ./jl.ts):
 *   Thm. 2 and 4: values only (p = jlDim);   Thm. 3: keys (p_k = N) and values (p_v) separately.
 * Default JL dimensions are Lem. 4's p = ⌈4 ε⁻² ln(n/δ)⌉ with ε = δ = ½ (n = |V| values, κ keys).
 */
import { configError } from '../errors.js';
import { int, object, oneOf, seed as checkSeed, show } from '../validate.js';
import { jlCoherence, jlLemmaDim, jlMatrix } from './jl.js';
import type { JlInfo } from './common.js';

/** Which MQAR construction: 'mamba' = Thm. 2 (S6), 'mamba2' = Thm. 3, 's4d' = Thm. 4 (S4D + gate). */
export type MqarMixer = 'mamba' | 'mamba2' | 's4d';
/** 'onehot' = Step 1 of each proof (standard basis vectors); 'jl' = Step 2 (Lem. 4's JL columns). */
export type MqarEmbedding = 'onehot' | 'jl';

/** Options of {@link mqarConstruction}; errors name `options.<field>`. */
export interface MqarConstructionOptions {
  /** 'mamba': Thm. 2 (S6, no gate) · 'mamba2': Thm. 3 (no gate) · 's4d': Thm. 4 (S4D mixer with the gate). */
  mixer: MqarMixer;
  /** κ, number of key–value pairs, in [1, 2^20]. */
  numKeys: number;
  /** |V|, number of values, in [1, 2^20]. */
  vocabSize: number;
  /** Default 'onehot' (Step 1 of each proof); 'jl' is Step 2. */
  embedding?: MqarEmbedding;
  /** JL dimension(s), 'jl' only: a number is the value dimension p; `keys` (Mamba-2 only) is p_k = N. */
  jlDim?: number | { keys?: number; values?: number };
  /** Seed of the JL matrices, in [0, 2^32) (default 0). */
  seed?: number;
}

/** A drawn JL matrix M ∈ R^{p×n} (row-major) with its measured ε. */
export interface JlEmbedding extends JlInfo {
  /** [p, n] row-major, entries ±1/√p. */
  M: Float32Array;
  /** Number of embedded items (columns). */
  n: number;
}

/** Checked MQAR options with the JL matrices drawn: what the three builders take. */
export interface ResolvedMqar {
  mixer: MqarMixer;
  /** κ. */
  K: number;
  /** |V|. */
  V: number;
  /** Value JL matrix, or undefined for one-hot values. */
  jlValues?: JlEmbedding;
  /** Key JL matrix (Mamba-2 'jl' only). */
  jlKeys?: JlEmbedding;
}

/** The three MQAR constructions: Thm. 2, Thm. 3, Thm. 4. */
export const MQAR_MIXERS: readonly MqarMixer[] = ['mamba', 'mamba2', 's4d'];
/** Step 1 (one-hot) and Step 2 (JL) of each proof. */
export const MQAR_EMBEDDINGS: readonly MqarEmbedding[] = ['onehot', 'jl'];

/** The key JL seed is derived from `seed` so that keys and values use independent streams. */
export const keySeed = (seed: number) => Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;

/** Lem. 4's M ∈ R^{p×n} from `seed`, with its measured ε and largest signed inner product. */
export function drawJl(p: number, n: number, seed: number): JlEmbedding {
  const M = jlMatrix(p, n, seed);
  return { M, n, p, seed, ...jlCoherence(M, p, n) };
}

function jlDims(o: MqarConstructionOptions, mixer: MqarMixer, K: number, V: number): { pk?: number; pv: number } {
  const j = o.jlDim;
  const dim = (name: string, v: unknown) => int(v, `options.${name}`, 1, 2 ** 16, 'an integer in [1, 65536]');
  if (j === undefined) return { pv: jlLemmaDim(V), pk: mixer === 'mamba2' ? jlLemmaDim(K) : undefined };
  if (typeof j === 'number') return { pv: dim('jlDim', j), pk: mixer === 'mamba2' ? jlLemmaDim(K) : undefined };
  if (typeof j !== 'object' || j === null)
    throw configError('options.jlDim', 'an integer or {keys?, values?}', show(j));
  if (j.keys !== undefined && mixer !== 'mamba2') {
    throw configError(
      'options.jlDim.keys',
      `undefined with mixer '${mixer}'`,
      show(j.keys),
      "only Thm. 3 (mixer 'mamba2') embeds keys with JL",
    );
  }
  return {
    pv: j.values === undefined ? jlLemmaDim(V) : dim('jlDim.values', j.values),
    pk: mixer === 'mamba2' ? (j.keys === undefined ? jlLemmaDim(K) : dim('jlDim.keys', j.keys)) : undefined,
  };
}

/**
 * Check MQAR construction options and draw the JL matrices they ask for (values: p_v = jlDim or Lem. 4's default;
 * Thm. 3 keys: p_k = N likewise, from a seed derived by {@link keySeed}).
 * @throws ConfigError naming `options.<field>`, e.g. `options.jlDim: expected undefined with embedding 'onehot' …`.
 */
export function checkMqarOptions(o: MqarConstructionOptions): ResolvedMqar {
  object(o, 'options', "an object {mixer: 'mamba'|'mamba2'|'s4d', numKeys, vocabSize, embedding?, jlDim?, seed?}");
  const mixer = oneOf(o.mixer, 'options.mixer', MQAR_MIXERS);
  const K = int(o.numKeys, 'options.numKeys', 1, 2 ** 20, 'an integer in [1, 2^20]');
  const V = int(o.vocabSize, 'options.vocabSize', 1, 2 ** 20, 'an integer in [1, 2^20]');
  const embedding = oneOf(o.embedding ?? 'onehot', 'options.embedding', MQAR_EMBEDDINGS);
  const seed = checkSeed(o.seed ?? 0, 'options.seed');
  if (embedding === 'onehot') {
    if (o.jlDim !== undefined)
      throw configError('options.jlDim', "undefined with embedding 'onehot'", show(o.jlDim), "set embedding: 'jl'");
    return { mixer, K, V };
  }
  const { pk, pv } = jlDims(o, mixer, K, V);
  return {
    mixer,
    K,
    V,
    jlValues: drawJl(pv, V, seed),
    jlKeys: pk === undefined ? undefined : drawJl(pk, K, keySeed(seed)),
  };
}

/** Column sums Σ_r M[r, j] (= ⟨M e_j, 1_p⟩), used by the shift-undo biases. */
export function columnSums(e: JlEmbedding): Float64Array {
  const s = new Float64Array(e.n);
  for (let r = 0; r < e.p; r++) for (let j = 0; j < e.n; j++) s[j] += e.M[r * e.n + j];
  return s;
}

/** The JlInfo part of an embedding (p, seed, ε, max inner product) for `Construction.dims.jl`. */
export const jlInfo = (e?: JlEmbedding): JlInfo | undefined =>
  e ? { p: e.p, seed: e.seed, epsilon: e.epsilon, maxInner: e.maxInner } : undefined;
