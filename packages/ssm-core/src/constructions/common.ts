/**
 * What every analytic construction shares: a hand-written weight set for the ordinary 1-layer
 * block (`MambaModel` — the same forward code trained models run), a decoder from
 * logits to per-position predictions, and the sizes used next to the paper's bound.
 *
 * Notation / shape glossary (paper Sec. 5, Tab. 2; arrays count from 0, the paper from 1)
 *   κ      number of keys (MQAR)            |V|  number of values / tokens
 *   d      embedding size = SSM channels     N    state size           p  a JL dimension (Lem. 4)
 *   b, L   batch and sequence length          tokens [b, L] → logits [b, L, numClasses]
 *   Weights are torch-layout Float32Arrays, row-major: Linear [out, in], depthwise conv [channels, k],
 *   A_log [d, N] (S6/S4D/Δ⊤) or [1] (Mamba-2), keyed by `MambaModel.paramNames()`.
 */
import { tf } from '../backend.js';
import { configError } from '../errors.js';
import { MambaModel, modelParamSpecs, resolveConfig, type MambaConfig } from '../models/mamba.js';
import { show } from '../validate.js';

/** How logits become one number per position. */
export type Decoder =
  /** argmax over the classes. */
  | 'argmax'
  /** argmax, but the last class is the blank × and decodes to −1 (INDUCTION HEADS, App. C.2). */
  | 'argmaxBlank'
  /** the single logit itself (Prop. 1's clock reads the state value t). */
  | 'value';

/** A size used by a construction next to what the paper states. */
export interface SizeBound {
  /** The statement as written in the paper, e.g. 'O(κ + log|V|)' or 'κ'. */
  expr: string;
  /** That expression evaluated at the construction's sizes with constant 1 and log₂ (nominal), or null if the paper states no size. */
  nominal: number | null;
}

/** A JL embedding as reported in `Construction.dims.jl`. */
export interface JlInfo {
  /** Dimension p of the JL embedding. */
  p: number;
  /** Seed the ±1/√p matrix was drawn from (Lem. 4). */
  seed: number;
  /** ε = max over pairs i ≠ j of |⟨M e_i, M e_j⟩| for the embedded vectors (Lem. 4, eq. (48)). */
  epsilon: number;
  /** max over pairs i ≠ j of the signed ⟨M e_i, M e_j⟩: < 1 iff no two codes coincide (antipodal codes are fine for argmax). */
  maxInner: number;
}

/** The sizes a construction uses beside the paper's bound. */
export interface ConstructionDims {
  /** Embedding size used (= SSM channels). */
  d: number;
  /** State size used. */
  N: number;
  /** The paper's size bounds for d and N at these task sizes. */
  bound: { d: SizeBound; N: SizeBound };
  /** JL matrices, when the construction uses them (keys: Mamba-2 only). */
  jl?: { keys?: JlInfo; values?: JlInfo; guarantee?: JlGuarantee };
}

/**
 * What the drawn JL codes guarantee (Thm. 3): a lower bound on the decision margin min (logit of the right value −
 * logit of any other) over every MQAR instance (46) of the construction's κ and |V|, computed from the drawn matrices.
 */
export interface JlGuarantee {
  /** The lower bound; > 0 means the built weights answer every query of every instance right. NaN: not computed (κ too large). */
  margin: number;
  /** margin > 0: exact on every instance; otherwise the construction holds with high probability only. */
  exact: boolean;
}

