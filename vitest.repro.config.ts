// `npm run test:repro`: the paper's reproductions at full test size — Tab. 1 through the CLI and the analytic
// constructions on 10⁴ instances at the sizes the paper states. Minutes, so kept out of `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.repro.test.ts', 'tests/**/*.repro.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
