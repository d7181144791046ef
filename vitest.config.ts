// `npm test`: units, references and small end-to-end runs (≤ 3 minutes on 2 cores). The costly reproductions —
// Tab. 1 and the 10⁴-instance construction checks, files named *.repro.test.ts — run with `npm run test:repro`;
// the fault-injection suite (*.reliability.test.ts) with `npm run test:reliability`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.repro.test.ts', '**/*.reliability.test.ts'],
    // These tests state the CPU kernels' results (host kernels on wasm, tolerances met there): on a machine with a
    // GPU the automatic choice would be webgpu, whose kernels have their own suite (vitest.webgpu.config.ts).
    // SSM_BACKEND still overrides (npm run test:cpu sets cpu).
    env: { SSM_BACKEND: process.env.SSM_BACKEND || 'wasm' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