/** An analytic solution as real weights of the ordinary block. */
export interface Construction {
  /** The paper result it realises, e.g. 'Thm. 2'. */
  theorem: string;
  /** Human-readable description, e.g. 'MQAR · Mamba (S6) · one-hot'. */
  name: string;
  /** Config of the ordinary block; `new MambaModel(config)` has exactly the names in `params`. */
  config: MambaConfig;
  /** Every parameter of that block (flat, row-major), ready for `model.setParam(name, values)`. */
  params: Record<string, Float32Array>;
  /** d and N used, beside the paper's bound. */
  dims: ConstructionDims;
  /** How `predict` turns logits [b, L, C] into one number per position. */
  decoder: Decoder;
  /** tokens [b][L] → one decoded number per position [b][L]. */
  predict(tokens: number[][]): number[][];
  /**
   * Same as `predict` on a flat row-major [numSeqs, T] array; returns [numSeqs·T]. With `readAt` [numSeqs·T]
   * (e.g. 1 at MQAR's query positions) only those positions are decoded — the output layer runs there only —
   * and the rest are NaN.
   */
  predictFlat(tokens: Int32Array, numSeqs: number, T: number, readAt?: Uint8Array): Float64Array;
  /** A fresh `MambaModel` holding these weights (the caller disposes it). */
  createModel(): MambaModel;
  /** Free the model `predict` builds on first use (predict rebuilds it if called again). */
  dispose(): void;
}

// ── option checking ───────────────────────────────────────────────────────────────────────────────

/** Largest weight count a construction may allocate (the S4D one-hot gate alone is (κ|V|)²). */
export const MAX_WEIGHTS = 2 ** 26;

/** Refuse sizes whose weights would not fit in memory, naming the options that set them. */
export function checkWeightCount(config: MambaConfig, options: string): void {
  const total = modelParamSpecs(resolveConfig(config)).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  if (total > MAX_WEIGHTS) {
    throw configError(
      options,
      `sizes giving at most 2^26 weights`,
      `${total} weights (d = ${config.dModel}, N = ${config.dState})`,
      "use embedding 'jl' or smaller sizes",
    );
  }
}

// ── weights ───────────────────────────────────────────────────────────────────────────────────────

/** Zero-initialised weights for every parameter of `config`, with 2-D setters. */
export class Weights {
  readonly values: Record<string, Float32Array> = {};
  readonly shapes: Record<string, number[]> = {};

  constructor(config: MambaConfig) {
    for (const s of modelParamSpecs(resolveConfig(config))) {
      this.values[s.name] = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
      this.shapes[s.name] = s.shape;
    }
  }

  private get(name: string): Float32Array {
    const v = this.values[name];
    if (!v)
      throw new Error(
        `internal: construction sets unknown parameter ${name} (have ${Object.keys(this.values).join(', ')})`,
      );
    return v;
  }

  /** W[r, c] = v for a [rows, cols] parameter (c = 0 for 1-D ones). */
  set(name: string, r: number, c: number, v: number): void {
    const shape = this.shapes[name];
    const cols = shape && shape.length > 1 ? shape[1] : 1;
    this.get(name)[r * cols + c] = v;
  }

  fill(name: string, v: number): void {
    this.get(name).fill(v);
  }
}

// ── the construction object ───────────────────────────────────────────────────────────────────────

/** Logits elements per forward call when predicting (keeps memory bounded for 10⁴-sequence evaluations). */
const BATCH_ELEMENTS = 1 << 22;

