/**
 * Registers the WGSL kernels with ssm-core's kernel registry for tfjs backend 'webgpu' (not host kernels: data
 * stays on the device). Imported for its side effect by ../../index.ts. The webgpu kernels of s6Inner and mambaInner
 * (./s6.ts's scan after tf-op projections, conv and gate) are registered by ../../s6Inner.ts and ../../mambaInner.ts,
 * which own those compositions.
 */
import { registerKernel } from '../../registry.js';
import { mamba2Webgpu } from './mamba2.js';
import { webgpuScan } from './scan.js';

registerKernel('selectiveScan', 'webgpu', webgpuScan, { host: false });
registerKernel('mamba2Inner', 'webgpu', mamba2Webgpu, { host: false });
