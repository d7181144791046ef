// `npm run test:reliability` (after a build; CI runs it right after `npm test`): crafted files, SIGKILL fault
// injection into train and sweep, a full disk (a small tmpfs where mounting works, a file size limit always),
// concurrent runs on one directory and resource bounds, each case in a child process with a time and memory
// watchdog. Files *.reliability.test.ts; the summary table (cases tried, refused cleanly, hung, crashed, bytes
// lost) is printed at the end by tests/reliability/globalSetup.ts. About 1–2 minutes on 2 cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/reliability/**/*.reliability.test.ts'],
    globalSetup: ['tests/reliability/globalSetup.ts'],
    env: { SSM_BACKEND: process.env.SSM_BACKEND || 'wasm' },
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // the cases spawn their own processes (up to three at once): files one after another keep 2 cores usable
    fileParallelism: false,
    maxConcurrency: 3,
  },
});
