// `npm test`: units, references and small end-to-end runs (≤ 3 minutes on 2 cores). The costly reproductions —
// Tab. 1 and the 10⁴-instance construction checks, files named *.repro.test.ts — run with `npm run test:repro`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', '**/*.repro.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
