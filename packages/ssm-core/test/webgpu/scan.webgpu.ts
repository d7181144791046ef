/**
 * The WGSL selective scan (the 'webgpu' kernel of selectiveScan) on a real WebGPU adapter — in CI a CPU Vulkan
 * driver (lavapipe): forward against the float64 reference selectiveScanRef64 for every layout and option,
 * extreme Δ and A, gradients of every argument against the host kernel's analytic backward (itself tested against
 * float64 finite differences in ../scan.test.ts), tensor hygiene, and no read-back in the forward.
 * Tolerance everywhere: |a − g| ≤ 1e-5 + 1e-4·|g|, the one the host kernel meets.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  resetFlag,
  selectiveScan,
  setFlag,
  selectiveScanRef64,
  ShapeError,
  tf,
  validateScanArgs,
  type SelectiveScanArgs,
} from '../../src/index.js';
import { resolveKernel } from '../../src/ops/registry.js';
import type { ScanDims } from '../../src/ops/core/types.js';
import { chunkLength, planFor, type DeviceLimits } from '../../src/ops/kernels/webgpu/scan.js';
import { timeBackwardTiling } from '../../src/ops/kernels/webgpu/wgslTime.js';
import { expectClose, HEAVY_SCAN, randomScan, type ScanCase } from '../helpers.js';
import { allCases, ALONG, DISC, hostGrads, onWebgpu } from './helpers.js';

onWebgpu();

const f32 = async (t: tf.Tensor) => (await t.data()) as Float32Array;

describe('webgpu selectiveScan: setup', () => {
  it('runs on the webgpu backend and resolves to the WGSL kernel', () => {
    expect(tf.getBackend()).toBe('webgpu');
    expect(resolveKernel('selectiveScan').key).toBe('webgpu');
  });
});

/** The scan of case `c` on webgpu against float64 selective_scan_ref: out and lastState finite and close, no leaks. */
async function checkForward(name: string, c: ScanCase, seed: number) {
  const p = randomScan(c, seed);
  const ref = selectiveScanRef64(validateScanArgs(p.args), p.arrays64);
  const before = tf.memory().numTensors;
  const r = selectiveScan({ ...p.args, returnLastState: true });
  const out = await f32(r.out);
  expect(out.every(Number.isFinite), name).toBe(true);
  expectClose(out, ref.out, `${name}: out`);
  expectClose(await f32(r.lastState!), ref.lastState, `${name}: lastState`);
  tf.dispose([r.out, r.lastState!]);
  expect(tf.memory().numTensors, `${name}: tensors`).toBe(before);
  p.dispose();
}

