/** The policy flags: defaults, set / reset, environment overrides, bad values as ConfigErrors. */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  backendInfo,
  getFlag,
  listFlags,
  preferredScanImpl,
  ready,
  resetFlag,
  resetFlags,
  setFlag,
  tf,
} from '../src/index.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => {
  resetFlags();
  delete process.env.SSM_SCAN_IMPL;
  delete process.env.SSM_HOST_KERNELS;
});

describe('policy flags', () => {
  it('have documented defaults, some evaluated from the live backend', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(getFlag('SCAN_IMPL')).toBe('auto');
    expect(getFlag('HOST_KERNELS')).toBe(true); // wasm computes in host memory
    expect(getFlag('SPARSE_SCATTER_DENSITY')).toBe(1 / 16);
    expect(getFlag('SPARSE_COLUMN_SHARE')).toBe(1 / 2);
    expect(getFlag('CONV_ZERO_FRACTION')).toBe(3 / 4);
    expect(getFlag('CONV_ZERO_SAMPLE')).toBe(4096);
    expect(getFlag('BACKEND_PREFERENCE')).toEqual(['tensorflow', 'webgpu', 'wasm', 'webgl', 'cpu']);
    expect(getFlag('GPU_MEMORY_BUDGET')).toBe(Infinity);
    const names = listFlags().map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'BACKEND',
        'BACKEND_PREFERENCE',
        'SCAN_IMPL',
        'HOST_KERNELS',
        'SPARSE_SCATTER_DENSITY',
        'CONV_ZERO_FRACTION',
        'GPU_MEMORY_BUDGET',
      ]),
    );
    expect(listFlags().every((f) => f.doc.length > 0)).toBe(true);
    expect(preferredScanImpl()).toBe('fused');
    expect(backendInfo().scanImpl).toBe('fused');
  });

  it('set, reset one, reset all', () => {
    setFlag('SCAN_IMPL', 'tensor');
    setFlag('CONV_ZERO_FRACTION', 0.5);
    expect(getFlag('SCAN_IMPL')).toBe('tensor');
    expect(preferredScanImpl()).toBe('tensor');
    expect(listFlags().find((f) => f.name === 'SCAN_IMPL')!.set).toBe(true);
    resetFlag('SCAN_IMPL');
    expect(getFlag('SCAN_IMPL')).toBe('auto');
    expect(getFlag('CONV_ZERO_FRACTION')).toBe(0.5);
    resetFlags();
    expect(getFlag('CONV_ZERO_FRACTION')).toBe(3 / 4);
    setFlag('HOST_KERNELS', false);
    expect(preferredScanImpl()).toBe('tensor');
  });

  it('reads environment variables, below values set in code', () => {
    process.env.SSM_SCAN_IMPL = 'tensor';
    expect(getFlag('SCAN_IMPL')).toBe('tensor');
    setFlag('SCAN_IMPL', 'fused');
    expect(getFlag('SCAN_IMPL')).toBe('fused');
    resetFlag('SCAN_IMPL');
    expect(getFlag('SCAN_IMPL')).toBe('tensor');
    process.env.SSM_HOST_KERNELS = '0';
    expect(getFlag('HOST_KERNELS')).toBe(false);
    process.env.SSM_HOST_KERNELS = '1';
    expect(getFlag('HOST_KERNELS')).toBe(true);
  });

  it('refuses bad values with a ConfigError naming the flag or variable', () => {
    expect(() => setFlag('SCAN_IMPL', 'gpu' as never)).toThrow(ConfigError);
    expect(() => setFlag('SCAN_IMPL', 'gpu' as never)).toThrow(
      /flag SCAN_IMPL: expected 'auto' \| 'fused' \| 'tensor', got "gpu"/,
    );
    expect(() => setFlag('HOST_KERNELS', 'yes' as never)).toThrow(/flag HOST_KERNELS/);
    expect(() => setFlag('SPARSE_SCATTER_DENSITY', 2)).toThrow(
      /flag SPARSE_SCATTER_DENSITY: expected a number in \[0, 1\]/,
    );
    expect(() => setFlag('CONV_ZERO_SAMPLE', 0)).toThrow(/flag CONV_ZERO_SAMPLE: expected a positive integer/);
    expect(() => setFlag('BACKEND_PREFERENCE', ['cuda'])).toThrow(/flag BACKEND_PREFERENCE/);
    expect(() => setFlag('NO_SUCH_FLAG' as never, 1 as never)).toThrow(ConfigError);
    expect(() => getFlag('NO_SUCH_FLAG' as never)).toThrow(/flag: expected .*SCAN_IMPL/);
    for (const inherited of ['__proto__', 'constructor', 'toString']) {
      expect(() => getFlag(inherited as never)).toThrow(ConfigError);
      expect(() => setFlag(inherited as never, 1 as never)).toThrow(ConfigError);
    }
    expect(getFlag('SCAN_IMPL')).toBe('auto'); // a refused value changes nothing
    process.env.SSM_SCAN_IMPL = 'gpu';
    expect(() => getFlag('SCAN_IMPL')).toThrow(/SSM_SCAN_IMPL: expected 'auto' \| 'fused' \| 'tensor', got "gpu"/);
    process.env.SSM_HOST_KERNELS = 'maybe';
    expect(() => getFlag('HOST_KERNELS')).toThrow(/SSM_HOST_KERNELS/);
  });
});
