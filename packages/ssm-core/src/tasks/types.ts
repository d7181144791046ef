/**
 * Synthetic tasks (paper App. D) as flat int arrays, ready to batch.
 *
 * Shape glossary: S samples, T sequence length.
 *   inputs  [S, T]  token ids in [0, vocabSize)
 *   targets [S, T]  class ids in [0, numClasses), or IGNORE where no loss/accuracy is taken
 */
import { checkMemory } from '../policy.js';

/** Target value at positions that take no loss and no accuracy. */
export const IGNORE = -1;

/** A generated dataset: S = numSamples rows of T positions, flat and row-major. */
export interface TaskData {
  /** [S, T] token ids in [0, vocabSize). */
  inputs: Int32Array;
  /** [S, T] class ids in [0, numClasses), or IGNORE where no loss/accuracy is taken. */
  targets: Int32Array;
  /** S. */
  numSamples: number;
  /** Sequence length. */
  T: number;
  /** Input vocabulary size (embedding rows). */
  vocabSize: number;
  /** Output classes (logit width). */
  numClasses: number;
  /** Task name and the options that generated it (incl. seed), for results files. */
  meta: { task: string; seed: number; [k: string]: unknown };
}

/** Rows [start, start + count) of a dataset as nested arrays inputs [b][T], targets [b][T] (for model.forward). */
export function rows(data: TaskData, start: number, count: number): { inputs: number[][]; targets: number[][] } {
  const inputs: number[][] = [];
  const targets: number[][] = [];
  for (let s = start; s < Math.min(start + count, data.numSamples); s++) {
    inputs.push(Array.from(data.inputs.subarray(s * data.T, (s + 1) * data.T)));
    targets.push(Array.from(data.targets.subarray(s * data.T, (s + 1) * data.T)));
  }
  return { inputs, targets };
}

/**
 * Refuse a dataset of S rows of length T whose inputs and targets (two int32 [S, T] arrays) would exceed the
 * memory budget: a MemoryError naming `options.numSamples` and `options.T`.
 */
export function checkDataMemory(S: number, T: number): void {
  checkMemory(8 * S * T, 'options.numSamples, options.T', `numSamples ${S} × T ${T}`, {
    what: 'the dataset (int32 inputs and targets [S, T])',
  });
}