describe('webgpu selectiveScan forward = float64 selective_scan_ref', () => {
  it('every layout × discretisation × option pattern, out and lastState', async () => {
    let i = 0;
    for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 4, L: 7 })) await checkForward(name, c, 100 + i++);
  });

  for (const deltaAlong of ALONG)
    for (const disc of DISC)
      it(`extreme Δ (up to 50) and A (down to −200), Δ ${deltaAlong}, ${disc}: finite and exact`, async () => {
        await checkForward('heavy', { ...HEAVY_SCAN, dInner: 5, deltaAlong, disc }, 7);
      });

  it('more rows than a workgroup, long sequence, larger states', async () => {
    for (const c of [
      { batch: 2, dInner: 70, dState: 16, L: 50, D: true, z: true, bias: true, softplus: true },
      { batch: 1, dInner: 3, dState: 33, L: 300, deltaAlong: 'state' as const, bias: true, softplus: true },
      { batch: 1, dInner: 1, dState: 1, L: 1, D: true, z: true }, // the smallest problem: one row of 64 per workgroup
      // dState > 64: the row-per-invocation forward instead of the state-parallel one
      { batch: 2, dInner: 3, dState: 70, L: 20, deltaAlong: 'full' as const, z: true, bias: true, softplus: true },
      // dState = 64: one row per workgroup, its products unpadded (64·65 floats would exceed 16 KiB)
      { batch: 2, dInner: 2, dState: 64, L: 70, D: true, z: true, bias: true, softplus: true },
    ])
      await checkForward(`${c.dInner} channels, ${c.dState} states, L ${c.L}`, c, 3);
  });

  it('leaks no tensor and reads nothing back to the host, forward or backward', async () => {
    const p = randomScan({ batch: 2, dInner: 3, dState: 4, L: 9, D: true, z: true, bias: true, softplus: true }, 5);
    // tfjs-backend-webgpu runs small ops on the CPU when their inputs are still host arrays (WEBGPU_CPU_FORWARD):
    // upload the inputs first so that any read would be a download from the GPU.
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    const backend = tf.backend() as unknown as { read: unknown; readSync: unknown };
    const read = vi.spyOn(backend as { read: (...a: unknown[]) => unknown }, 'read');
    const readSync = vi.spyOn(backend as { readSync: (...a: unknown[]) => unknown }, 'readSync');
    const before = tf.memory().numTensors;
    const r = selectiveScan({ ...p.args, returnLastState: true });
    expect(read).not.toHaveBeenCalled();
    expect(readSync).not.toHaveBeenCalled();
    expect(tf.memory().numTensors).toBe(before + 2);
    const keys = (['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const).filter((k) => p.args[k]);
    const grads = tf.grads((...xs: tf.Tensor[]) => {
      const a: Record<string, unknown> = { ...p.args, returnLastState: true };
      keys.forEach((k, i) => (a[k] = xs[i]));
      const q = selectiveScan(a as unknown as SelectiveScanArgs);
      return q.out.sum().add(q.lastState!.sum());
    })(keys.map((k) => p.args[k]!));
    expect(read, 'a read in the backward').not.toHaveBeenCalled();
    expect(readSync, 'a read in the backward').not.toHaveBeenCalled();
    tf.dispose(grads);
    read.mockRestore();
    readSync.mockRestore();
    tf.env().set('WEBGPU_CPU_FORWARD', true);
    tf.dispose([r.out, r.lastState!]);
    const r2 = selectiveScan(p.args);
    expect(tf.memory().numTensors).toBe(before + 1);
    r2.out.dispose();
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });
});

describe('webgpu selectiveScan: limits', () => {
  it('refuses a buffer larger than the device binds before launching, naming the size', () => {
    const p = randomScan({ batch: 2, dInner: 3, dState: 4, L: 9 }, 5);
    const backend = tf.backend() as unknown as { device: GPUDevice };
    const device = backend.device;
    backend.device = { limits: { maxStorageBufferBindingSize: 64 } } as unknown as GPUDevice;
    try {
      const withState = { ...p.args, returnLastState: true };
      expect(() => selectiveScan(withState)).toThrow(ShapeError);
      // out [2, 3, 9] and the final state [2, 3, 4]: 78 floats
      expect(() => selectiveScan(withState)).toThrow(/at most 64 bytes.*got 312 bytes for ssmScanFwd\w* output/);
      // no tape, no last state: out alone, 54 floats
      expect(() => selectiveScan(p.args)).toThrow(/at most 64 bytes.*got 216 bytes for ssmScanFwd\w* output/);
    } finally {
      backend.device = device;
    }
    p.dispose();
  });
});

const KEYS = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;

