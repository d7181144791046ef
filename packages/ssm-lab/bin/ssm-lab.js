#!/usr/bin/env node
// Entry point of the `ssm-lab` command (the code lives in dist/, built by `npm run build`).
// `--backend NAME` becomes SSM_BACKEND before ssm-core is imported (it picks its backend on import), so that
// this process and its worker processes run on that backend.
import { applyBackendArg } from '../dist/cli/backendArg.js';

const argv = applyBackendArg(process.argv.slice(2));
if (typeof argv === 'string') {
  console.error(`ssm-lab: ${argv}`);
  process.exitCode = 2;
} else {
  const { main } = await import('../dist/cli/main.js');
  process.exitCode = await main(argv);
}
