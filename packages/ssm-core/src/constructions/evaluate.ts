/**
 * Scoring constructions on random task instances against brute-force answers read straight off
 * the task definitions (independent of the generators' own targets):
 *   MQAR (46)–(47):     at a query (a key in the query region t ≥ 2κ), the value that followed the same
 *                       key in the pair region t < 2κ, as an index 0 … |V|−1
 *   INDUCTION HEADS:    y_t = x_{j+1}, j = max{j < t : x_j = x_t}, or −1 (blank) (App. C.2, l. 4014–4019)
 *   KEEP n-TH:          x_n at every t ≥ n (1-based; App. D.2)
 * Instances come from `tasks.*` with a seed; evaluation runs the construction's `predictFlat` in
 * chunks and can stop at the first wrong answer (for searches).
 */
import { inductionHeads, keepNth, mqar } from '../tasks/index.js';
import type { Construction } from './common.js';

/** A construction's accuracy at the scored positions of random task instances. */
export interface Score {
  /** Scored positions answered right. */
  correct: number;
  /** Scored positions (MQAR: the queries; KEEP n-TH: t ≥ n; INDUCTION HEADS: every t). */
  total: number;
  /** correct / total (1 when total = 0). */
  accuracy: number;
  /** Instances evaluated (fewer than requested when stopped at the first error). */
  instances: number;
  /** The first wrong answer, if any: instance, 0-based position, expected and predicted. */
  firstError?: { instance: number; t: number; expected: number; got: number };
  /** Wall-clock seconds. */
  seconds: number;
}

/** How many instances to score, from which seed, and whether to stop at the first error. */
export interface ScoreOptions {
  /** Number of random instances (default 10⁴). */
  instances?: number;
  /** Seed of the task generator (default 1). */
  seed?: number;
  /** Stop at the first wrong answer (default false). */
  stopAtFirstError?: boolean;
  /** Instances per predict call (default: growing from 64 when stopping early, else 500). */
  chunk?: number;
}

/** Brute-force MQAR answers [S·T]: value index at query positions, −2 elsewhere (not scored). */
export function mqarAnswers(inputs: Int32Array, S: number, T: number, numKeys: number): Int32Array {
  const out = new Int32Array(S * T).fill(-2);
  for (let s = 0; s < S; s++) {
    const x = inputs.subarray(s * T, (s + 1) * T);
    for (let t = 2 * numKeys; t < T; t++) {
      if (x[t] >= numKeys) continue;
      for (let u = 0; u < 2 * numKeys; u += 2) if (x[u] === x[t]) out[s * T + t] = x[u + 1] - numKeys;
    }
  }
  return out;
}

/** Brute-force INDUCTION HEADS answers [S·T]: the token after the latest earlier occurrence, else −1. */
export function inductionHeadsAnswers(inputs: Int32Array, S: number, T: number): Int32Array {
  const out = new Int32Array(S * T);
  for (let s = 0; s < S; s++) {
    const x = inputs.subarray(s * T, (s + 1) * T);
    for (let t = 0; t < T; t++) {
      let ans = -1;
      for (let j = t - 1; j >= 0; j--) {
        if (x[j] === x[t]) {
          ans = x[j + 1];
          break;
        }
      }
      out[s * T + t] = ans;
    }
  }
  return out;
}

/** Brute-force KEEP n-TH answers [S·T]: x_n at 1-based t ≥ n, −2 before (not scored). */
export function keepNthAnswers(inputs: Int32Array, S: number, T: number, n: number): Int32Array {
  const out = new Int32Array(S * T).fill(-2);
  for (let s = 0; s < S; s++) for (let t = n - 1; t < T; t++) out[s * T + t] = inputs[s * T + n - 1];
  return out;
}

/** Score `c` on inputs [S, T] against answers [S·T] (−2 = position not scored), decoding only the scored positions. */
export function scoreAgainst(
  c: Construction,
  inputs: Int32Array,
  answers: Int32Array,
  S: number,
  T: number,
  o: ScoreOptions = {},
): Score {
  const t0 = performance.now();
  let correct = 0;
  let total = 0;
  let done = 0;
  let firstError: Score['firstError'];
  let chunk = o.chunk ?? (o.stopAtFirstError ? 64 : 500);
  while (done < S && !(o.stopAtFirstError && firstError)) {
    const b = Math.min(chunk, S - done);
    const readAt = Uint8Array.from(answers.subarray(done * T, (done + b) * T), (a) => (a === -2 ? 0 : 1)); // decode scored positions only
    const pred = c.predictFlat(inputs.subarray(done * T, (done + b) * T), b, T, readAt);
    for (let i = 0; i < b * T; i++) {
      const a = answers[done * T + i];
      if (a === -2) continue;
      total++;
      if (pred[i] === a) correct++;
      else firstError ??= { instance: done + Math.floor(i / T), t: i % T, expected: a, got: pred[i] };
    }
    done += b;
    if (o.stopAtFirstError && o.chunk === undefined) chunk = Math.min(chunk * 2, 1000);
  }
  return {
    correct,
    total,
    accuracy: total ? correct / total : 1,
    instances: done,
    firstError,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * Score an MQAR construction on `instances` random `tasks.mqar` instances (mode 'paper', eq. (46)) against
 * brute-force answers.
 * @param task - κ = numKeys, |V| = vocabSize and T ≥ 3κ, as the construction was built for.
 * @example
 * ```ts
 * const c = constructions.mqarConstruction({ mixer: 'mamba', numKeys: 8, vocabSize: 64 });
 * scoreMqar(c, { numKeys: 8, vocabSize: 64, T: 32 }, { instances: 1000 }).accuracy; // 1
 * c.dispose();
 * ```
 */
export function scoreMqar(
  c: Construction,
  task: { numKeys: number; vocabSize: number; T: number },
  o: ScoreOptions = {},
): Score {
  const S = o.instances ?? 10_000;
  const data = mqar({ numKeys: task.numKeys, vocabSize: task.vocabSize, T: task.T, numSamples: S, seed: o.seed ?? 1 });
  return scoreAgainst(c, data.inputs, mqarAnswers(data.inputs, S, task.T, task.numKeys), S, task.T, o);
}

/** Score an INDUCTION HEADS construction on `tasks.inductionHeads` instances ('standard' or the paper's 'hard' mix). */
export function scoreInductionHeads(
  c: Construction,
  task: { vocabSize: number; T: number; setting?: 'standard' | 'hard' },
  o: ScoreOptions = {},
): Score {
  const S = o.instances ?? 10_000;
  const data = inductionHeads({
    vocabSize: task.vocabSize,
    T: task.T,
    numSamples: S,
    seed: o.seed ?? 1,
    setting: task.setting,
  });
  return scoreAgainst(c, data.inputs, inductionHeadsAnswers(data.inputs, S, task.T), S, task.T, o);
}

/** Score a KEEP n-TH construction on `tasks.keepNth` instances. */
export function scoreKeepNth(
  c: Construction,
  task: { n: number; vocabSize: number; T: number },
  o: ScoreOptions = {},
): Score {
  const S = o.instances ?? 10_000;
  const data = keepNth({ n: task.n, vocabSize: task.vocabSize, T: task.T, numSamples: S, seed: o.seed ?? 1 });
  return scoreAgainst(c, data.inputs, keepNthAnswers(data.inputs, S, task.T, task.n), S, task.T, o);
}