async function checkGrads(name: string, c: ScanCase, seed: number, atol = 1e-5, rtol = 1e-4) {
  const p = randomScan(c, seed);
  const s = validateScanArgs(p.args);
  const gOut = p.rng.fill(s.batch * s.dInner * s.L, (r) => r.normal());
  const gLast = p.rng.fill(s.batch * s.dInner * s.dState, (r) => r.normal());
  const host = hostGrads(p.args, p.arrays64, gOut, gLast);
  const keys = KEYS.filter((k) => p.args[k] !== undefined);
  const before = tf.memory().numTensors;
  const gO = tf.tensor3d(gOut, [s.batch, s.dInner, s.L]);
  const gL = tf.tensor3d(gLast, [s.batch, s.dInner, s.dState]);
  const f = (...xs: tf.Tensor[]) => {
    const a = { ...p.args, returnLastState: true };
    keys.forEach((k, i) => ((a as Record<string, unknown>)[k] = xs[i]));
    const r = selectiveScan(a);
    return r.out.mul(gO).sum().add(r.lastState!.mul(gL).sum());
  };
  const grads = tf.grads(f)(keys.map((k) => p.args[k] as tf.Tensor));
  for (let i = 0; i < keys.length; i++) {
    const g = await f32(grads[i]);
    expect(g.every(Number.isFinite), `${name}: ∂${keys[i]} finite`).toBe(true);
    expectClose(g, host[keys[i]]!, `${name}: ∂${keys[i]}`, atol, rtol);
  }
  tf.dispose([...grads, gO, gL]);
  expect(tf.memory().numTensors, `${name}: tensors`).toBe(before);
  p.dispose();
}

for (const program of ['states', 'rows'] as const)
  describe(`webgpu selectiveScan gradients = host analytic gradients (backward program '${program}')`, () => {
    beforeAll(() => setFlag('WEBGPU_SCAN_BACKWARD', program));
    afterAll(() => resetFlag('WEBGPU_SCAN_BACKWARD'));

    it('the flag picks the program', () => {
      const s = validateScanArgs(randomScan({ batch: 2, dInner: 3, dState: 4, L: 9 }, 1).args);
      const limits = (tf.backend() as unknown as { device: { limits: DeviceLimits } }).device.limits;
      expect(planFor(s, true, limits).bwd).toBe(program);
    });

    it('every layout × discretisation × option pattern, all arguments, no leaks', async () => {
      let i = 0;
      for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 4, L: 9 })) await checkGrads(name, c, 500 + i++);
    });

    it('several chunks, partial last chunk, more channels than a workgroup', async () => {
      // dState 16 → chunks of 16 steps: L = 35 is 2 full chunks and one of 3; 66 channels need 2 workgroups of 64.
      const base = { batch: 2, dInner: 66, dState: 16, L: 35, D: true, z: true, bias: true, softplus: true };
      // ∂A, ∂D and the fixed ∂B, ∂C are sums over b·L terms accumulated in float32 (the host kernel: float64): the
      // tensor kernel's tolerance against the host kernel in ../scan.test.ts, 1e-4 + 1e-3·|g|.
      for (const deltaAlong of ALONG)
        await checkGrads(`chunks, Δ ${deltaAlong}`, { ...base, deltaAlong, disc: 'zoh' }, 9, 1e-4, 1e-3);
      await checkGrads('chunks, fixed B and C', { ...base, bFixed: true, cFixed: true }, 10, 1e-4, 1e-3);
      await checkGrads(
        'one step, one state',
        { batch: 1, dInner: 1, dState: 1, L: 1, D: true, z: true, bias: true },
        12,
      );
      await checkGrads('dState > 64, chunks of 3', { ...base, dInner: 5, dState: 70, L: 10, deltaAlong: 'state' }, 11);
    });

    it('exact at the extreme chunk lengths of the flag WEBGPU_SCAN_CHUNK_FLOATS: one step per chunk, one for all L', async () => {
      const base = { batch: 2, dInner: 3, dState: 4, L: 13, D: true, z: true, bias: true, softplus: true };
      try {
        for (const [floats, K] of [
          [1, 1],
          [4 * 13, 13],
        ]) {
          setFlag('WEBGPU_SCAN_CHUNK_FLOATS', floats);
          expect(chunkLength({ dState: 4, L: 13 } as ScanDims)).toBe(K);
          await checkGrads(`${floats} chunk floats`, { ...base, disc: 'zoh' }, 14, 1e-4, 1e-3);
        }
      } finally {
        resetFlag('WEBGPU_SCAN_CHUNK_FLOATS');
      }
    });

    // Under heavy decay the float32 recurrence loses digits against the host kernel's float64 one; the tolerance is
    // the one ../scan.test.ts asks of the tensor kernel against the host kernel there (1e-4 + 1e-3·|g|).
    it("extreme Δ (up to 50) and A (down to −200): finite, and equal at the tensor kernel's tolerance", async () => {
      for (const deltaAlong of ALONG)
        for (const disc of DISC) {
          const c: ScanCase = { ...HEAVY_SCAN, deltaAlong, disc };
          await checkGrads(`heavy, Δ ${deltaAlong}, ${disc}`, c, 13, 1e-4, 1e-3);
        }
    });
  });