/** Wrap weights into a Construction whose predict runs the ordinary block. */
export function makeConstruction(o: {
  theorem: string;
  name: string;
  config: MambaConfig;
  weights: Weights;
  dims: ConstructionDims;
  decoder: Decoder;
}): Construction {
  const { config, decoder } = o;
  const params = o.weights.values;
  const resolved = resolveConfig(config);
  const createModel = () => {
    const m = new MambaModel(config);
    try {
      const names = m.paramNames();
      if (names.length !== Object.keys(params).length || names.some((n) => !params[n])) {
        throw new Error(
          `internal: weights ${Object.keys(params).join(',')} do not match the block's ${names.join(',')}`,
        );
      }
      for (const n of names) m.setParam(n, params[n]);
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  };
  let model: MambaModel | undefined;
  const width = Math.max(resolved.numClasses, resolved.dModel);

  const predictFlat = (tokens: Int32Array, numSeqs: number, T: number, readAt?: Uint8Array): Float64Array => {
    if (
      !(tokens instanceof Int32Array) ||
      !Number.isInteger(numSeqs) ||
      numSeqs < 1 ||
      !Number.isInteger(T) ||
      T < 1 ||
      tokens.length !== numSeqs * T
    ) {
      throw configError(
        'tokens',
        `an Int32Array of numSeqs·T = ${numSeqs}·${T} ids`,
        tokens instanceof Int32Array ? `length ${tokens.length}` : typeof tokens,
      );
    }
    if (readAt !== undefined && !(readAt instanceof Uint8Array && readAt.length === tokens.length)) {
      throw configError(
        'readAt',
        `a Uint8Array of numSeqs·T = ${tokens.length} flags`,
        readAt instanceof Uint8Array ? `length ${readAt.length}` : typeof readAt,
      );
    }
    model ??= createModel();
    const out = new Float64Array(numSeqs * T);
    const rows = Math.max(1, Math.floor(BATCH_ELEMENTS / (T * width)));
    for (let s = 0; s < numSeqs; s += rows) {
      const b = Math.min(rows, numSeqs - s);
      const decoded = decodeBatch(
        model,
        tokens.subarray(s * T, (s + b) * T),
        b,
        T,
        decoder,
        resolved.numClasses,
        readAt?.subarray(s * T, (s + b) * T),
      );
      out.set(decoded, s * T);
    }
    return out;
  };

  const predict = (tokens: number[][]): number[][] => {
    if (
      !Array.isArray(tokens) ||
      tokens.length === 0 ||
      !tokens.every((r) => Array.isArray(r) && r.length === tokens[0].length) ||
      tokens[0].length === 0
    ) {
      const got = Array.isArray(tokens)
        ? `rows of lengths ${tokens.map((r) => (Array.isArray(r) ? r.length : typeof r)).join(',')}`
        : typeof tokens;
      throw configError('tokens', 'a non-empty rectangular number[][] [batch, L]', got);
    }
    const b = tokens.length;
    const T = tokens[0].length;
    const flat = new Int32Array(b * T);
    for (let i = 0; i < b; i++) {
      for (let t = 0; t < T; t++) {
        const v = tokens[i][t];
        if (!Number.isInteger(v) || v < 0 || v >= resolved.vocabSize) {
          throw configError('tokens', `integer token ids in [0, ${resolved.vocabSize})`, `${show(v)} at [${i}][${t}]`);
        }
        flat[i * T + t] = v;
      }
    }
    const dec = predictFlat(flat, b, T);
    return Array.from({ length: b }, (_, i) => Array.from(dec.subarray(i * T, (i + 1) * T)));
  };

  return {
    theorem: o.theorem,
    name: o.name,
    config,
    params,
    dims: o.dims,
    decoder,
    predict,
    predictFlat,
    createModel,
    dispose: () => {
      model?.dispose();
      model = undefined;
    },
  };
}

/**
 * One forward pass of the block on [b, T] tokens and the decoded [b·T] predictions. With `readAt` [b·T]
 * (nonzero = decode here) only those positions go through the output layer; the others are NaN.
 */
function decodeBatch(
  model: MambaModel,
  tokens: Int32Array,
  b: number,
  T: number,
  decoder: Decoder,
  numClasses: number,
  readAt?: Uint8Array,
): Float64Array {
  const out = new Float64Array(b * T);
  const pos = readAt ? Int32Array.from(readAt.keys()).filter((i) => readAt[i] !== 0) : undefined;
  if (pos) out.fill(NaN);
  if (pos?.length === 0) return out;
  const scores = tf.tidy(() => {
    const input = tf.tensor2d(tokens, [b, T], 'int32');
    const logits = pos ? model.logitsAt(input, pos) : model.forward(input).reshape([b * T, numClasses]); // [m, C]
    return decoder === 'value' ? logits : tf.argMax(logits, 1);
  });
  const v = scores.dataSync();
  scores.dispose();
  for (let k = 0; k < v.length; k++) {
    const y = decoder === 'argmaxBlank' && v[k] === numClasses - 1 ? -1 : v[k];
    out[pos ? pos[k] : k] = y;
  }
  return out;
}

/** ⌈log₂ n⌉ (at least 1): the nominal value of a log in an O(·) bound. */
export const log2ceil = (n: number) => Math.max(1, Math.ceil(Math.log2(n)));
