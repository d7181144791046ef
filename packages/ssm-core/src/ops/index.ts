/**
 * The ops of ssm-core: each validates its arguments once, runs the kernel registered for the live backend
 * (./registry.ts) and has a reference twin with the same signature that computes in float64.
 *
 *   op               reference          kernels
 *   selectiveScan    selectiveScanRef   host: fused typed-array scan + analytic backward; generic: Hillis–Steele tf ops
 *   ssdMinimal       ssdMinimalRef      generic: chunked SSD of tf ops
 *   linear           linearRef          host (inference): sparse-weight shortcut; generic: matMul
 *   causalConv1d     causalConv1dRef    host: one differentiable op under a gradient tape, else a typed-array conv
 *                                       that skips zeros; generic: shifted tf ops
 *   gatherRows       gatherRowsRef      host: copy loop; generic: tf.gather
 *   embedding        embeddingRef       host: copy loop (+ PE column), scatter-add backward; generic: gather + concat
 *   s6Inner          s6InnerRef         host: one differentiable op over typed arrays (analytic backward) under a
 *                                       gradient tape, else one inference pass, B and C in place;
 *                                       generic: linear + selectiveScan
 *   s4dInner         s4dInnerRef        host: one differentiable op over typed arrays; generic: selectiveScan
 *   mambaInner       mambaInnerRef      conv + S6 + gate (mamba_inner_fn): host: one differentiable op over typed
 *                                       arrays; generic: causalConv1d + s6Inner's composition + gate
 *   mamba2Inner      mamba2InnerRef     host (inference): fused scan in model layout; generic: selectiveScan
 *   linearCrossEntropy  linearCrossEntropyRef
 *                                       host: GEMMs + softmax kernel, one typed-array pass (loss, stats, ∂logits);
 *                                       generic: linear + logSoftmax cross-entropy
 *
 * The differentiable host kernels of causalConv1d, s6Inner, s4dInner and mambaInner run under a gradient tape where
 * the flag HOST_GRAD_KERNELS allows (default: the cpu and wasm backends).
 *
 * On tfjs-backend-webgpu, selectiveScan, s6Inner, mambaInner and mamba2Inner run fused WGSL scan kernels with a
 * chunked-recompute backward (kernels/webgpu; the inner ops in the model's time-major layout, no layout transposes;
 * registered by kernels/webgpu/register.ts, s6Inner.ts and mambaInner.ts); linear and linearCrossEntropy register
 * their webgpu kernels (a fused matMul; WGSL loss programs) in their own modules.
 */
export { selectiveScan } from './selectiveScan.js';
import './kernels/webgpu/register.js'; // the WGSL kernels for tfjs backend 'webgpu'
export { selectiveScanRef, selectiveScanRef64 } from './reference.js';
export { ssdMinimal, ssdMinimalRef, ssdMinimalRef64, validateSsdArgs } from './ssd.js';
export { linear, linearRef, matMul2d } from './linear.js';
export { activate, causalConv1d, causalConv1dRef } from './causalConv1d.js';
export { gatherRows, gatherRowsRef } from './gatherRows.js';
export { embedding, embeddingRef } from './embedding.js';
export { s6Inner, s6InnerRef } from './s6Inner.js';
export { s4dInner, s4dInnerRef } from './s4dInner.js';
export { mambaInner, mambaInnerRef } from './mambaInner.js';
export { mamba2Inner, mamba2InnerRef } from './mamba2Inner.js';
export {
  linearCrossEntropy,
  linearCrossEntropyRef,
  maskedCrossEntropy,
  lossStatsTensor,
  type LinearCrossEntropyResult,
} from './linearCrossEntropy.js';
export { softplusTorch } from './kernels/tensor/scan.js';
export { toChannelsFirst, toTimeFirst } from './core/layout.js';
export { validateScanArgs } from './core/validate.js';
export { wasmScanStatus } from './kernels/cpu/wasmScan.js';
export {
  listKernels,
  registerKernel,
  resolveKernel,
  unregisterKernel,
  getKernel,
  type KernelKey,
  type KernelOptions,
} from './registry.js';
export type {
  Activation,
  BDiscretization,
  DeltaAlong,
  Mamba2InnerArgs,
  MambaInnerArgs,
  S4DInnerArgs,
  S6InnerArgs,
  SelectiveScanArgs,
  SelectiveScanResult,
} from './core/types.js';
export type { SsdArgs, SsdDims } from './ssd.js';
