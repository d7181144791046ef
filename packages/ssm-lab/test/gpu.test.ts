/**
 * `--backend`: parsed before ssm-core is imported and exported as SSM_BACKEND for the process and its workers.
 * Training on WebGPU end to end is in test/webgpu/train.webgpu.ts (`npm run test:webgpu`).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyBackendArg } from '../src/cli/backendArg.js';

const bin = fileURLToPath(new URL('../bin/ssm-lab.js', import.meta.url));
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, SSM_BACKEND: '', ...env },
    timeout: 240_000,
  });

describe('--backend', () => {
  it('is taken out of argv and exported as SSM_BACKEND', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(applyBackendArg(['train', 'keep-nth', '--backend', 'webgpu', '--n', '3'], env)).toEqual([
      'train',
      'keep-nth',
      '--n',
      '3',
    ]);
    expect(env.SSM_BACKEND).toBe('webgpu');
    expect(applyBackendArg(['--backend=cpu', 'demo'], env)).toEqual(['demo']);
    expect(env.SSM_BACKEND).toBe('cpu');
    expect(applyBackendArg(['demo'], {})).toEqual(['demo']);
  });

  it('refuses an unknown or missing name, naming the choices', () => {
    expect(applyBackendArg(['--backend', 'cuda'], {})).toBe(
      '--backend: expected one of webgpu | tensorflow | wasm | cpu, got "cuda"',
    );
    expect(applyBackendArg(['train', '--backend'], {})).toMatch(/got nothing$/);
    const r = run(['train', 'keep-nth', '--backend', 'cuda']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ssm-lab: --backend: expected one of webgpu \| tensorflow \| wasm \| cpu, got "cuda"/);
  });
});
