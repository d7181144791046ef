/** Test helpers: random scan problems and a tolerance check with a useful failure message. */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  Rng,
  selectiveScanRef64,
  tf,
  validateScanArgs,
  type SelectiveScanArgs,
  type SelectiveScanResult,
} from '../src/index.js';
import type { ScanArrays, ScanDims } from '../src/ops/core/types.js';

/** |a − g| ≤ atol + rtol·|g| everywhere, else fail naming the worst index. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  atol = 1e-5,
  rtol = 1e-4,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const g = expected[i];
    const excess = Math.abs(a - g) - (atol + rtol * Math.abs(g));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: index ${worst}: got ${actual[worst]}, expected ${expected[worst]} (|a−g| exceeds ${atol} + ${rtol}·|g|)`,
    );
  }
}

export interface ScanCase {
  batch: number;
  dInner: number;
  dState: number;
  L: number;
  deltaAlong?: 'channel' | 'state' | 'full';
  bFixed?: boolean;
  cFixed?: boolean;
  D?: boolean;
  z?: boolean;
  bias?: boolean;
  softplus?: boolean;
  disc?: ScanDims['disc'];
  /** Range of raw delta values and of A's entries. */
  deltaRange?: [number, number];
  aRange?: [number, number];
}

/** Heavy decay: Δ up to 50 and A down to −200, where exp(Δ·A) underflows to 0 (with D, z, bias and softplus). */
export const HEAVY_SCAN: ScanCase = {
  batch: 2,
  dInner: 4,
  dState: 6,
  L: 40,
  D: true,
  z: true,
  bias: true,
  softplus: true,
  deltaRange: [-5, 50],
  aRange: [-200, -0.001],
};

export function randomScan(c: ScanCase, seed: number) {
  const rng = new Rng(seed);
  const { batch: b, dInner: d, dState: n, L } = c;
  const along = c.deltaAlong ?? 'channel';
  const [dlo, dhi] = c.deltaRange ?? (c.softplus ? [-3, 2] : [0.01, 1.5]);
  const [alo, ahi] = c.aRange ?? [-3, -0.05];
  const deltaShape = along === 'channel' ? [b, d, L] : along === 'state' ? [b, n, L] : [b, d, n, L];
  const biasShape = along === 'channel' ? [d] : along === 'state' ? [n] : [d, n];
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  const mk = (shape: number[], f: (r: Rng) => number) => ({ shape, data: rng.fill(size(shape), f) });
  const raw = {
    u: mk([b, d, L], (r) => r.normal()),
    delta: mk(deltaShape, (r) => r.range(dlo, dhi)),
    A: mk([d, n], (r) => r.range(alo, ahi)),
    B: mk(c.bFixed ? [d, n] : [b, n, L], (r) => r.normal()),
    C: mk(c.cFixed ? [d, n] : [b, n, L], (r) => r.normal()),
    D: c.D ? mk([d], (r) => r.normal()) : undefined,
    z: c.z ? mk([b, d, L], (r) => r.normal()) : undefined,
    deltaBias: c.bias ? mk(biasShape, (r) => r.range(-0.5, 0.5)) : undefined,
  };
  const t = (x?: { shape: number[]; data: Float32Array }) => (x ? tf.tensor(x.data, x.shape) : undefined);
  const args: SelectiveScanArgs = {
    u: t(raw.u)!,
    delta: t(raw.delta)!,
    A: t(raw.A)!,
    B: t(raw.B)!,
    C: t(raw.C)!,
    D: t(raw.D),
    z: t(raw.z),
    deltaBias: t(raw.deltaBias),
    deltaSoftplus: c.softplus,
    bDiscretization: c.disc,
    deltaAlong: along === 'state' ? 'state' : undefined,
  };
  const f64 = (x?: { data: Float32Array }) => (x ? Float64Array.from(x.data) : undefined);
  const arrays64: ScanArrays<Float64Array> = {
    u: f64(raw.u)!,
    delta: f64(raw.delta)!,
    A: f64(raw.A)!,
    B: f64(raw.B)!,
    C: f64(raw.C)!,
    D: f64(raw.D),
    z: f64(raw.z),
    deltaBias: f64(raw.deltaBias),
  };
  const dispose = () => tf.dispose(Object.values(args).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
  return { args, arrays64, dispose, rng };
}

export const read = (t: tf.Tensor) => t.dataSync() as Float32Array;

/** W [out, in] · v [in] (+ b), in float64 — for the tests' independent reference loops. */
export function matvec(
  W: ArrayLike<number>,
  out: number,
  inp: number,
  v: ArrayLike<number>,
  b?: ArrayLike<number>,
): Float64Array {
  const r = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inp; i++) s += W[o * inp + i] * v[i];
    r[o] = s;
  }
  return r;
}