describe('webgpu selectiveScan: the backward program for a device', () => {
  const s = (dState: number, L = 1024, batch = 256) =>
    ({ batch, dInner: 64, dState, L, deltaAlong: 'channel', bFixed: false, cFixed: false }) as ScanDims;
  const H100 = { maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024 };
  const BASELINE = { maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256 };

  it("'auto' takes 'states' below 8192 rows with chunks cut to the workgroup memory, else 'rows'", () => {
    // batch 16 × dInner 64 = 1024 rows; n = 16: R = 16 rows, T = 256 invocations; red [4 slots × 256] + hs [K × 256]
    // + gys [K × 16] floats
    expect(planFor(s(16, 1024, 16), true, H100)).toMatchObject({ bwd: 'states', R: 16, K: 16, G: 4 });
    const k16 = Math.floor((16384 / 4 - 4 * 256) / (256 + 16)); // 11 steps in 16 KiB
    expect(planFor(s(16, 1024, 16), true, BASELINE)).toMatchObject({ bwd: 'states', K: k16 });
    expect(planFor(s(512, 1024, 16), true, H100).bwd).toBe('rows'); // more states than invocations per workgroup
    expect(planFor(s(16, 1024, 128), true, H100)).toMatchObject({ bwd: 'rows', K: 16, G: 1 }); // 8192 rows
    expect(planFor(s(16), false, H100)).toMatchObject({ K: 1024, NC: 1 }); // no tape: one chunk
  });

  it("forcing 'states' where it cannot fit is a ShapeError naming the flag", () => {
    setFlag('WEBGPU_SCAN_BACKWARD', 'states');
    try {
      expect(() => planFor(s(512), true, H100)).toThrow(ShapeError);
      expect(() => planFor(s(512), true, H100)).toThrow(/WEBGPU_SCAN_BACKWARD/);
    } finally {
      resetFlag('WEBGPU_SCAN_BACKWARD');
    }
  });
});

