/**
 * `ssm-lab train keep-nth --backend webgpu` runs end to end on WebGPU (`npm run test:webgpu`; CI: Mesa's lavapipe
 * through VK_DRIVER_FILES) and its loss curve equals the wasm run's to float32 tolerance; sweep workers inherit
 * the backend.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/ssm-lab.js', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SSM_BACKEND: '', ...env },
    timeout: 240_000,
  });
const dir = mkdtempSync(join(tmpdir(), 'ssm-lab-gpu-'));

const TINY = [
  ...['train', 'keep-nth', '--n', '3', '--T', '12', '--vocab', '8', '--d', '8', '--N', '4', '--pe', '1'],
  ...['--epochs', '5', '--steps-per-epoch', '1', '--batch', '8', '--lr', '0.03'],
  ...['--train-samples', '64', '--val-samples', '16', '--test-samples', '32', '--json'],
];

const metrics = (out: string) =>
  readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { trainLoss: number; valLoss: number; valAccuracy: number });

describe('training on WebGPU', () => {
  it('ssm-lab train keep-nth --backend webgpu completes and its loss curve equals the wasm run', () => {
    const res: Record<string, { result: { backend: string; accuracy: number; loss: number }; out: string }> = {};
    for (const backend of ['webgpu', 'wasm']) {
      const out = join(dir, backend);
      const r = run([...TINY, '--backend', backend, '--out', out]);
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      res[backend] = { result: JSON.parse(r.stdout), out };
    }
    expect(res.webgpu.result.backend).toBe('webgpu');
    expect(res.wasm.result.backend).toBe('wasm');
    const [g, w] = [metrics(res.webgpu.out), metrics(res.wasm.out)];
    expect(g.length).toBe(5); // one step per epoch: the per-step training loss
    for (let i = 0; i < g.length; i++) {
      // float32 forward/backward in different orders (tensor scan on webgpu, fused kernel on wasm)
      expect(Math.abs(g[i].trainLoss - w[i].trainLoss)).toBeLessThan(1e-5 * Math.abs(w[i].trainLoss));
      expect(Math.abs(g[i].valLoss - w[i].valLoss)).toBeLessThan(1e-5 * Math.abs(w[i].valLoss));
    }
    expect(Math.abs(res.webgpu.result.loss - res.wasm.result.loss)).toBeLessThan(1e-5 * res.wasm.result.loss);
  }, 240_000);

  it('sweep workers inherit --backend webgpu', () => {
    const spec = {
      name: 'gpu-inherit',
      task: { kind: 'mqar', T: 12, vocabSize: 4 },
      architectures: [{ model: 'mamba-conv', N: 2 }],
      sizes: [2],
      d: [4],
      seeds: [0],
      train: { epochs: 1, stepsPerEpoch: 2, batchSize: 8, lr: 0.01, lrMin: 0.001 },
      samples: { train: 32, val: 16, test: 16 },
    };
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const r = run(['sweep', 'run', specFile, '--backend', 'webgpu', '--workers', '1', '--out', join(dir, 's.jsonl')]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    expect(r.stderr).toMatch(/workers use the webgpu backend/);
  }, 240_000);
});
