/**
 * Fig. 1: the distribution of the SSM decay e^{−λΔ_t} (= e^{Δ_t·A}, the factor on h_{t−1} in
 * Eq. 14f) over test inputs — as a histogram, and per timestep (quantiles and the shares
 * near 0 and near 1). For S4D (Δ ≡ 1) the decay e^{A} is the same at every t.
 */
import { tf, type MambaModel, type TaskData } from 'ssm-core';

export interface DecayStatistics {
  /** 20 equal bins on [0, 1]: edges (21) and the fraction of values in each. */
  histogram: { edges: number[]; fractions: number[] };
  /** One entry per timestep t = 1..T. */
  perTimestep: { t: number; mean: number; q10: number; q50: number; q90: number; below01: number; above09: number }[];
  /** Number of decay values summarised per timestep (samples × d × N). */
  valuesPerTimestep: number;
}

const BINS = 20;

function quantile(sorted: Float32Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Decay statistics of `model` on up to `maxSamples` sequences of `data`. */
export async function decayStatistics(model: MambaModel, data: TaskData, maxSamples = 256): Promise<DecayStatistics> {
  const S = Math.min(maxSamples, data.numSamples);
  const T = data.T;
  const tokens = tf.tensor2d(data.inputs.subarray(0, S * T), [S, T], 'int32');
  const r = model.forwardWithInternals(tokens);
  // decay: [S, T, d, N] (S6, Δ⊤), [d, N] (S4D), [S, T] (Mamba-2)
  const dec = r.mixer.decay!;
  const values = (await dec.data()) as Float32Array;
  const shape = dec.shape;
  tf.dispose([tokens, r as unknown as tf.TensorContainer]);
  const perT = (t: number): Float32Array => {
    if (model.config.mixer === 's4d') return Float32Array.from(values); // S4D: e^{A}, time-invariant
    const inner = shape.length === 4 ? shape[2] * shape[3] : 1;
    const out = new Float32Array(S * inner);
    for (let s = 0; s < S; s++) out.set(values.subarray((s * T + t) * inner, (s * T + t + 1) * inner), s * inner);
    return out;
  };
  const counts = new Array(BINS).fill(0);
  let total = 0;
  const perTimestep: DecayStatistics['perTimestep'] = [];
  for (let t = 0; t < T; t++) {
    const v = perT(t).sort();
    let sum = 0,
      lo = 0,
      hi = 0;
    for (const x of v) {
      sum += x;
      if (x < 0.1) lo++;
      if (x > 0.9) hi++;
      counts[Math.min(BINS - 1, Math.floor(x * BINS))]++;
    }
    total += v.length;
    perTimestep.push({
      t: t + 1,
      mean: sum / v.length,
      q10: quantile(v, 0.1),
      q50: quantile(v, 0.5),
      q90: quantile(v, 0.9),
      below01: lo / v.length,
      above09: hi / v.length,
    });
  }
  return {
    histogram: { edges: Array.from({ length: BINS + 1 }, (_, i) => i / BINS), fractions: counts.map((c) => c / total) },
    perTimestep,
    valuesPerTimestep: total / T,
  };
}