for (const program of ['time', 'rows'] as const)
  describe(`webgpu selectiveScan forward program '${program}' = float64 selective_scan_ref`, () => {
    beforeAll(() => setFlag('WEBGPU_SCAN_FORWARD', program));
    afterAll(() => resetFlag('WEBGPU_SCAN_FORWARD'));

    it('runs the program the flag names', () => {
      const seen: string[] = [];
      const backend = tf.backend() as unknown as { runWebGPUProgram: (p: { shaderKey: string }) => unknown };
      const p = randomScan({ batch: 2, dInner: 3, dState: 4, L: 9 }, 1);
      const run = backend.runWebGPUProgram.bind(backend);
      backend.runWebGPUProgram = (prog: { shaderKey: string }, ...rest: unknown[]) => {
        seen.push(prog.shaderKey.split('_')[0]);
        return (run as (...x: unknown[]) => unknown)(prog, ...rest);
      };
      try {
        tf.dispose(selectiveScan(p.args).out);
      } finally {
        backend.runWebGPUProgram = run;
        p.dispose();
      }
      expect(seen).toContain(program === 'time' ? 'ssmScanFwdTime' : 'ssmScanFwd');
    });

    // the 36 layout cases for the program no other test runs ('rows' is 'auto''s forward above n = 64, tested there)
    if (program === 'time')
      it('every layout × discretisation × option pattern, out and lastState, no leaks', async () => {
        let i = 0;
        for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 4, L: 7 }))
          await checkForward(name, c, 100 + i++);
      });

    for (const deltaAlong of ALONG)
      it(`extreme Δ (up to 50) and A (down to −200), Δ ${deltaAlong}: finite and exact`, async () => {
        for (const disc of DISC)
          await checkForward(`extreme, ${disc}`, { ...HEAVY_SCAN, dInner: 5, deltaAlong, disc }, 7);
      });

    it('long sequences: several time chunks of the workgroup, partial last chunk, larger states', async () => {
      // 'time' tiles L = 1100 as 128 invocations × 8 steps: a chunk of 1024 steps and one of 76
      await checkForward(
        'L 1100',
        { batch: 1, dInner: 2, dState: 5, L: 1100, D: true, z: true, bias: true, softplus: true },
        3,
      );
      await checkForward(
        'L 300, Δ per state',
        { batch: 1, dInner: 3, dState: 33, L: 300, deltaAlong: 'state', bias: true, softplus: true },
        4,
      );
      await checkForward('one step', { batch: 1, dInner: 1, dState: 1, L: 1, D: true, z: true }, 5);
      await checkForward(
        'dState 70, Δ full',
        { batch: 2, dInner: 3, dState: 70, L: 20, deltaAlong: 'full', z: true, bias: true, softplus: true },
        6,
      );
    });

    it('its chunk states feed both backward programs: gradients = host analytic gradients', async () => {
      const base = { batch: 2, dInner: 66, dState: 16, L: 35, D: true, z: true, bias: true, softplus: true };
      for (const bwd of ['states', 'rows'] as const) {
        setFlag('WEBGPU_SCAN_BACKWARD', bwd);
        try {
          for (const deltaAlong of ALONG)
            await checkGrads(`${bwd} backward, Δ ${deltaAlong}`, { ...base, deltaAlong, disc: 'zoh' }, 9, 1e-4, 1e-3);
          await checkGrads(`${bwd} backward, fixed B and C`, { ...base, bFixed: true, cFixed: true }, 10, 1e-4, 1e-3);
        } finally {
          resetFlag('WEBGPU_SCAN_BACKWARD');
        }
      }
      await checkGrads(
        'L 1100, chunks',
        { batch: 1, dInner: 2, dState: 4, L: 1100, D: true, z: true, bias: true, softplus: true },
        15,
        1e-4,
        1e-3,
      );
    });
  });

