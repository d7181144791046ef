/**
 * `MambaModel.logitsAt` (the output layer only where it is read) against `forward`'s logits at the same
 * positions, and `Construction.predictFlat(…, readAt)` against decoding every position.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MambaModel, Rng, ValueError, ready, tf } from '../src/index.js';
import { mqarAnswers, mqarConstruction } from '../src/constructions/index.js';
import { mqar } from '../src/tasks/index.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

describe('MambaModel.logitsAt', () => {
  const configs = [
    { vocabSize: 9, dModel: 6, dState: 4 }, // conv + gate
    { vocabSize: 7, dModel: 5, dState: 3, mixer: 's4d' as const, gate: false as const, positionalEncoding: true },
  ];
  configs.forEach((config, i) => {
    it(`rows of forward() at the chosen positions (config ${i})`, () => {
      const m = new MambaModel({ ...config, seed: i + 1 });
      const r = new Rng(5 + i);
      const [b, L] = [3, 11];
      const tokens = Array.from({ length: b }, () => Array.from({ length: L }, () => r.int(config.vocabSize)));
      const positions = Int32Array.from([0, 5, 11, 12, 32, 20]); // flat i·L + t, any order, repeats allowed
      const before = tf.memory().numTensors;
      const all = m.forward(tokens); // [b, L, C]
      const some = m.logitsAt(tokens, positions); // [m, C]
      const C = all.shape[2]!;
      expect(some.shape).toEqual([positions.length, C]);
      const full = read(all);
      const expected = Float64Array.from(
        { length: positions.length * C },
        (_, k) => full[positions[Math.floor(k / C)] * C + (k % C)],
      );
      expectClose(read(some), expected, 'logitsAt');
      tf.dispose([all, some]);
      expect(tf.memory().numTensors).toBe(before);
      m.dispose();
    });
  });

  it('names positions outside [0, b·L)', () => {
    const m = new MambaModel({ vocabSize: 5, dModel: 4, dState: 2 });
    expect(() => m.logitsAt([[1, 2, 3]], Int32Array.from([0, 3]))).toThrow(ValueError);
    expect(() => m.logitsAt([[1, 2, 3]], Int32Array.from([0, 3]))).toThrow(/positions.*\[0, 3\).*3 at index 1/);
    m.dispose();
  });
});

describe('Construction.predictFlat with readAt', () => {
  it('decodes exactly the flagged positions, the same values as decoding all, NaN elsewhere', () => {
    const [K, V, T, S] = [4, 16, 24, 30];
    const data = mqar({ numKeys: K, vocabSize: V, T, numSamples: S, seed: 3 });
    const answers = mqarAnswers(data.inputs, S, T, K);
    const readAt = Uint8Array.from(answers, (a) => (a === -2 ? 0 : 1));
    const c = mqarConstruction({ mixer: 'mamba', numKeys: K, vocabSize: V });
    const all = c.predictFlat(data.inputs, S, T);
    const some = c.predictFlat(data.inputs, S, T, readAt);
    let read = 0;
    for (let i = 0; i < S * T; i++) {
      if (readAt[i]) {
        read++;
        expect(some[i]).toBe(all[i]);
        expect(some[i]).toBe(answers[i]); // and the construction is exact
      } else expect(some[i]).toBeNaN();
    }
    expect(read).toBe(S * K);
    expect(() => c.predictFlat(data.inputs, S, T, readAt.subarray(1))).toThrow(/readAt.*Uint8Array/);
    c.dispose();
  });
});
