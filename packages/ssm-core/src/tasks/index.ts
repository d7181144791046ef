/**
 * Seeded synthetic task generators of the paper (App. D): KEEP n-TH, MQAR and INDUCTION HEADS.
 * Each returns a TaskData (inputs/targets [S, T] as flat Int32Arrays, IGNORE where no loss is taken)
 * drawn from one Rng(seed) stream, so a seed reproduces the same data on every machine.
 */
export { keepNth, type KeepNthOptions } from './keepNth.js';
export { mqar, type MqarMode, type MqarOptions } from './mqar.js';
export {
  inductionHeads,
  type InductionHeadsData,
  type InductionHeadsOptions,
  type InductionHeadsSetting,
} from './inductionHeads.js';
export { IGNORE, rows, type TaskData } from './types.js';
