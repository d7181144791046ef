/**
 * WebGPU plumbing that needs no GPU: which adapters are chosen automatically (unit tests of the decision on fake
 * adapter infos) and the memory budget flag. The faults and the selection on a real adapter are in
 * test/webgpu/gpu.webgpu.ts (`npm run test:webgpu`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { checkGpuRequest, classifyAdapter, getFlag, guardGpu, ready, resetFlag, setFlag } from '../src/index.js';

const info = await ready();
const onWebGpu = info.name === 'webgpu';

describe('adapter classification (what ready() may choose by itself)', () => {
  it('takes hardware adapters', () => {
    const h200 = classifyAdapter({ vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H200' }, false);
    expect(h200).toMatchObject({ hardware: true, fallback: false, vendor: 'nvidia', architecture: 'hopper' });
    expect(classifyAdapter({ vendor: 'apple', architecture: 'metal-3' }).hardware).toBe(true);
    expect(classifyAdapter({ vendor: 'intel', architecture: 'gen-12lp', type: 'integrated GPU' }).hardware).toBe(true);
  });

  it('refuses CPU implementations: fallback adapters, lavapipe/llvmpipe, SwiftShader, a cpu type', () => {
    const lavapipe = {
      vendor: 'mesa',
      architecture: 'software',
      device: 'llvmpipe-llvm-15-0-6-256-bits-',
      description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
      isFallbackAdapter: true,
    };
    expect(classifyAdapter(lavapipe)).toMatchObject({ hardware: false, fallback: true });
    // the same adapter without the fallback flag is still recognised by its names
    expect(classifyAdapter({ ...lavapipe, isFallbackAdapter: false }).hardware).toBe(false);
    expect(classifyAdapter({ vendor: 'google', architecture: 'swiftshader' }).hardware).toBe(false);
    expect(classifyAdapter({ vendor: 'nvidia' }, true)).toMatchObject({ hardware: false, fallback: true });
    expect(classifyAdapter({ vendor: 'x', type: 'CPU' }).why).toBe("an adapter of type 'cpu'");
    expect(classifyAdapter({ description: 'Microsoft Basic Render Driver' }).hardware).toBe(false);
  });

  it('reports the adapter it saw in backendInfo() and never runs a CPU adapter unless forced', () => {
    if (info.adapter && !process.env.SSM_BACKEND) expect(info.name === 'webgpu').toBe(info.adapter.hardware);
    if (info.name === 'webgpu') expect(info.adapter).toBeDefined();
  });
});

describe('GPU_MEMORY_BUDGET', () => {
  afterEach(() => resetFlag('GPU_MEMORY_BUDGET'));
  it('defaults to no budget and takes bytes', () => {
    expect(getFlag('GPU_MEMORY_BUDGET')).toBe(Infinity);
    setFlag('GPU_MEMORY_BUDGET', 2 ** 20);
    expect(getFlag('GPU_MEMORY_BUDGET')).toBe(2 ** 20);
    expect(() => setFlag('GPU_MEMORY_BUDGET', 0)).toThrow(/GPU_MEMORY_BUDGET: expected a positive number of bytes/);
  });

  it('reads SSM_GPU_MEMORY_BUDGET with units', () => {
    const old = process.env.SSM_GPU_MEMORY_BUDGET;
    try {
      process.env.SSM_GPU_MEMORY_BUDGET = '512MiB';
      expect(getFlag('GPU_MEMORY_BUDGET')).toBe(512 * 2 ** 20);
      process.env.SSM_GPU_MEMORY_BUDGET = '2e9';
      expect(getFlag('GPU_MEMORY_BUDGET')).toBe(2e9);
      process.env.SSM_GPU_MEMORY_BUDGET = '3 parsecs';
      expect(() => getFlag('GPU_MEMORY_BUDGET')).toThrow(/SSM_GPU_MEMORY_BUDGET: expected a positive number/);
    } finally {
      if (old === undefined) delete process.env.SSM_GPU_MEMORY_BUDGET;
      else process.env.SSM_GPU_MEMORY_BUDGET = old;
    }
  });

  it.runIf(!onWebGpu)('is a no-op off the GPU', () => {
    setFlag('GPU_MEMORY_BUDGET', 1);
    expect(() => checkGpuRequest('op', 1e12)).not.toThrow();
    expect(guardGpu('op', 1e12, () => 7)).toBe(7);
  });
});
