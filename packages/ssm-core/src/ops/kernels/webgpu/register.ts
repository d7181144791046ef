/**
 * Registers the WGSL kernels with ssm-core's kernel registry for tfjs backend 'webgpu' (not host kernels: data
 * stays on the device). Imported for its side effect by ../../index.ts.
 */
import { registerKernel } from '../../registry.js';
import { mamba2Webgpu } from './mamba2.js';
import { webgpuScan } from './scan.js';

registerKernel('selectiveScan', 'webgpu', webgpuScan, { host: false });
registerKernel('mamba2Inner', 'webgpu', mamba2Webgpu, { host: false });
