/**
 * WebGPU faults and selection on a live adapter (`npm run test:webgpu`; CI: Mesa's lavapipe through
 * VK_DRIVER_FILES, forced with SSM_BACKEND=webgpu by the setup file): GPU faults are GpuErrors — a request over
 * GPU_MEMORY_BUDGET or the adapter's buffer limits refused before launch, a forced validation error, an uncaptured
 * error, a lost device — and fresh processes check which adapters the selection takes by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  Adam,
  checkGpuRequest,
  GpuError,
  gpuSync,
  guardGpu,
  resetFlag,
  Rng,
  selectiveScan,
  selectiveScanRef,
  setFlag,
  tf,
} from '../../src/index.js';
import { probeBackend } from '../helpers.js';

/** The live webgpu backend's device, typed as far as these tests use it. */
interface Dev {
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  createBuffer(d: { size: number; usage: number; mappedAtCreation?: boolean }): unknown;
  queue: { onSubmittedWorkDone(): Promise<void> };
  destroy(): void;
  lost: Promise<unknown>;
}
const gpuDev = () => (tf.backend() as unknown as { device: Dev }).device;

const scanArgs = (b: number, d: number, n: number, L: number) => {
  // host-made values (the float64 reference reads them synchronously, which a webgpu tensor does not allow)
  const r = (s: number[], seed: number) => {
    const rng = new Rng(seed);
    return tf.tensor(
      Float32Array.from({ length: s.reduce((x, y) => x * y, 1) }, () => rng.normal() * 0.5),
      s,
    );
  };
  return {
    u: r([b, d, L], 1),
    delta: r([b, d, L], 2),
    A: tf.tensor(
      Float32Array.from({ length: d * n }, (_, i) => -0.2 - (i % 7) / 7),
      [d, n],
    ),
    B: r([b, n, L], 4),
    C: r([b, n, L], 5),
    D: r([d], 6),
    z: r([b, d, L], 7),
    deltaBias: r([d], 8),
    softplus: true,
  };
};

