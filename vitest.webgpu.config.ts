// `npm run test:webgpu`: the WebGPU kernels on a real adapter or a CPU Vulkan driver (lavapipe; the script points
// VK_DRIVER_FILES at it when unset). packages/ssm-core/test/webgpu/setup.ts starts Dawn and the webgpu backend.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // *.webgpu.ts, not *.test.ts: `npm test` (vitest.config.ts) has no GPU setup.
    include: ['packages/*/test/webgpu/**/*.webgpu.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // forced, as a user does with SSM_BACKEND=webgpu: a CPU Vulkan adapter is never chosen by itself
    env: { SSM_BACKEND: process.env.SSM_BACKEND || 'webgpu' },
    setupFiles: ['packages/ssm-core/test/webgpu/setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
