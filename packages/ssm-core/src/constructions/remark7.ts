/**
 * Remark 7 (paper l. 3682–3689): Thm. 3's N = log κ Mamba-2 construction can fail on an adversarial
 * MQAR input where all values but one are the same token,
 *   x = [k_1 v_1 k_2 v … k_κ v | queries],   v_1 ≠ v,
 * because at the query of k_1 the stored values under the other keys leak in with weight ⟨k_l, k_1⟩:
 *   y = v_1 + S·v,   S = Σ_{l≠1} ⟨k_l, k_1⟩ (≤ ε(κ−1)),
 * so logit(v) − logit(v_1) = (S − 1)(1 − ⟨v, v_1⟩) > 0 as soon as S > 1 — a sure failure whatever the
 * other classes do. Decreasing ε (more key dimensions, Lem. 4: p = O(ε⁻² log κ)) brings S below 1.
 *
 * The demo: for key dimensions p_k = ⌈log₂ κ⌉, 2⌈log₂ κ⌉, 4⌈log₂ κ⌉, … (up to `maxKeyDim`), build the
 * Thm. 3 JL construction, and run through the block, for every choice of the special key i*, the
 * input [k_0 v … k_{i*} v_1 … k_{κ−1} v | k_0 k_1 … k_{κ−1}] (T = 3κ, value indices v = 0, v_1 = 1, so
 * that a tie S = 1 also goes against v_1: argmax returns the lowest index).
 * Reported per p_k: ε, ε(κ−1), S_max = max_i S_i, how many special keys are answered wrongly, how many
 * have S_i > 1 (predicted wrong), and the accuracy on random instances.
 */
import { int, nonEmptyArray, object, seed as checkSeed } from '../validate.js';
import { log2ceil } from './common.js';
import { scoreMqar } from './evaluate.js';
import { jlLemmaDim } from './jl.js';
import { mqarConstruction } from './mqar.js';
import { table } from './tightness.js';

/** Options of {@link remark7Demo}; errors name `options.<field>`. */
export interface Remark7Options {
  /** κ (default 16). */
  numKeys?: number;
  /** |V| (default 64). */
  vocabSize?: number;
  /** Value JL dimension p_v (default Lem. 4's, ε = δ = ½). */
  valuesDim?: number;
  /** Key dimensions to try (default ⌈log₂ κ⌉ doubling up to maxKeyDim, stopping after the first with no failure). */
  keyDims?: number[];
  /** Largest key dimension of the default ladder (default 64κ). */
  maxKeyDim?: number;
  /** JL seed (default 0). */
  seed?: number;
  /** Random instances scored per row (default 200, T = 4κ). */
  randomInstances?: number;
}

/** Remark 7 at one key dimension p_k. */
export interface Remark7Row {
  /** Key JL dimension p_k = N. */
  pk: number;
  /** Embedding size d = p_k + p_v. */
  d: number;
  /** ε of the key embedding, and ε(κ−1) (Remark 7's failure threshold is 1). */
  epsilon: number;
  /** See `epsilon`. */
  epsilonTimesKeysMinusOne: number;
  /** S_i = Σ_{l≠i} ⟨k_l, k_i⟩, largest over i. */
  maxCrossTalk: number;
  /** Special keys i* whose adversarial query is answered wrongly (out of κ). */
  adversarialFailures: number;
  /** Special keys with S_i > 1 (+10⁻⁶ for float32 round-off), where the argument above forces a wrong answer. */
  predictedFailures: number;
  /** Keys with S_i > 1 that were nevertheless answered correctly (0 if the analysis and the block agree). */
  predictedButCorrect: number;
  /** Accuracy at the queries of random instances. */
  randomAccuracy: number;
}

/** Remark 7's demo: one row per key dimension tried, and the printed table. */
export interface Remark7Result {
  /** κ. */
  numKeys: number;
  /** |V|. */
  vocabSize: number;
  /** p_v. */
  valuesDim: number;
  /** One row per key dimension p_k. */
  rows: Remark7Row[];
  /** The rows as a plain-text table. */
  text: string;
}

/**
 * Remark 7's adversarial inputs [κ, 3κ] (token ids of `tasks.mqar` mode 'paper'), row i* = [k_0 v … k_{i*} v_1 …
 * k_{κ−1} v | k_0 … k_{κ−1}], and the position of key i*'s query in each row.
 * @param K - κ; v1, v - value indices of the special and the common value.
 */
export function remark7Inputs(K: number, v1 = 1, v = 0): { inputs: Int32Array; queryPos: Int32Array; T: number } {
  const T = 3 * K;
  const inputs = new Int32Array(K * T);
  const queryPos = new Int32Array(K);
  for (let s = 0; s < K; s++) {
    const row = inputs.subarray(s * T, (s + 1) * T);
    for (let l = 0; l < K; l++) {
      row[2 * l] = l;
      row[2 * l + 1] = K + (l === s ? v1 : v);
      row[2 * K + l] = l;
    }
    queryPos[s] = 2 * K + s;
  }
  return { inputs, queryPos, T };
}

