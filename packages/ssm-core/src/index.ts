/**
 * ssm-core — S4D, S6 (Mamba), Mamba-2 and Mamba-Δ⊤ on TensorFlow.js, after
 * "Understanding Input Selectivity in Mamba" (Huang et al., ICML 2025).
 *
 * Layers, lowest first: errors, validate, math, random → policy, backend → ops (kernels + references) → nn →
 * mixers → models → io → tasks, train → theory, constructions.
 *
 * The main entry exports everything the browser entry (browser.ts) does, then the rest: the float64 reference
 * twins and the kernel registry, the Transformer baseline, safetensors and file I/O, training and theory.
 */
export * from './browser.js';
export { backendUsesGpu } from './policy.js';
/**
 * Argument checkers that throw typed errors, shared with ssm-lab.
 * @internal
 */
export * as validate from './validate.js';
export {
  selectiveScanRef64,
  validateScanArgs,
  softplusTorch,
  ssdMinimalRef64,
  validateSsdArgs,
  linearRef,
  activate,
  causalConv1dRef,
  gatherRowsRef,
  embeddingRef,
  s6InnerRef,
  s4dInnerRef,
  mambaInnerRef,
  mamba2InnerRef,
  linearCrossEntropyRef,
  registerKernel,
  resolveKernel,
  unregisterKernel,
  getKernel,
  type KernelKey,
  type KernelOptions,
  type SsdArgs,
  type SsdDims,
  type S6InnerArgs,
  type S4DInnerArgs,
  type MambaInnerArgs,
  type Mamba2InnerArgs,
} from './ops/index.js';
// Node only: the WebAssembly scan's worker threads (flag SCAN_THREADS); loading this module installs them.
export { shutdownScanThreads, scanThreadsStatus } from './ops/kernels/cpu/scanThreads.js';
export type { MixerOutput } from './mixers/index.js';
export { embeddingLookup } from './nn/layers.js';
export type { ParamSpec } from './nn/params.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensorsHeader,
  parseJsonStrict,
  type NamedArray,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from './io/safetensors.js';
export {
  writeFileAtomic,
  readFileChecked,
  readTextChecked,
  removeStaleTempFiles,
  tempPathFor,
  type ReadFileOptions,
} from './io/file.js';
export { saveModel, loadModel } from './models/file.js';
export type { SequenceModel, OutputLayerInput } from './models/types.js';
export { tokenTensor } from './models/tokens.js';
export {
  paramsToSafetensors,
  loadParamsStrict,
  assignParamsStrict,
  configFromSafetensors,
  checkModelFile,
  checkParamsStrict,
} from './models/weights.js';
export {
  TransformerModel,
  resolveTransformerConfig,
  transformerParamSpecs,
  type TransformerConfig,
  type ResolvedTransformerConfig,
  type TransformerInternals,
} from './models/transformer.js';
export { createModel, modelFromSafetensors, resolveModelSpec, type ModelSpec } from './models/index.js';
export {
  trainingMemory,
  forwardBytes,
  floatsPerPosition,
  specsParamCount,
  type TrainingMemory,
} from './models/memory.js';
export {
  train,
  evaluate,
  evaluateAsync,
  type TrainConfig,
  type TrainHooks,
  type TrainResult,
  type StopReason,
  type StepInfo,
  type EvalResult,
  type EpochMetrics,
} from './train/trainer.js';
export { Adam, cosineLr, type AdamOptions } from './train/adam.js';
export { maskedCrossEntropy, lossAndAccuracy, lossAndAccuracyAsync, type LossStats } from './train/loss.js';
export { dataFingerprint, checkTrainerState, type TrainerSchedule } from './train/checkpoint.js';
export * as theory from './theory/index.js';
