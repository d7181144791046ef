/** ssdMinimal (chunked SSD, Mamba-2) against its sequential float64 reference and against selectiveScan. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Rng,
  ShapeError,
  ready,
  selectiveScan,
  ssdMinimal,
  ssdMinimalRef64,
  tf,
  validateSsdArgs,
} from '../src/index.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

function problem(
  b: number,
  l: number,
  h: number,
  p: number,
  n: number,
  seed: number,
  aRange: [number, number] = [-1, -0.01],
) {
  const r = new Rng(seed);
  const X = r.fill(b * l * h * p, (x) => x.normal());
  const A = r.fill(b * l * h, (x) => x.range(...aRange));
  const B = r.fill(b * l * h * n, (x) => x.normal());
  const C = r.fill(b * l * h * n, (x) => x.normal());
  const init = r.fill(b * h * p * n, (x) => x.normal());
  const t = {
    X: tf.tensor4d(X, [b, l, h, p]),
    A: tf.tensor3d(A, [b, l, h]),
    B: tf.tensor4d(B, [b, l, h, n]),
    C: tf.tensor4d(C, [b, l, h, n]),
    initialStates: tf.tensor4d(init, [b, h, p, n]),
  };
  return { raw: { X, A, B, C, initialStates: init }, t, dispose: () => tf.dispose(Object.values(t)) };
}

describe('ssdMinimal = sequential float64 recurrence', () => {
  const cases: [string, number[], number, boolean, [number, number]?][] = [
    ['length a multiple of blockLen', [2, 16, 3, 4, 5], 4, false],
    ['ragged tail, initial states', [2, 13, 2, 3, 4], 5, true],
    ['one chunk', [1, 7, 1, 2, 3], 8, true],
    ['heavy decay (e^{A} underflows)', [2, 12, 2, 3, 2], 4, true, [-300, -10]],
  ];
  for (const [name, [b, l, h, p, n], q, withInit, aRange] of cases) {
    it(name, () => {
      const P = problem(b, l, h, p, n, 3, aRange);
      const r = ssdMinimal({ ...P.t, initialStates: withInit ? P.t.initialStates : undefined, blockLen: q });
      const ref = ssdMinimalRef64(validateSsdArgs({ ...P.t, blockLen: q }), {
        ...P.raw,
        initialStates: withInit ? P.raw.initialStates : undefined,
      });
      expect(r.Y.shape).toEqual([b, l, h, p]);
      expectClose(read(r.Y), ref.Y, 'Y');
      expectClose(read(r.finalState), ref.finalState, 'finalState');
      tf.dispose([r.Y, r.finalState]);
      P.dispose();
    });
  }

  it('matches selectiveScan on the same single-head problem (A → Δ with A_scan = −1, identity B)', () => {
    const [b, l, p, n] = [2, 10, 3, 4];
    const P = problem(b, l, 1, p, n, 8);
    const ssd = ssdMinimal({ ...P.t, initialStates: undefined, blockLen: 4 });
    const r = tf.tidy(() => {
      const u = P.t.X.reshape([b, l, p]).transpose([0, 2, 1]); // [b, p, l]
      const delta = tf.broadcastTo(P.t.A.reshape([b, 1, l]).neg(), [b, p, l]);
      const BC = (x: tf.Tensor) => x.reshape([b, l, n]).transpose([0, 2, 1]);
      const s = selectiveScan({
        u,
        delta,
        A: tf.fill([p, n], -1),
        B: BC(P.t.B),
        C: BC(P.t.C),
        bDiscretization: 'identity',
        returnLastState: true,
      });
      return { y: s.out.transpose([0, 2, 1]).reshape([b, l, 1, p]), last: s.lastState!.reshape([b, 1, p, n]) };
    });
    expectClose(read(ssd.Y), read(r.y), 'Y');
    expectClose(read(ssd.finalState), read(r.last), 'finalState');
    tf.dispose([ssd.Y, ssd.finalState, r.y, r.last]);
    P.dispose();
  });

  it('gradients equal those of the fused selective scan on the mapped problem', () => {
    const [b, l, p, n] = [1, 9, 2, 3];
    const P = problem(b, l, 1, p, n, 4);
    const W = tf.randomNormal([b, l, 1, p], 0, 1, 'float32', 7);
    const viaSsd = tf.grads(
      (X: tf.Tensor, A: tf.Tensor, B: tf.Tensor, C: tf.Tensor) =>
        ssdMinimal({ X, A, B, C, blockLen: 4 }).Y.mul(W).sum() as tf.Scalar,
    )([P.t.X, P.t.A, P.t.B, P.t.C]);
    const viaScan = tf.grads((X: tf.Tensor, A: tf.Tensor, B: tf.Tensor, C: tf.Tensor) => {
      const u = X.reshape([b, l, p]).transpose([0, 2, 1]);
      const delta = tf.broadcastTo(A.reshape([b, 1, l]).neg(), [b, p, l]);
      const BC = (x: tf.Tensor) => x.reshape([b, l, n]).transpose([0, 2, 1]);
      const y = selectiveScan({
        u,
        delta,
        A: tf.fill([p, n], -1),
        B: BC(B),
        C: BC(C),
        bDiscretization: 'identity',
        impl: 'fused',
      }).out;
      return y.transpose([0, 2, 1]).reshape([b, l, 1, p]).mul(W).sum() as tf.Scalar;
    })([P.t.X, P.t.A, P.t.B, P.t.C]);
    ['X', 'A', 'B', 'C'].forEach((k, i) => expectClose(read(viaSsd[i]), read(viaScan[i]), `∂/∂${k}`, 1e-4, 1e-3));
    tf.dispose([...viaSsd, ...viaScan, W]);
    P.dispose();
  });

  it('rejects mismatched shapes with the argument named', () => {
    const P = problem(1, 4, 1, 2, 3, 1);
    const bad = tf.zeros([1, 4, 1, 2]);
    expect(() => ssdMinimal({ ...P.t, C: bad, blockLen: 2 })).toThrow(ShapeError);
    expect(() => ssdMinimal({ ...P.t, C: bad, blockLen: 2 })).toThrow(/^C: expected/);
    expect(() => ssdMinimal({ ...P.t, blockLen: 0 })).toThrow(/blockLen/);
    const before = tf.memory().numTensors;
    const r = ssdMinimal({ ...P.t, blockLen: 3 });
    tf.dispose([r.Y, r.finalState]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(bad);
    P.dispose();
  });
});

describe('ssdMinimal at the edges: A = −∞, empty length or batch, bad initial states', () => {
  it('A = −∞ (a full reset, e^{A} = 0) gives finite values equal to the float64 reference', () => {
    const [b, l, h, p, n] = [2, 11, 2, 3, 2];
    const P = problem(b, l, h, p, n, 5);
    const A = P.raw.A.slice();
    for (const i of [0, 3, 4, 9, 17, 30, A.length - 1]) A[i] = -Infinity;
    const At = tf.tensor3d(A, [b, l, h]);
    for (const q of [1, 4, 16]) {
      const r = ssdMinimal({ ...P.t, A: At, blockLen: q });
      const ref = ssdMinimalRef64(validateSsdArgs({ ...P.t, blockLen: q }), { ...P.raw, A });
      const y = read(r.Y);
      expect(y.every(Number.isFinite), `blockLen ${q}: Y finite`).toBe(true);
      expectClose(y, ref.Y, `Y (blockLen ${q})`);
      expectClose(read(r.finalState), ref.finalState, `finalState (blockLen ${q})`);
      tf.dispose([r.Y, r.finalState]);
    }
    // gradients stay finite through the reset steps
    const g = tf.grads(
      (X: tf.Tensor, B: tf.Tensor, C: tf.Tensor) => ssdMinimal({ X, A: At, B, C, blockLen: 4 }).Y.sum() as tf.Scalar,
    )([P.t.X, P.t.B, P.t.C]);
    for (const x of g) expect(read(x).every(Number.isFinite)).toBe(true);
    tf.dispose([...g, At]);
    P.dispose();
  });

  it('length 0 gives an empty Y and finalState = initialStates (zeros without them), like the reference', () => {
    const [b, h, p, n] = [2, 2, 3, 4];
    const init = tf.randomNormal([b, h, p, n], 0, 1, 'float32', 3);
    const empty = {
      X: tf.zeros([b, 0, h, p]),
      A: tf.zeros([b, 0, h]),
      B: tf.zeros([b, 0, h, n]),
      C: tf.zeros([b, 0, h, n]),
    };
    const before = tf.memory().numTensors;
    const r = ssdMinimal({ ...empty, initialStates: init, blockLen: 4 });
    expect(r.Y.shape).toEqual([b, 0, h, p]);
    expect(r.finalState.shape).toEqual([b, h, p, n]);
    expect(Array.from(read(r.finalState))).toEqual(Array.from(read(init)));
    const z = ssdMinimal({ ...empty, blockLen: 4 });
    expect(Array.from(read(z.finalState))).toEqual(new Array(b * h * p * n).fill(0));
    tf.dispose([r.Y, r.finalState, z.Y, z.finalState]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([init, ...Object.values(empty)]);
  });

  it('batch 0 (and any other empty axis) gives empty results of the right shapes', () => {
    for (const [b, l, h, p, n] of [
      [0, 5, 2, 3, 4],
      [2, 5, 0, 3, 4],
      [2, 5, 2, 0, 4],
      [2, 5, 2, 3, 0],
    ]) {
      const t = {
        X: tf.zeros([b, l, h, p]),
        A: tf.zeros([b, l, h]),
        B: tf.zeros([b, l, h, n]),
        C: tf.zeros([b, l, h, n]),
      };
      const r = ssdMinimal({ ...t, blockLen: 2 });
      expect(r.Y.shape).toEqual([b, l, h, p]);
      expect(r.finalState.shape).toEqual([b, h, p, n]);
      expect(read(r.Y).every((v) => v === 0)).toBe(true);
      tf.dispose([r.Y, r.finalState, ...Object.values(t)]);
    }
  });

  it('a wrong-shaped initialStates is a ShapeError that leaves no tensor behind', () => {
    const P = problem(1, 4, 2, 2, 3, 1);
    for (const shape of [
      [1, 2, 2, 4],
      [1, 1, 2, 3, 2],
      [1, 2, 2, 2, 3],
    ]) {
      const bad = tf.zeros(shape);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        expect(() => ssdMinimal({ ...P.t, initialStates: bad, blockLen: 2 })).toThrow(ShapeError);
        expect(() => ssdMinimal({ ...P.t, initialStates: bad, blockLen: 2 })).toThrow(/^initialStates: expected/);
      }
      expect(tf.memory().numTensors, `initialStates ${JSON.stringify(shape)}`).toBe(before);
      bad.dispose();
    }
    P.dispose();
  });
});
