/** Argument checking shared by the ops: tensors, shapes, dtypes, option values, finiteness of host data. */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../backend.js';
import { configError, dtypeError, fmtShape, shapeError, valueError } from '../../errors.js';
import { SCAN_IMPLS } from '../../policy.js';
import { allFinite, oneOf } from '../../validate.js';
import { B_DISCRETIZATIONS, type ScanArrays, type ScanDims, type SelectiveScanArgs } from './types.js';

export function assertTensor(x: unknown, name: string, rank?: number[]): asserts x is Tensor {
  if (!(x instanceof tf.Tensor)) {
    throw configError(
      name,
      'a tf.Tensor',
      x === undefined ? 'undefined' : typeof x === 'object' ? (x?.constructor?.name ?? 'null') : typeof x,
    );
  }
  if (x.isDisposed) throw valueError(name, 'a live tensor', 'a disposed tensor');
  if (x.dtype !== 'float32') throw dtypeError(name, 'dtype float32', x.dtype);
  if (rank && !rank.includes(x.rank)) {
    throw shapeError(name, `rank ${rank.join(' or ')}`, `rank ${x.rank} with shape ${fmtShape(x.shape)}`);
  }
}

export function expectShape(x: Tensor, name: string, expected: (number | string)[], names?: string): void {
  const ok = x.rank === expected.length && expected.every((e, i) => typeof e === 'string' || e === x.shape[i]);
  if (!ok) {
    const exp = names ? `${names} = ${fmtShape(expected)}` : fmtShape(expected);
    throw shapeError(name, exp, fmtShape(x.shape));
  }
}

/** Validate `selectiveScan` arguments; return the problem's dimensions and layout. */
export function validateScanArgs(a: SelectiveScanArgs): ScanDims {
  if (a == null || typeof a !== 'object')
    throw configError('selectiveScan(args)', 'an object {u, delta, A, B, C, ...}', String(a));
  assertTensor(a.u, 'u', [3]);
  const [batch, dInner, L] = a.u.shape as number[];
  assertTensor(a.A, 'A', [2]);
  if (a.A.shape[0] !== dInner) throw shapeError('A', `[dInner=${dInner}, dState]`, fmtShape(a.A.shape));
  const dState = (a.A.shape as number[])[1];

  assertTensor(a.delta, 'delta', [3, 4]);
  const along = a.deltaAlong ?? 'channel';
  if (along !== 'channel' && along !== 'state')
    throw configError('deltaAlong', "'channel' | 'state'", JSON.stringify(along));
  let deltaAlong: ScanDims['deltaAlong'];
  if (a.delta.rank === 4) {
    deltaAlong = 'full';
    expectShape(a.delta, 'delta', [batch, dInner, dState, L], '[batch, dInner, dState, L]');
  } else if (along === 'state') {
    deltaAlong = 'state';
    expectShape(a.delta, 'delta', [batch, dState, L], "[batch, dState, L] (deltaAlong: 'state')");
  } else {
    deltaAlong = 'channel';
    expectShape(a.delta, 'delta', [batch, dInner, L], '[batch, dInner, L]');
  }

  const bc = (x: Tensor | undefined, name: 'B' | 'C'): boolean => {
    assertTensor(x, name, [2, 3]);
    if (x.rank === 3) expectShape(x, name, [batch, dState, L], '[batch, dState, L] (input-dependent)');
    else expectShape(x, name, [dInner, dState], '[dInner, dState] (fixed)');
    return x.rank === 2;
  };
  const bFixed = bc(a.B, 'B');
  const cFixed = bc(a.C, 'C');

  if (a.D !== undefined) {
    assertTensor(a.D, 'D', [1]);
    expectShape(a.D, 'D', [dInner], '[dInner]');
  }
  if (a.z !== undefined) {
    assertTensor(a.z, 'z', [3]);
    expectShape(a.z, 'z', [batch, dInner, L], '[batch, dInner, L]');
  }
  if (a.deltaBias !== undefined) {
    const exp = deltaAlong === 'channel' ? [dInner] : deltaAlong === 'state' ? [dState] : [dInner, dState];
    assertTensor(a.deltaBias, 'deltaBias', [exp.length]);
    expectShape(
      a.deltaBias,
      'deltaBias',
      exp,
      deltaAlong === 'channel' ? '[dInner]' : deltaAlong === 'state' ? '[dState]' : '[dInner, dState]',
    );
  }
  const disc = a.bDiscretization ?? 'euler';
  oneOf(disc, 'bDiscretization', B_DISCRETIZATIONS);
  if (a.impl !== undefined) oneOf(a.impl, 'impl', SCAN_IMPLS);
  if (L < 1 || batch < 1 || dInner < 1 || dState < 1) {
    throw shapeError(
      'u',
      'non-empty batch, dInner, L and dState',
      `u ${fmtShape(a.u.shape)}, A ${fmtShape(a.A.shape)}`,
    );
  }
  return {
    batch,
    dInner,
    dState,
    L,
    deltaAlong,
    bFixed,
    cFixed,
    hasD: a.D !== undefined,
    hasZ: a.z !== undefined,
    hasBias: a.deltaBias !== undefined,
    softplus: Boolean(a.deltaSoftplus),
    disc,
  };
}

/** Throw a ValueError naming the first non-finite element of `data` (shape `shape`). */
export function assertFinite(data: ArrayLike<number>, name: string, shape: readonly number[]): void {
  if (allFinite(data)) return;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (x - x !== 0) {
      const idx: number[] = [];
      let r = i;
      for (let k = shape.length - 1; k >= 0; k--) {
        idx.unshift(r % shape[k]);
        r = Math.floor(r / shape[k]);
      }
      throw valueError(name, 'finite values', `${x} at index ${fmtShape(idx)}`);
    }
  }
}

/** The scan's tensor arguments, in a fixed order. */
export const SCAN_KEYS = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'] as const;

/** Read the data of the scan's tensors (float32) into arrays. */
export function readScanArrays(a: SelectiveScanArgs): ScanArrays<Float32Array> {
  const r = (t?: { dataSync(): unknown }) => (t ? (t.dataSync() as Float32Array) : undefined);
  return {
    u: r(a.u)!,
    delta: r(a.delta)!,
    A: r(a.A)!,
    B: r(a.B)!,
    C: r(a.C)!,
    D: r(a.D),
    z: r(a.z),
    deltaBias: r(a.deltaBias),
  };
}

/** Throw a ValueError naming the first non-finite element of any scan argument. */
export function checkScanFinite(x: ScanArrays, args: SelectiveScanArgs): void {
  for (const k of SCAN_KEYS) {
    const t = args[k];
    if (t) assertFinite(x[k]!, k, t.shape);
  }
}