describe('GPU faults on webgpu are typed errors', () => {
  afterEach(() => resetFlag('GPU_MEMORY_BUDGET'));

  it('the guarded tensor scan still matches the float64 reference', async () => {
    const a = scanArgs(2, 4, 3, 16);
    const ref = selectiveScanRef(a);
    const { out } = selectiveScan({ ...a, impl: 'tensor' });
    const [got, want] = [await out.data(), await ref.out.data()];
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i], 4);
    tf.dispose([out, ref.out, ...Object.values(a).filter((v) => v instanceof tf.Tensor)]);
    await gpuSync();
  });

  it('refuses a scan over GPU_MEMORY_BUDGET before launch, naming the op and the bytes', () => {
    const a = scanArgs(2, 8, 4, 64); // (17·6 + 8)·2·8·4·64·4 B = 1.72 MiB
    setFlag('GPU_MEMORY_BUDGET', 2 ** 20);
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      selectiveScan({ ...a, impl: 'tensor' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuError);
    const g = err as GpuError;
    expect(g.kind).toBe('over-budget');
    expect(g.op).toBe('selectiveScan');
    expect(g.bytes).toBe((17 * 6 + 8) * 2 * 8 * 4 * 64 * 4);
    expect(g.message).toMatch(/^selectiveScan: expected at most 1\.0 MiB .*got a request of 1\.7 MiB/);
    expect(tf.memory().numTensors).toBe(before); // nothing was launched
    tf.dispose(Object.values(a).filter((v) => v instanceof tf.Tensor));
  });

  it('refuses a WGSL training kernel over GPU_MEMORY_BUDGET before launch, naming its program and the bytes', () => {
    const p = tf.variable(tf.fill([64, 32], 0.5));
    const g = tf.fill([64, 32], 0.1);
    const adam = new Adam({ w: p });
    setFlag('GPU_MEMORY_BUDGET', 4096); // each of Adam's programs writes 64·32·4 B = 8 KiB
    const before = tf.memory().numTensors;
    let err: unknown;
    try {
      adam.apply({ w: g }, 0.1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GpuError);
    expect(err).toMatchObject({ kind: 'over-budget', op: 'adamMoment1', bytes: 64 * 32 * 4 });
    expect(tf.memory().numTensors).toBe(before); // nothing was launched
    resetFlag('GPU_MEMORY_BUDGET');
    adam.dispose();
    tf.dispose([p, g]);
  });

  it("refuses a tensor above the adapter's storage-buffer limit (lavapipe: 128 MiB) before launch", () => {
    const dev = gpuDev();
    const limit = Math.min(dev.limits.maxBufferSize, dev.limits.maxStorageBufferBindingSize);
    const L = Math.ceil(limit / (4 * 64 * 16)) + 1; // one [1, 64, 16, L] tensor > limit
    const a = scanArgs(1, 64, 16, L);
    expect(() => selectiveScan({ ...a, impl: 'tensor' })).toThrow(
      expect.objectContaining({ kind: 'too-large', op: 'selectiveScan' }),
    );
    tf.dispose(Object.values(a).filter((v) => v instanceof tf.Tensor));
  });

  it('a validation error inside a guarded op surfaces at the next sync point, naming the op', async () => {
    const dev = gpuDev();
    guardGpu('forcedValidation', 64, () =>
      // MAP_READ combined with STORAGE: a validation error of the device, reported asynchronously
      dev.createBuffer({ size: 16, usage: 0x1 | 0x80 /* MAP_READ | STORAGE */ }),
    );
    await expect(gpuSync()).rejects.toMatchObject({ kind: 'validation', op: 'forcedValidation', bytes: 64 });
    await expect(gpuSync()).resolves.toBeUndefined(); // reported once
  });

  it('an uncaptured error is thrown by the next guarded op', async () => {
    const dev = gpuDev();
    dev.createBuffer({ size: 16, usage: 0x1 | 0x80 /* MAP_READ | STORAGE */ });
    await new Promise((r) => setTimeout(r, 50));
    await dev.queue.onSubmittedWorkDone();
    expect(() => checkGpuRequest('nextOp', 4)).toThrow(expect.objectContaining({ kind: 'validation' }));
  });

  it('a read-back after a fault rejects with the GpuError instead of returning numbers', async () => {
    const dev = gpuDev();
    const t = tf.tensor([1, 2, 3]).mul(2); // computed on the device
    dev.createBuffer({ size: 16, usage: 0x1 | 0x80 /* MAP_READ | STORAGE */ }); // an uncaptured validation error
    await expect(t.data()).rejects.toMatchObject({ kind: 'validation' });
    await expect(t.data()).resolves.toEqual(new Float32Array([2, 4, 6])); // reported once; the tensor itself is fine
    t.dispose();
  });

  it('checkFinite on the device: a NaN in one argument is a ValueError naming it at the read-back, once', async () => {
    for (const impl of ['fused', 'tensor'] as const) {
      const a = scanArgs(2, 4, 3, 16);
      const bad = {
        ...a,
        delta: tf.tensor(
          Float32Array.from({ length: 2 * 4 * 16 }, (_, i) => (i === 37 ? NaN : 0.1)),
          [2, 4, 16],
        ),
      };
      const before = tf.memory().numTensors;
      const { out } = selectiveScan({ ...bad, impl, checkFinite: true });
      await expect(out.data(), impl).rejects.toMatchObject({ name: 'ValueError', argument: 'delta' });
      await expect(out.data(), `${impl}: reported once`).resolves.toBeDefined();
      out.dispose();
      expect(tf.memory().numTensors, `${impl}: the check's flags are freed`).toBe(before);
      // finite inputs: nothing thrown; without checkFinite a NaN is not looked for
      const ok = selectiveScan({ ...a, impl, checkFinite: true });
      await expect(ok.out.data()).resolves.toBeDefined();
      const unchecked = selectiveScan({ ...bad, impl });
      await expect(gpuSync()).resolves.toBeUndefined();
      tf.dispose([ok.out, unchecked.out, bad.delta, ...Object.values(a).filter((v) => v instanceof tf.Tensor)]);
    }
  });

  it('after the device is lost every guarded op throws', async () => {
    const dev = gpuDev();
    dev.destroy();
    await dev.lost;
    await expect(gpuSync('afterLoss')).rejects.toMatchObject({ kind: 'device-lost' });
    expect(() => guardGpu('scanAfterLoss', 4, () => 1)).toThrow(/scanAfterLoss: expected a live GPU device/);
  });
});

describe('selection on this adapter (fresh processes)', () => {
  it('takes the adapter by itself exactly when it is hardware, and says why not otherwise', () => {
    const i = probeBackend({ SSM_BACKEND: '' });
    expect(i.adapter).toBeDefined();
    if (i.adapter.hardware) {
      expect(i.name).toBe('webgpu'); // a GPU machine
    } else {
      expect(i.name).not.toBe('webgpu'); // CI: lavapipe
      const w = i.tried.find((t: { candidate: string }) => t.candidate === 'webgpu');
      expect(w.why).toMatch(/not chosen automatically \(SSM_BACKEND=webgpu forces it\)/);
    }
  });

  it('SSM_BACKEND=webgpu forces it and backendInfo names the adapter', () => {
    const i = probeBackend({ SSM_BACKEND: 'webgpu' });
    expect(i).toMatchObject({ name: 'webgpu', gpu: true, scanImpl: 'fused', reason: 'forced by SSM_BACKEND=webgpu' });
    expect(typeof i.adapter.hardware).toBe('boolean');
    expect(i.adapter.vendor.length).toBeGreaterThan(0);
  });
});
