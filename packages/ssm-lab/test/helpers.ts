// Shared by the CLI tests: the ssm-lab entry point and a KEEP n-TH training run small enough to take about a second.
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/ssm-lab.js', import.meta.url));

/**
 * `ssm-lab train keep-nth` arguments of a small run (T = 10, n = 3, |V| = 16, d = 16, N = 4; 1024 training,
 * 64 validation, 256 test samples) with `epochs` epochs of `steps` steps, then `extra`.
 */
export function smallTrain(epochs: number, steps: number, extra: string[] = []): string[] {
  return [
    ...['train', 'keep-nth', '--T', '10', '--n', '3', '--vocab', '16', '--d', '16', '--N', '4'],
    ...['--epochs', String(epochs), '--steps-per-epoch', String(steps)],
    ...['--train-samples', '1024', '--val-samples', '64', '--test-samples', '256'],
    ...extra,
  ];
}
