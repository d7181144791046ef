/**
 * ssm-core — S4D, S6 (Mamba), Mamba-2 and Mamba-Δ⊤ on TensorFlow.js, after
 * "Understanding Input Selectivity in Mamba" (Huang et al., ICML 2025).
 *
 * Layers, lowest first: errors, validate, math, random → policy, backend → ops (kernels + references) → nn →
 * mixers → models → io → tasks, train → theory, constructions.
 */
export {
  tf,
  ready,
  backendInfo,
  preferredScanImpl,
  type BackendInfo,
  type BackendAttempt,
  type ScanImpl,
} from './backend.js';
export {
  getFlag,
  setFlag,
  resetFlag,
  resetFlags,
  listFlags,
  backendUsesGpu,
  type Flags,
  type FlagName,
} from './policy.js';
export * from './errors.js';
export * as validate from './validate.js';
export {
  selectiveScan,
  selectiveScanRef,
  selectiveScanRef64,
  validateScanArgs,
  softplusTorch,
  ssdMinimal,
  ssdMinimalRef,
  ssdMinimalRef64,
  validateSsdArgs,
  linear,
  linearRef,
  activate,
  causalConv1d,
  causalConv1dRef,
  gatherRows,
  gatherRowsRef,
  s6Inner,
  s6InnerRef,
  mamba2Inner,
  mamba2InnerRef,
  listKernels,
  registerKernel,
  resolveKernel,
  unregisterKernel,
  getKernel,
  type KernelKey,
  type KernelOptions,
  type Activation,
  type BDiscretization,
  type DeltaAlong,
  type SelectiveScanArgs,
  type SelectiveScanResult,
  type SsdArgs,
  type SsdDims,
  type S6InnerArgs,
  type Mamba2InnerArgs,
} from './ops/index.js';
export { Rng } from './random.js';
export {
  MambaModel,
  resolveConfig,
  modelParamSpecs,
  type MambaConfig,
  type ResolvedMambaConfig,
  type ForwardInternals,
  type TokenInput,
} from './models/mamba.js';
export {
  MIXERS,
  type Mixer,
  type MixerContext,
  type MixerInternals,
  type MixerKind,
  type MixerOutput,
} from './mixers/index.js';
export { embeddingLookup } from './nn/layers.js';
export type { ParamSpec } from './nn/params.js';
export { encodeSafetensors, decodeSafetensors, type NamedArray } from './io/safetensors.js';
export { writeFileAtomic } from './io/file.js';
export { saveModel, loadModel } from './models/file.js';
export type { SequenceModel } from './models/types.js';
export { tokenTensor } from './models/tokens.js';
export { paramsToSafetensors, loadParamsStrict, assignParamsStrict, configFromSafetensors } from './models/weights.js';
export { IGNORE, rows, type TaskData } from './tasks/types.js';
export {
  TransformerModel,
  resolveTransformerConfig,
  transformerParamSpecs,
  type TransformerConfig,
  type ResolvedTransformerConfig,
  type TransformerInternals,
} from './models/transformer.js';
export { createModel, modelFromSafetensors, type ModelSpec } from './models/index.js';
export * as tasks from './tasks/index.js';
export {
  train,
  evaluate,
  type TrainConfig,
  type TrainHooks,
  type TrainResult,
  type StopReason,
  type StepInfo,
  type EvalResult,
  type EpochMetrics,
} from './train/trainer.js';
export { Adam, cosineLr, type AdamOptions } from './train/adam.js';
export { maskedCrossEntropy, lossAndAccuracy } from './train/loss.js';
export { dataFingerprint } from './train/checkpoint.js';
export * as theory from './theory/index.js';
export * as constructions from './constructions/index.js';
