/**
 * ssm-core — S4D, S6 (Mamba), Mamba-2 and Mamba-Δ⊤ on TensorFlow.js, after
 * "Understanding Input Selectivity in Mamba" (Huang et al., ICML 2025).
 */
export { tf, ready, backendInfo, preferredScanImpl, type BackendInfo, type BackendAttempt, type ScanImpl } from './backend.js';
export * from './errors.js';
export * as validate from './validate.js';
export * from './scan/types.js';
export { selectiveScan } from './scan/selectiveScan.js';
export { selectiveScanRef, selectiveScanRef64, readScanArrays } from './scan/reference.js';
export { fusedForward, fusedBackward } from './scan/fusedKernel.js';
export { hillisSteeleScan, softplusTorch } from './scan/tensorScan.js';
export { validateScanArgs } from './scan/validate.js';
export { Rng } from './random.js';
export { ssdMinimal, ssdMinimalRef64, validateSsdArgs, type SsdArgs, type SsdDims } from './scan/ssd.js';
export { MambaModel, resolveConfig, modelParamSpecs, type MambaConfig, type ResolvedMambaConfig, type ForwardInternals, type TokenInput } from './model.js';
export { MIXERS, type Mixer, type MixerContext, type MixerInternals, type MixerKind } from './mixers/index.js';
export { activate, causalConv1d, linear, type Activation } from './nn/layers.js';
export type { ParamSpec } from './nn/params.js';
export { encodeSafetensors, decodeSafetensors, type NamedArray } from './io/safetensors.js';
export { saveModel, loadModel, writeFileAtomic } from './io/file.js';
export type { SequenceModel } from './models/types.js';
export { tokenTensor } from './models/tokens.js';
export { paramsToSafetensors, loadParamsStrict, assignParamsStrict, configFromSafetensors } from './models/weights.js';
export { IGNORE, rows, type TaskData } from './tasks/types.js';
export {
  TransformerModel, resolveTransformerConfig, transformerParamSpecs,
  type TransformerConfig, type ResolvedTransformerConfig, type TransformerInternals,
} from './models/transformer.js';
export { createModel, modelFromSafetensors, type ModelSpec } from './models/index.js';
export * as tasks from './tasks/index.js';
export { train, evaluate, type TrainConfig, type TrainHooks, type TrainResult, type StopReason, type StepInfo, type EvalResult, type EpochMetrics } from './train/trainer.js';
export { Adam, cosineLr, type AdamOptions } from './train/adam.js';
export { maskedCrossEntropy, lossAndAccuracy } from './train/loss.js';
export { dataFingerprint } from './train/checkpoint.js';
export * as theory from './theory/index.js';
export * as constructions from './constructions/index.js';
