// Browser test of the notebooks in Jupyter's classic Notebook with the network blocked (`npm run test:jupyter`, after
// `npm run build`; needs Debian's python3-notebook + jupyter-nbconvert and chromium); kept out of `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/jupyter/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
