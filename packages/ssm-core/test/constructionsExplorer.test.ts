/**
 * Tightness explorer, Remark 7's adversarial input, the evaluation helpers and the CLI report —
 * at small sizes, re-checking each claim independently: the explorer's answer really scores 100%
 * and the next smaller size really fails for every seed tried; Remark 7's failures match the
 * cross-talk computed here from the weights; the brute-force answer helpers agree with the task
 * generators' own targets.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ready, tf } from '../src/index.js';
import {
  constructionsReport,
  inductionHeadsAnswers,
  keepNthAnswers,
  mqarAnswers,
  mqarConstruction,
  mqarTightness,
  remark7Demo,
  remark7Inputs,
  scoreMqar,
  type Construction,
} from '../src/constructions/index.js';
import { IGNORE, inductionHeads, keepNth, mqar } from '../src/tasks/index.js';

beforeAll(async () => {
  await ready();
});

/** Queries answered wrongly by `c` on S instances (brute force: the value after the key in the pair region). */
function mqarWrong(c: Construction, K: number, V: number, T: number, S: number, seed: number): number {
  const data = mqar({ numKeys: K, vocabSize: V, T, numSamples: S, seed });
  const pred = c.predictFlat(data.inputs, S, T);
  let wrong = 0;
  for (let s = 0; s < S; s++) {
    const x = data.inputs.subarray(s * T, (s + 1) * T);
    for (let t = 2 * K; t < T; t++) {
      if (x[t] >= K) continue;
      const pairAt = Array.from(x.subarray(0, 2 * K)).indexOf(x[t]);
      if (pred[s * T + t] !== x[pairAt + 1] - K) wrong++;
    }
  }
  return wrong;
}

describe('tightness explorer', () => {
  it('Thm. 2 / Thm. 4: the reported p scores 100%, and p − 1 fails for every seed tried', () => {
    const [K, V, T, instances, seeds] = [4, 16, 16, 300, 2];
    const r = mqarTightness({ numKeys: K, vocabSize: V, T, instances, seeds, mixers: ['mamba', 's4d'] });
    expect(r.rows.map((x) => x.theorem)).toEqual(['Thm. 2', 'Thm. 4']);
    for (const row of r.rows) {
      expect(row.found).toBe(true);
      const p = row.jlDim!.values;
      expect(p).toBeGreaterThanOrEqual(Math.ceil(Math.log2(V)));
      expect(row.d).toBe(row.mixer === 'mamba' ? K + p : K * p);
      const build = (dim: number, seed: number) =>
        mqarConstruction({ mixer: row.mixer, numKeys: K, vocabSize: V, embedding: 'jl', jlDim: dim, seed });
      const ok = build(p, row.seed!);
      expect(mqarWrong(ok, K, V, T, instances, 1)).toBe(0);
      ok.dispose();
      if (p > Math.ceil(Math.log2(V))) {
        for (let seed = 0; seed < seeds; seed++) {
          const smaller = build(p - 1, seed);
          expect(mqarWrong(smaller, K, V, T, instances, 1), `p=${p - 1}, seed ${seed}`).toBeGreaterThan(0);
          smaller.dispose();
        }
      }
    }
    expect(r.text).toMatch(/Thm. 2\s+mamba/);
    expect(r.text).toMatch(/O\(κ \+ log\|V\|\)=8/);
  });

  it('Thm. 3: a 2-D search over (p_k, p_v); the reported pair scores 100% and N = p_k', () => {
    const [K, V, T, instances] = [2, 8, 8, 200];
    const seen: string[] = [];
    const r = mqarTightness({
      numKeys: K,
      vocabSize: V,
      T,
      instances,
      seeds: 2,
      mixers: ['mamba2'],
      onCandidate: (c) => seen.push(`${c.jlDim.keys}/${c.jlDim.values}/${c.passed}`),
    });
    const row = r.rows[0];
    expect(row.found).toBe(true);
    expect(row.N).toBe(row.jlDim!.keys);
    expect(row.d).toBe(row.jlDim!.keys! + row.jlDim!.values);
    expect(seen.length).toBe(row.candidates);
    expect(seen).toContain(`${row.jlDim!.keys}/${row.jlDim!.values}/true`);
    const c = mqarConstruction({
      mixer: 'mamba2',
      numKeys: K,
      vocabSize: V,
      embedding: 'jl',
      jlDim: { keys: row.jlDim!.keys, values: row.jlDim!.values },
      seed: row.seed!,
    });
    expect(mqarWrong(c, K, V, T, instances, 1)).toBe(0);
    c.dispose();
  });

  it('options are checked', () => {
    expect(() => mqarTightness({ numKeys: 4, vocabSize: 16, T: 5 })).toThrow(
      /options.T: expected an integer ≥ 3·numKeys = 12/,
    );
    expect(() => mqarTightness({ numKeys: 4, vocabSize: 16, mixers: ['rnn' as 'mamba'] })).toThrow(/options.mixers/);
    expect(() => mqarTightness({ numKeys: 4, vocabSize: 16, seeds: 0 })).toThrow(ConfigError);
  });
});

