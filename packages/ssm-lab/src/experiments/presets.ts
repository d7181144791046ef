/**
 * The paper's KEEP n-TH experiments as job lists (Tab. 1, Fig. 1), in two presets:
 *   paper — App. D.1: Adam, 600 epochs of 10⁵ samples, batch 16, η = 0.03 cosine to 1e−6,
 *           early stop at val loss < 1e−6 or 6 h; 10³ val, 10⁵ test samples.
 *   quick — the same models and task on 2 CPU cores in minutes: batch 32, η = 0.03 cosine to
 *           1e−6 over at most 10 × 250 steps, stop once validation accuracy is 1.0; 10⁴ test samples.
 * Models as in Tab. 1 (./models.ts): embedding → SSM → linear (no conv, no gate), d = 32, N = 8, PE in
 * the last embedding coordinate; a 1-layer Transformer with d = 16.
 * The PE value is 0.1·t: the paper does not give its scale, and with raw t (scale 1) Mamba+PE
 * learned far slower here (val acc 0.19 after 2000 steps vs 1.00 after 1500 with 0.1).
 */
import type { ModelSpec, TrainConfig } from 'ssm-core';
import type { JobSpec, TaskSpec } from './jobs.js';
import { MODELS, modelSpec, type ModelName } from './models.js';

export type Preset = 'quick' | 'paper';
export const PRESETS: Preset[] = ['quick', 'paper'];

/** Tab. 1's models, in the paper's row order. */
export const TABLE1_MODELS: readonly ModelName[] = ['mamba+pe', 'mamba', 's4d', 's4d+pe', 'transformer'];

/** Tab. 1's five models at sequence length T (PE scale 0.1·t; Transformer positional table of length T). */
export function table1Models(
  T: number,
): { label: string; key: ModelName; model: ModelSpec; paperAccuracy: number; paperParams: number }[] {
  return TABLE1_MODELS.map((key) => {
    const e = MODELS[key];
    return {
      key,
      label: e.label,
      model: modelSpec(key, { T, vocabSize: 128 }),
      paperAccuracy: e.paper!.accuracy,
      paperParams: e.paper!.params,
    };
  });
}

export function trainConfigFor(preset: Preset, seed: number): { train: TrainConfig; samples: JobSpec['samples'] } {
  if (preset === 'paper') {
    return {
      train: { epochs: 600, batchSize: 16, lr: 0.03, lrMin: 1e-6, seed, stopValLoss: 1e-6, maxSeconds: 6 * 3600 },
      samples: { train: 100_000, val: 1_000, test: 100_000 },
    };
  }
  return {
    train: { epochs: 10, stepsPerEpoch: 250, batchSize: 32, lr: 0.03, lrMin: 1e-6, seed, stopValAccuracy: 1 },
    samples: { train: 100_000, val: 1_000, test: 10_000 },
  };
}

const keepTask = (T: number): TaskSpec => ({ task: 'keep-nth', n: 5, vocabSize: 128, T });

/** Tab. 1: KEEP FIFTH, T = 50, |V| = 128, the five models. */
export function table1Jobs(preset: Preset, seed: number, runRoot?: string): JobSpec[] {
  const { train, samples } = trainConfigFor(preset, seed);
  return table1Models(50).map((m) => ({
    id: `table1/${m.key}`,
    label: m.label,
    task: keepTask(50),
    model: m.model,
    train,
    samples,
    seed,
    runDir: runRoot ? `${runRoot}/${m.key}` : undefined,
  }));
}

export const FIG1_T = [10, 20, 30, 40, 50];

/** Fig. 1: Mamba+PE and S4D+PE trained on KEEP n-TH for T ∈ {10, …, 50}, with decay statistics. */
export function fig1Jobs(preset: Preset, seed: number, runRoot?: string): JobSpec[] {
  const { train, samples } = trainConfigFor(preset, seed);
  return FIG1_T.flatMap((T) =>
    table1Models(T)
      .filter((m) => m.key === 'mamba+pe' || m.key === 's4d+pe')
      .map((m) => ({
        id: `fig1/${m.key}/T${T}`,
        label: `${m.label} T=${T}`,
        task: keepTask(T),
        model: m.model,
        train,
        samples: { ...samples, test: Math.min(samples.test, 1000) },
        seed,
        collectDecay: true,
        runDir: runRoot ? `${runRoot}/${m.key}-T${T}` : undefined,
      })),
  );
}
