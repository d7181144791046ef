/**
 * ssm-core — S4D, S6 (Mamba), Mamba-2 and Mamba-Δ⊤ on TensorFlow.js, after
 * "Understanding Input Selectivity in Mamba" (Huang et al., ICML 2025).
 */
export { tf, ready, backendInfo, preferredScanImpl, type BackendInfo, type BackendAttempt, type ScanImpl } from './backend.js';
export * from './errors.js';
export * from './scan/types.js';
export { selectiveScan } from './scan/selectiveScan.js';
export { selectiveScanRef, selectiveScanRef64, readScanArrays } from './scan/reference.js';
export { fusedForward, fusedBackward } from './scan/fusedKernel.js';
export { hillisSteeleScan, softplusTorch } from './scan/tensorScan.js';
export { validateScanArgs } from './scan/validate.js';
export { Rng } from './random.js';
export { ssdMinimal, ssdMinimalRef64, validateSsdArgs, type SsdArgs, type SsdDims } from './scan/ssd.js';