/**
 * Compare autodiff gradients `grads` (keyed by variable name) of a model with central finite
 * differences of `loss64` (a float64 reference), at 3 random entries of every parameter. The
 * perturbation is applied in the parameter's float32 storage and divided by what was stored.
 */
export function expectGradsMatchFiniteDifferences(
  m: { paramNames(): string[]; getParam(n: string): tf.Variable; setParam(n: string, v: tf.Tensor): void },
  grads: Record<string, tf.Tensor>,
  loss64: () => number,
): void {
  const rng = new Rng(1);
  for (const pname of m.paramNames()) {
    const v = m.getParam(pname);
    const g = read(grads[v.name]);
    const data = Float32Array.from(v.dataSync());
    for (let k = 0; k < 3; k++) {
      const i = rng.int(data.length);
      const eps = 1e-3 * Math.max(1, Math.abs(data[i]));
      const orig = data[i];
      data[i] = orig + eps;
      m.setParam(pname, tf.tensor(data, v.shape));
      const [up, lp] = [data[i], loss64()]; // data[i] holds the float32-rounded perturbation
      data[i] = orig - eps;
      m.setParam(pname, tf.tensor(data, v.shape));
      const [dn, lm] = [data[i], loss64()];
      data[i] = orig;
      m.setParam(pname, tf.tensor(data, v.shape));
      const fd = (lp - lm) / (up - dn);
      expect(Math.abs(g[i] - fd), `${pname}[${i}]: autodiff ${g[i]} vs finite difference ${fd}`).toBeLessThanOrEqual(
        2e-3 + 2e-2 * Math.abs(fd),
      );
    }
  }
}

/**
 * `ready()` in a fresh Node process with `env` added (backend selection happens once per process): the
 * BackendInfo it returns, or `{error, argument}` when selection throws.
 */
export function probeBackend(env: Record<string, string>) {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./src/index.ts').then(async (m) => { try { const i = await m.ready(); console.log(JSON.stringify(i)); } " +
        'catch (e) { console.log(JSON.stringify({ error: e.message, argument: e.argument })); } })',
    ],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** Central finite differences of L = Σ out·W + Σ last·V on the float64 reference. */
export function finiteDiffGrads(
  args: SelectiveScanArgs,
  x: ScanArrays<Float64Array>,
  W: Float64Array,
  V: Float64Array,
) {
  const s = validateScanArgs(args);
  const loss = () => {
    const r = selectiveScanRef64(s, x);
    let l = 0;
    for (let i = 0; i < W.length; i++) l += r.out[i] * W[i];
    for (let i = 0; i < V.length; i++) l += r.lastState[i] * V[i];
    return l;
  };
  const grads: Partial<Record<keyof ScanArrays, Float64Array>> = {};
  for (const k of Object.keys(x) as (keyof ScanArrays)[]) {
    const arr = x[k];
    if (!arr) continue;
    const g = new Float64Array(arr.length);
    for (let i = 0; i < arr.length; i++) {
      const v = arr[i];
      const eps = 1e-6 * Math.max(1, Math.abs(v));
      arr[i] = v + eps;
      const lp = loss();
      arr[i] = v - eps;
      const lm = loss();
      arr[i] = v;
      g[i] = (lp - lm) / (2 * eps);
    }
    grads[k] = g;
  }
  return grads;
}

/**
 * Check a selectiveScan result (with lastState) against the float64 reference on the same inputs: finite, and
 * out and lastState within {@link expectClose}'s default tolerance.
 */
export function expectScanMatchesReference(r: SelectiveScanResult, p: ReturnType<typeof randomScan>): void {
  const ref = selectiveScanRef64(validateScanArgs(p.args), p.arrays64);
  const out = read(r.out);
  expect(out.every(Number.isFinite)).toBe(true);
  expectClose(out, ref.out, 'out');
  expectClose(read(r.lastState!), ref.lastState, 'lastState');
}