describe('Remark 7: the adversarial input breaks N = log κ and recovers as ε decreases', () => {
  it('failures at p_k = ⌈log₂ κ⌉, none at the last p_k, and every key with S_i > 1 fails', () => {
    const K = 16;
    const r = remark7Demo({ numKeys: K, vocabSize: 32, randomInstances: 50 });
    expect(r.rows[0].pk).toBe(4);
    expect(r.rows[0].adversarialFailures).toBeGreaterThan(0);
    const last = r.rows[r.rows.length - 1];
    expect(last.adversarialFailures).toBe(0);
    expect(last.maxCrossTalk).toBeLessThan(1);
    for (const row of r.rows) expect(row.predictedButCorrect).toBe(0);
    expect(r.text).toMatch(/Remark 7/);

    // Recompute the first row independently: cross-talk S_i from the key codes, failures from predict().
    const c = mqarConstruction({
      mixer: 'mamba2',
      numKeys: K,
      vocabSize: 32,
      embedding: 'jl',
      jlDim: { keys: 4, values: r.valuesDim },
    });
    const E = c.params['embedding.weight'];
    const d = c.dims.d;
    const dot = (i: number, l: number) => [0, 1, 2, 3].reduce((a, ch) => a + E[i * d + ch] * E[l * d + ch], 0);
    const S = Array.from({ length: K }, (_, i) =>
      Array.from({ length: K }, (_, l) => (l === i ? 0 : dot(l, i))).reduce((a, b) => a + b, 0),
    );
    expect(r.rows[0].maxCrossTalk).toBeCloseTo(Math.max(...S), 5);
    const { inputs, queryPos, T } = remark7Inputs(K);
    const x = Array.from(inputs.subarray(0, T));
    expect(x.slice(0, 4)).toEqual([0, K + 1, 1, K]); // [k_0 v_1 k_1 v …]: special key 0 holds v_1 = 1, the rest v = 0
    const pred = c.predict(Array.from({ length: K }, (_, s) => Array.from(inputs.subarray(s * T, (s + 1) * T))));
    const wrong = pred.filter((row, s) => row[queryPos[s]] !== 1).length;
    expect(wrong).toBe(r.rows[0].adversarialFailures);
    c.dispose();
  });
});

