/**
 * INDUCTION HEADS accuracy split by where it matters (notebook 06):
 *   standard   every position of the standard-setting samples
 *   hard       every position of the hard-setting samples (App. D.4: v* only at 1-based positions r and T − r)
 *   longRange  only the position T − r of each hard sample, whose answer x_{r+1} was written near the start
 * Works for any ssm-core SequenceModel (trained or a construction's `createModel()`).
 */
import { tf, type SequenceModel, type tasks } from 'ssm-core';

export interface SplitAccuracy {
  standard: number;
  hard: number;
  longRange: number;
  counts: { standard: number; hard: number; longRange: number };
}

/** 0-based index of the second occurrence of the special token v* in a hard row (x[r−1] = x[T−r−1] = v*, nowhere else), or −1. */
export function longRangePosition(x: Int32Array, rMax: number): number {
  const T = x.length;
  for (let r = 1; r <= rMax; r++) {
    const v = x[r - 1];
    if (x[T - r - 1] !== v) continue;
    let n = 0;
    for (let t = 0; t < T; t++) if (x[t] === v) n++;
    if (n === 2) return T - r - 1;
  }
  return -1;
}

export function accuracyBySetting(
  model: SequenceModel,
  data: tasks.InductionHeadsData,
  gamma = 0.1,
  batch = 250,
): SplitAccuracy {
  const { inputs, targets, hard, T, numSamples: S } = data;
  const rMax = Math.floor(gamma * T + 1e-9);
  const hit = { standard: 0, hard: 0, longRange: 0 };
  const counts = { standard: 0, hard: 0, longRange: 0 };
  for (let s0 = 0; s0 < S; s0 += batch) {
    const b = Math.min(batch, S - s0);
    const x = tf.tensor2d(inputs.subarray(s0 * T, (s0 + b) * T), [b, T], 'int32');
    const arg = tf.tidy(() => model.forward(x).argMax(2));
    const pred = arg.dataSync();
    tf.dispose([x, arg]);
    for (let i = 0; i < b; i++) {
      const s = s0 + i;
      const key = hard[s] ? 'hard' : 'standard';
      for (let t = 0; t < T; t++) {
        counts[key]++;
        if (pred[i * T + t] === targets[s * T + t]) hit[key]++;
      }
      if (hard[s]) {
        const t = longRangePosition(inputs.subarray(s * T, (s + 1) * T), rMax);
        if (t >= 0) {
          counts.longRange++;
          if (pred[i * T + t] === targets[s * T + t]) hit.longRange++;
        }
      }
    }
  }
  const frac = (k: keyof typeof hit) => (counts[k] ? hit[k] / counts[k] : NaN);
  return { standard: frac('standard'), hard: frac('hard'), longRange: frac('longRange'), counts };
}
