/**
 * ssm-core for the browser (`import … from 'ssm-core/browser'`): the model, the mixers, the task generators
 * and the analytic constructions, without the Node-only parts (file I/O, checkpoints, the trainer's
 * metrics files, worker-thread jobs, the CLI). Backend selection is the same as in Node minus the native
 * packages: WebGPU when the browser's `navigator.gpu` gives a hardware adapter (@tensorflow/tfjs-backend-webgpu
 * is imported then), else wasm (call `setWasmPaths` from '@tensorflow/tfjs-backend-wasm' before importing this
 * module if the .wasm files are not next to the page), then WebGL (when the page has imported
 * @tensorflow/tfjs-backend-webgl, which ssm-core does not depend on), then cpu. The main entry (index.ts) re-exports
 * everything here.
 */
export {
  tf,
  ready,
  backendInfo,
  preferredScanImpl,
  type BackendInfo,
  type BackendAttempt,
  type ScanImpl,
  type GpuAdapterInfo,
} from './backend.js';
export { checkGpuRequest, guardGpu, gpuSync, classifyAdapter, WEBGPU_INSTALL } from './gpu.js';
export * from './errors.js';
export {
  getFlag,
  setFlag,
  resetFlag,
  resetFlags,
  listFlags,
  fileReadCap,
  memoryBudget,
  checkMemory,
  WASM_HEAP_BYTES,
  type Flags,
  type FlagName,
} from './policy.js';
export {
  selectiveScan,
  selectiveScanRef,
  ssdMinimal,
  ssdMinimalRef,
  linear,
  causalConv1d,
  gatherRows,
  s6Inner,
  mamba2Inner,
  listKernels,
  wasmScanStatus,
  type Activation,
  type BDiscretization,
  type DeltaAlong,
  type SelectiveScanArgs,
  type SelectiveScanResult,
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
export { MIXERS, type Mixer, type MixerContext, type MixerInternals, type MixerKind } from './mixers/index.js';
export { IGNORE, rows, type TaskData } from './tasks/types.js';
export * as tasks from './tasks/index.js';
export * as constructions from './constructions/index.js';