describe("webgpu selectiveScan gradients = host analytic gradients (backward program 'time')", () => {
  beforeAll(() => setFlag('WEBGPU_SCAN_BACKWARD', 'time'));
  afterAll(() => resetFlag('WEBGPU_SCAN_BACKWARD'));

  it('the flag picks the program, its chunk length is T·I and R = min(d, max(4, min(16, n))) rows per workgroup', () => {
    const limits = (tf.backend() as unknown as { device: { limits: DeviceLimits } }).device.limits;
    const s = (dInner: number, L: number, dState = 4) =>
      ({ batch: 2, dInner, dState, L, deltaAlong: 'channel', bFixed: false, cFixed: false }) as ScanDims;
    expect(timeBackwardTiling(9)).toEqual({ T: 32, I: 1 });
    expect(timeBackwardTiling(600)).toEqual({ T: 128, I: 4 });
    expect(planFor(s(3, 9), true, limits)).toMatchObject({ bwd: 'time', K: 32, NC: 1, R: 3, G: 1 });
    expect(planFor(s(6, 600), true, limits)).toMatchObject({ bwd: 'time', K: 512, NC: 2, R: 4, G: 2 });
    expect(planFor(s(6, 600, 5), true, limits)).toMatchObject({ R: 5, G: 2 });
    // the benchmark's largest shape [256, 64, 16, 1024]: 16 rows per workgroup, so each partial-sum region
    // [b, 4, n, L] is the size of u [b, d, L]
    expect(planFor(s(64, 1024, 16), true, limits)).toMatchObject({ K: 512, NC: 2, R: 16, G: 4 });
    expect(planFor(s(64, 1024, 70), true, limits)).toMatchObject({ R: 16, G: 4 });
  });

  it('refuses a problem whose workgroup memory does not fit, a ShapeError naming the flag', () => {
    const s = { batch: 2, dInner: 3, dState: 4000, L: 9, deltaAlong: 'channel', bFixed: true, cFixed: true };
    const BASELINE = { maxComputeWorkgroupStorageSize: 16384, maxComputeInvocationsPerWorkgroup: 256 };
    expect(() => planFor(s as ScanDims, true, BASELINE)).toThrow(ShapeError);
    expect(() => planFor(s as ScanDims, true, BASELINE)).toThrow(/WEBGPU_SCAN_BACKWARD/);
    // 4096 words: 32 invocations × (scan 2 + sums over t 3) + n carries + the row count
    expect(planFor({ ...s, dState: 4096 - 5 * 32 - 1 } as ScanDims, true, BASELINE).bwd).toBe('time');
    expect(() => planFor({ ...s, dState: 4096 - 5 * 32 } as ScanDims, true, BASELINE)).toThrow(ShapeError);
  });

  it('every other layout × discretisation × option pattern, all arguments, no leaks', async () => {
    let i = 0;
    for (const [name, c] of allCases({ batch: 2, dInner: 3, dState: 4, L: 9 }).filter((_, k) => k % 2 === 0))
      await checkGrads(name, c, 500 + i++);
  });

  it('several chunks with a partial last chunk, several workgroups along d, every Δ layout', async () => {
    // L = 600: 128 invocations × 4 steps, chunks of 512 and 88 steps; 6 channels: workgroups of 4 and 2 rows. Sums
    // over b·L terms in float32: the tolerance of the chunked tests above.
    const base = { batch: 2, dInner: 6, dState: 5, L: 600, D: true, z: true, bias: true, softplus: true };
    for (const deltaAlong of ALONG)
      await checkGrads(`chunks, Δ ${deltaAlong}`, { ...base, deltaAlong, disc: 'zoh' }, 9, 1e-4, 1e-3);
    await checkGrads(
      'chunks, fixed B and C, euler',
      { ...base, bFixed: true, cFixed: true, disc: 'euler' },
      10,
      1e-4,
      1e-3,
    );
    await checkGrads('one step, one state', { batch: 1, dInner: 1, dState: 1, L: 1, D: true, z: true, bias: true }, 12);
    await checkGrads('dState > 64', { batch: 2, dInner: 5, dState: 70, L: 10, deltaAlong: 'state', z: true }, 11);
  });

  it("extreme Δ (up to 50) and A (down to −200): finite, and equal at the tensor kernel's tolerance", async () => {
    for (const deltaAlong of ALONG)
      for (const disc of DISC)
        await checkGrads(`heavy, Δ ${deltaAlong}, ${disc}`, { ...HEAVY_SCAN, deltaAlong, disc }, 13, 1e-4, 1e-3);
  });

  it("after the 'time' forward: its chunk states feed the 'time' backward", async () => {
    setFlag('WEBGPU_SCAN_FORWARD', 'time');
    try {
      const base = { batch: 2, dInner: 6, dState: 5, L: 600, D: true, z: true, bias: true, softplus: true };
      await checkGrads('time + time, chunks', { ...base, deltaAlong: 'state', disc: 'zoh' }, 16, 1e-4, 1e-3);
    } finally {
      resetFlag('WEBGPU_SCAN_FORWARD');
    }
  });
});
