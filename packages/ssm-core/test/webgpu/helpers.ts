/**
 * What the WebGPU test files share: the backend switch, random tensors, the programs a call dispatches, the layout ×
 * discretisation × option cases of the fused scan, and the host kernel's gradients they are checked against.
 */
import { beforeAll } from 'vitest';
import { ready, tf, validateScanArgs, type Rng, type SelectiveScanArgs } from '../../src/index.js';
import type { ScanArrays } from '../../src/ops/core/types.js';
import { fusedBackward } from '../../src/ops/kernels/cpu/scanBackward.js';
import { fusedForward } from '../../src/ops/kernels/cpu/scanForward.js';
import type { ScanCase } from '../helpers.js';

/** Run this file's tests on the webgpu backend (the setup file has started it; a test may have switched away). */
export function onWebgpu(): void {
  beforeAll(async () => {
    await ready();
    if (tf.getBackend() !== 'webgpu') await tf.setBackend('webgpu');
  });
}

/** A tensor of `shape` with i.i.d. N(0, scale²) entries from `rng`, made on the host. */
export const rnd = (rng: Rng, shape: number[], scale = 1) =>
  tf.tensor(
    rng.fill(
      shape.reduce((a, b) => a * b, 1),
      (r) => scale * r.normal(),
    ),
    shape,
  );

/** A program tfjs-backend-webgpu runs: its class name (tf.time()'s name for it) and its output rank. */
export interface ProgramRun {
  name: string;
  rank: number;
}

/** Every program `f` dispatches, in order (wraps the backend's runWebGPUProgram while `f` runs). */
export function programRuns(f: () => void): ProgramRun[] {
  const be = tf.backend() as unknown as {
    runWebGPUProgram: (p: { outputShape: number[] }, ...r: unknown[]) => unknown;
  };
  const orig = be.runWebGPUProgram;
  const runs: ProgramRun[] = [];
  be.runWebGPUProgram = function (p, ...r) {
    runs.push({ name: p.constructor.name, rank: p.outputShape.length });
    return orig.call(this, p, ...r);
  };
  try {
    f();
  } finally {
    be.runWebGPUProgram = orig;
  }
  return runs;
}

/** The names of every program `f` dispatches. */
export const programsOf = (f: () => void): string[] => programRuns(f).map((r) => r.name);

export const ALONG = ['channel', 'state', 'full'] as const;
export const DISC = ['euler', 'zoh', 'identity'] as const;

/**
 * Every layout (Δ along channel / state / both; B and C fixed or input-dependent) × discretisation: 36 cases,
 * with the 16 on/off patterns of D, z, deltaBias and softplus cycled across them (each pattern at least twice).
 * SSM_WEBGPU_TEST_ALL=1 crosses all of them (576 cases; each new shader costs ~0.5 s to compile on lavapipe).
 */
export function allCases(shape: Pick<ScanCase, 'batch' | 'dInner' | 'dState' | 'L'>): [string, ScanCase][] {
  const all = process.env.SSM_WEBGPU_TEST_ALL === '1';
  const cases: [string, ScanCase][] = [];
  let k = 0;
  for (const deltaAlong of ALONG)
    for (const disc of DISC)
      for (const bFixed of [false, true])
        for (const cFixed of [false, true])
          for (const opt of all ? [...Array(16).keys()] : [(k++ * 7) % 16]) {
            const c: ScanCase = {
              ...shape,
              deltaAlong,
              disc,
              bFixed,
              cFixed,
              D: Boolean(opt & 1),
              z: Boolean(opt & 2),
              bias: Boolean(opt & 4),
              softplus: Boolean(opt & 8),
            };
            const flags = ['D', 'z', 'bias', 'softplus'].filter((f) => c[f as keyof ScanCase]).join('+') || 'plain';
            cases.push([
              `Δ ${deltaAlong}, ${disc}, B ${bFixed ? 'fixed' : 'var'}, C ${cFixed ? 'fixed' : 'var'}, ${flags}`,
              c,
            ]);
          }
  return cases;
}

/**
 * The host kernel's analytic gradients (kernels/cpu, tested against float64 finite differences in ../scan.test.ts)
 * of Σ gOut·out + Σ gLast·lastState, from float32 inputs, in the reference layout.
 */
export function hostGrads(
  args: SelectiveScanArgs,
  x: ScanArrays<Float64Array>,
  gOut: Float32Array,
  gLast: Float32Array,
) {
  const s = validateScanArgs(args);
  const x32 = Object.fromEntries(
    Object.entries(x).map(([k, v]) => [k, v ? Float32Array.from(v) : undefined]),
  ) as unknown as ScanArrays<Float32Array>;
  return fusedBackward(s, x32, fusedForward(s, x32, true), gOut, gLast);
}
