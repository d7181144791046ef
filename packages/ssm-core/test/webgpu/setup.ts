/**
 * WebGPU test setup (vitest `setupFiles` of vitest.webgpu.config.ts): checks that ssm-core's backend is WebGPU (the config sets
 * SSM_BACKEND=webgpu, as a user does), so the tests go through ssm-core's own loader (npm `webgpu` in Node). On a
 * machine without a GPU the adapter is a CPU Vulkan driver (Mesa's lavapipe, picked with VK_DRIVER_FILES), which
 * only a forced selection takes.
 */
import { ready } from '../../src/index.js';

const info = await ready();
if (info.name !== 'webgpu')
  throw new Error(`WebGPU test setup: expected the webgpu backend, got ${info.name} (${info.reason})`);