describe('evaluation helpers agree with the task generators', () => {
  it('MQAR, INDUCTION HEADS and KEEP n-TH answers equal the generated targets', () => {
    const m = mqar({ numKeys: 5, vocabSize: 9, T: 25, numSamples: 200, seed: 3 });
    const a = mqarAnswers(m.inputs, 200, 25, 5);
    for (let i = 0; i < a.length; i++) expect(a[i]).toBe(m.targets[i] === IGNORE ? -2 : m.targets[i]);
    const ih = inductionHeads({ vocabSize: 6, T: 30, numSamples: 200, seed: 4, setting: 'hard' });
    const b = inductionHeadsAnswers(ih.inputs, 200, 30);
    for (let i = 0; i < b.length; i++) expect(b[i]).toBe(ih.targets[i] === 6 ? -1 : ih.targets[i]);
    const kn = keepNth({ n: 3, vocabSize: 7, T: 10, numSamples: 50, seed: 5 });
    const k = keepNthAnswers(kn.inputs, 50, 10, 3);
    for (let i = 0; i < k.length; i++) expect(k[i]).toBe(kn.targets[i] === IGNORE ? -2 : kn.targets[i]);
  });

  it('scoreMqar counts every query and stops at the first error when asked', () => {
    const good = mqarConstruction({ mixer: 'mamba2', numKeys: 3, vocabSize: 5 });
    const s = scoreMqar(good, { numKeys: 3, vocabSize: 5, T: 12 }, { instances: 300 });
    expect([s.correct, s.total, s.instances, s.firstError]).toEqual([900, 900, 300, undefined]);
    good.dispose();
    const bad = mqarConstruction({
      mixer: 'mamba2',
      numKeys: 3,
      vocabSize: 5,
      embedding: 'jl',
      jlDim: { keys: 1, values: 1 },
    });
    const f = scoreMqar(bad, { numKeys: 3, vocabSize: 5, T: 12 }, { instances: 300, stopAtFirstError: true });
    expect(f.firstError).toBeDefined();
    expect(f.instances).toBeLessThan(300);
    expect(f.correct).toBeLessThan(f.total);
    bad.dispose();
  });
});

describe('constructionsReport (what `ssm-lab constructions` prints)', () => {
  it('one row per result with d, N, the bound and 100% accuracy; JSON-serialisable; no leaks', () => {
    const before = tf.memory().numTensors;
    const r = constructionsReport({
      numKeys: 3,
      vocabSize: 8,
      instances: 40,
      keepNth: { n: 2, vocabSize: 4, T: 10 },
      inductionHeads: { vocabSize: 4, T: 20 },
      clockT: 100,
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.rows.map((x) => x.theorem)).toEqual([
      'Cor. 2',
      'Prop. 1',
      'Thm. 2',
      'Thm. 2',
      'Thm. 3',
      'Thm. 3',
      'Thm. 4',
      'Thm. 4',
      'Lem. 3',
      'Lem. 3',
    ]);
    for (const row of r.rows) {
      expect(row.accuracy, row.construction).toBe(1);
      expect(row.total).toBeGreaterThan(0);
    }
    const thm3 = r.rows[4];
    expect([thm3.d, thm3.N, thm3.bound.d.nominal, thm3.bound.N.nominal]).toEqual([11, 3, 11, 3]);
    expect(JSON.parse(JSON.stringify(r.rows))).toEqual(r.rows);
    for (const t of ['Cor. 2', 'Prop. 1', 'Thm. 2', 'Thm. 3', 'Thm. 4', 'Lem. 3']) expect(r.text).toContain(t);
    for (const line of r.text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(120);
    // why the JL rows are wider than one-hot here: Lem. 4's p = ⌈16 ln(2n)⌉ exceeds n below the printed crossover
    const from = Number(/JL codes are shorter only from n ≥ (\d+)/.exec(r.text)![1]);
    expect(Math.ceil(16 * Math.log(2 * from))).toBeLessThan(from);
    expect(Math.ceil(16 * Math.log(2 * (from - 1)))).toBeGreaterThanOrEqual(from - 1);
    expect(r.rows[5].jl).toMatchObject({ exact: r.rows[5].jl!.margin! > 0 });
    expect(r.text).toMatch(/Thm\. 3 JL: margin bound of the drawn codes -?\d/);
    expect(() => constructionsReport({ numKeys: 0 })).toThrow(/options.numKeys/);
  });
});
