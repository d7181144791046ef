/** Backend selection: default choice, SSM_BACKEND override, and a clear error for an unavailable backend. */
import { describe, expect, it } from 'vitest';
import { backendInfo, ready, tf } from '../src/index.js';
import { probeBackend } from './helpers.js';

describe('backend selection', () => {
  it('picks wasm here (no tfjs-node installed) and says why, listing what it tried', async () => {
    const info = await ready();
    expect(info).toBe(backendInfo());
    expect(tf.getBackend()).toBe(info.name);
    if (!process.env.SSM_BACKEND) {
      const nativeMissing = info.tried
        .filter((t) => t.candidate.startsWith('@tensorflow/tfjs-node'))
        .every((t) => t.why === 'not installed');
      if (nativeMissing && info.adapter?.hardware) expect(info.name).toBe('webgpu');
      else if (nativeMissing) {
        expect(info.name).toBe('wasm');
        // webgpu is tried between the two: no adapter, or only a CPU one (lavapipe), which is never chosen by itself
        expect(info.tried.map((t) => t.candidate)).toEqual([
          '@tensorflow/tfjs-node-gpu',
          '@tensorflow/tfjs-node',
          'webgpu',
          'wasm',
        ]);
      }
    }
    // fused where ssm-core has a fused kernel for the backend (host kernels, WGSL on webgpu), tensor on other GPU backends
    expect(info.scanImpl).toBe(info.gpu && info.name !== 'webgpu' ? 'tensor' : 'fused');
    expect(info.reason.length).toBeGreaterThan(10);
  });

  it('honours SSM_BACKEND=cpu in a fresh process', () => {
    const info = probeBackend({ SSM_BACKEND: 'cpu' });
    expect(info.name).toBe('cpu');
    expect(info.reason).toBe('forced by SSM_BACKEND=cpu');
  });

  it('rejects an unknown SSM_BACKEND naming the variable and the choices', () => {
    const r = probeBackend({ SSM_BACKEND: 'cuda' });
    expect(r.argument).toBe('SSM_BACKEND');
    expect(r.error).toMatch(/SSM_BACKEND: expected one of .*wasm.*got "cuda"/);
  });
});