/** S_i = Σ_{l≠i} ⟨k_l, k_i⟩ from the key JL matrix [p, κ]. */
function crossTalk(M: Float32Array, p: number, K: number): Float64Array {
  const rowSum = new Float64Array(p);
  for (let r = 0; r < p; r++) for (let l = 0; l < K; l++) rowSum[r] += M[r * K + l];
  const S = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    let total = 0;
    let self = 0;
    for (let r = 0; r < p; r++) {
      total += rowSum[r] * M[r * K + i];
      self += M[r * K + i] * M[r * K + i];
    }
    S[i] = total - self;
  }
  return S;
}

function check(o: Remark7Options) {
  object(o, 'options', 'an object {numKeys?, vocabSize?, valuesDim?, keyDims?, maxKeyDim?, seed?, randomInstances?}');
  const K = int(o.numKeys ?? 16, 'options.numKeys', 2, 4096);
  const V = int(o.vocabSize ?? 64, 'options.vocabSize', 2, 1 << 16);
  const pv = int(o.valuesDim ?? jlLemmaDim(V), 'options.valuesDim', 1, 1 << 16);
  const maxKeyDim = int(o.maxKeyDim ?? 64 * K, 'options.maxKeyDim', 1, 1 << 16);
  const seed = checkSeed(o.seed ?? 0, 'options.seed');
  const randomInstances = int(o.randomInstances ?? 200, 'options.randomInstances', 1, 1e7, 'an integer ≥ 1');
  if (o.keyDims !== undefined) {
    nonEmptyArray(o.keyDims, 'options.keyDims', 'a non-empty array of integers in [1, 65536]');
    o.keyDims.forEach((p, i) => int(p, `options.keyDims[${i}]`, 1, 1 << 16));
  }
  return { K, V, pv, maxKeyDim, seed, randomInstances, keyDims: o.keyDims };
}

/** One row: build Thm. 3 JL with p_k, run the adversarial inputs and random instances through the block. */
function row(K: number, V: number, pk: number, pv: number, seed: number, randomInstances: number): Remark7Row {
  const c = mqarConstruction({
    mixer: 'mamba2',
    numKeys: K,
    vocabSize: V,
    embedding: 'jl',
    jlDim: { keys: pk, values: pv },
    seed,
  });
  try {
    const keyM = c.params['embedding.weight']; // rows 0 … κ−1 hold the key codes on channels [0, p_k)
    const d = c.dims.d;
    const M = new Float32Array(pk * K);
    for (let i = 0; i < K; i++) for (let r = 0; r < pk; r++) M[r * K + i] = keyM[i * d + r];
    const S = crossTalk(M, pk, K);
    const { inputs, queryPos, T } = remark7Inputs(K);
    const pred = c.predictFlat(inputs, K, T);
    let failures = 0;
    let predicted = 0;
    let predictedButCorrect = 0;
    for (let s = 0; s < K; s++) {
      const wrong = pred[s * T + queryPos[s]] !== 1; // v_1 = 1
      if (wrong) failures++;
      if (S[s] > 1 + 1e-6) {
        predicted++;
        if (!wrong) predictedButCorrect++;
      }
    }
    const eps = c.dims.jl!.keys!.epsilon;
    const random = scoreMqar(c, { numKeys: K, vocabSize: V, T: 4 * K }, { instances: randomInstances, seed: 1 });
    return {
      pk,
      d,
      epsilon: eps,
      epsilonTimesKeysMinusOne: eps * (K - 1),
      maxCrossTalk: Math.max(...S),
      adversarialFailures: failures,
      predictedFailures: predicted,
      predictedButCorrect,
      randomAccuracy: random.accuracy,
    };
  } finally {
    c.dispose();
  }
}

/**
 * Remark 7 (l. 3682–3689): Thm. 3's JL construction with key dimension p_k on the adversarial inputs, for a
 * ladder of p_k, with the cross-talk S_i = Σ_{l≠i}⟨k_l, k_i⟩ that predicts each failure (S_i > 1).
 * @throws ConfigError naming `options.<field>`.
 */
export function remark7Demo(options: Remark7Options = {}): Remark7Result {
  const { K, V, pv, maxKeyDim, seed, randomInstances, keyDims } = check(options);
  const rows: Remark7Row[] = [];
  if (keyDims) {
    for (const pk of keyDims) rows.push(row(K, V, pk, pv, seed, randomInstances));
  } else {
    for (let pk = log2ceil(K); pk <= maxKeyDim; pk *= 2) {
      const r = row(K, V, pk, pv, seed, randomInstances);
      rows.push(r);
      if (r.adversarialFailures === 0) break;
    }
  }
  const body = rows.map((r) => [
    String(r.pk),
    String(r.d),
    r.epsilon.toFixed(3),
    r.epsilonTimesKeysMinusOne.toFixed(2),
    r.maxCrossTalk.toFixed(2),
    `${r.adversarialFailures}/${K}`,
    `${r.predictedFailures}/${K}`,
    `${(100 * r.randomAccuracy).toFixed(2)}%`,
  ]);
  const text = table(
    ['N = p_k', 'd', 'ε (keys)', 'ε(κ−1)', 'max S_i', 'adversarial wrong', 'S_i > 1', 'random acc.'],
    body,
    `Remark 7 — Thm. 3 (Mamba-2, JL) on [k_1 v_1 k_2 v … k_κ v | queries], κ=${K}, |V|=${V}, p_v=${pv}; log₂κ = ${log2ceil(K)}`,
  );
  return { numKeys: K, vocabSize: V, valuesDim: pv, rows, text };
}
