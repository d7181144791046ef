/**
 * Synthetic task generators (KEEP n-TH, MQAR, INDUCTION HEADS): every sample is checked against an
 * independent brute-force reading of the task definition, plus determinism, distribution sanity and
 * option errors.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { IGNORE, inductionHeads, keepNth, mqar, rows, type TaskData } from '../src/tasks/index.js';

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────────

const sample = (a: Int32Array, s: number, T: number) => Array.from(a.subarray(s * T, (s + 1) * T));

/** First `limit` problems over all samples, as readable strings ([] when every sample passes). */
function problems(d: TaskData, check: (x: number[], y: number[], s: number) => string | null, limit = 5): string[] {
  const out: string[] = [];
  for (let s = 0; s < d.numSamples && out.length < limit; s++) {
    const p = check(sample(d.inputs, s, d.T), sample(d.targets, s, d.T), s);
    if (p) out.push(`sample ${s}: ${p}`);
  }
  return out;
}

function expectShape(d: TaskData, S: number, T: number, vocabSize: number, numClasses: number) {
  expect(d.numSamples).toBe(S);
  expect(d.T).toBe(T);
  expect(d.inputs).toBeInstanceOf(Int32Array);
  expect(d.targets).toBeInstanceOf(Int32Array);
  expect(d.inputs.length).toBe(S * T);
  expect(d.targets.length).toBe(S * T);
  expect(d.vocabSize).toBe(vocabSize);
  expect(d.numClasses).toBe(numClasses);
  let badIn = 0;
  let badOut = 0;
  for (let i = 0; i < S * T; i++) {
    if (d.inputs[i] < 0 || d.inputs[i] >= vocabSize) badIn++;
    if (d.targets[i] !== IGNORE && (d.targets[i] < 0 || d.targets[i] >= numClasses)) badOut++;
  }
  expect(badIn).toBe(0);
  expect(badOut).toBe(0);
}

/** Counts of each value of `xs` in [0, n). */
function histogram(xs: Iterable<number>, n: number): number[] {
  const h = new Array<number>(n).fill(0);
  for (const x of xs) h[x]++;
  return h;
}

/** Every bin of an empirical histogram within `tol` (relative) of the expected count. */
function expectNearUniform(h: number[], tol: number) {
  const total = h.reduce((a, b) => a + b, 0);
  const expected = total / h.length;
  const worst = Math.max(...h.map((c) => Math.abs(c - expected) / expected));
  expect(worst).toBeLessThan(tol);
}

/** FNV-1a over inputs then targets: pins the exact stream a seed produces, on every machine. */
function fingerprint(d: TaskData): string {
  let h = 0x811c9dc5;
  for (const a of [d.inputs, d.targets]) {
    for (let i = 0; i < a.length; i++) {
      h ^= a[i] & 0xff;
      h = Math.imul(h, 0x01000193);
      h ^= (a[i] >>> 8) & 0xffffff;
      h = Math.imul(h, 0x01000193);
    }
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function expectConfigError(f: () => unknown, option: RegExp, ...fragments: string[]) {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  const msg = (err as Error).message;
  expect(msg).toMatch(option);
  expect(msg).toMatch(/expected .+, got /);
  for (const frag of fragments) expect(msg).toContain(frag);
}

// ── KEEP n-TH ───────────────────────────────────────────────────────────────────────────────────────

/** Brute force: y_t = x_n for 1-based t ≥ n, IGNORE before. */
function keepNthProblem(n: number) {
  return (x: number[], y: number[]): string | null => {
    for (let t = 1; t <= x.length; t++) {
      const want = t >= n ? x[n - 1] : IGNORE;
      if (y[t - 1] !== want) return `t=${t}: target ${y[t - 1]}, expected ${want}`;
    }
    return null;
  };
}

describe('keepNth', () => {
  const sizes = [
    { n: 1, vocabSize: 2, T: 1 },
    { n: 1, vocabSize: 16, T: 10 },
    { n: 5, vocabSize: 128, T: 50 },
    { n: 20, vocabSize: 7, T: 20 },
    { n: 3, vocabSize: 3, T: 9 },
  ];

  it.each(sizes)('matches the brute-force definition at n=$n, |V|=$vocabSize, T=$T', ({ n, vocabSize, T }) => {
    const d = keepNth({ n, vocabSize, T, numSamples: 300, seed: 11 });
    expectShape(d, 300, T, vocabSize, vocabSize);
    expect(problems(d, keepNthProblem(n))).toEqual([]);
    expect(d.meta).toEqual({ task: 'keepNth', seed: 11, n, vocabSize, T, numSamples: 300 });
  });

  it('scores exactly T − n + 1 positions per sample', () => {
    const d = keepNth({ n: 5, vocabSize: 128, T: 50, numSamples: 10, seed: 3 });
    for (let s = 0; s < 10; s++) expect(sample(d.targets, s, 50).filter((y) => y !== IGNORE).length).toBe(46);
  });

  it('draws tokens (and hence targets) uniformly over the vocabulary', () => {
    const d = keepNth({ n: 5, vocabSize: 8, T: 50, numSamples: 4000, seed: 5 });
    expectNearUniform(histogram(d.inputs, 8), 0.03); // 25 000 per bin, σ ≈ 0.6 %
    const kept = Array.from({ length: 4000 }, (_, s) => d.targets[s * 50 + 49]);
    expectNearUniform(histogram(kept, 8), 0.15); // 500 per bin, σ ≈ 4 %
  });

  it('is deterministic in the seed, prefix-stable in numSamples, and pinned across machines', () => {
    const o = { n: 3, vocabSize: 10, T: 12, numSamples: 50, seed: 42 };
    const a = keepNth(o);
    const b = keepNth(o);
    expect(b.inputs).toEqual(a.inputs);
    expect(b.targets).toEqual(a.targets);
    const c = keepNth({ ...o, seed: 43 });
    expect(c.inputs).not.toEqual(a.inputs);
    const short = keepNth({ ...o, numSamples: 20 });
    expect(short.inputs).toEqual(a.inputs.subarray(0, 20 * 12));
    expect(short.targets).toEqual(a.targets.subarray(0, 20 * 12));
    expect(fingerprint(a)).toBe('2470837f');
  });

  it('rejects invalid options, naming the option', () => {
    const ok = { n: 5, vocabSize: 128, T: 50, numSamples: 10, seed: 0 };
    expectConfigError(() => keepNth({ ...ok, n: 60 }), /^options\.n:/, 'an integer in [1, T=50]', 'got 60');
    expectConfigError(() => keepNth({ ...ok, n: 0 }), /^options\.n:/);
    expectConfigError(() => keepNth({ ...ok, n: 2.5 }), /^options\.n:/);
    expectConfigError(() => keepNth({ ...ok, vocabSize: 1 }), /^options\.vocabSize:/);
    expectConfigError(() => keepNth({ ...ok, numSamples: 0 }), /^options\.numSamples:/);
    expectConfigError(() => keepNth({ ...ok, T: 0 }), /^options\.T:/);
    expectConfigError(() => keepNth({ ...ok, seed: -1 }), /^options\.seed:/);
    expectConfigError(() => keepNth({ ...ok, seed: 0.5 }), /^options\.seed:/);
    expectConfigError(() => keepNth({ ...ok, n: '5' as unknown as number }), /^options\.n:/, 'got "5"');
    expectConfigError(() => keepNth(null as unknown as typeof ok), /^options:/);
  });
});

// ── MQAR, paper layout ──────────────────────────────────────────────────────────────────────────────

/**
 * Brute force for the paper layout: the pair region holds each key 0…κ−1 once, each followed by a value id
 * in [κ, κ+|V|); the query region holds each key once (target = its value index) and value-id noise (IGNORE).
 */
function mqarPaperProblem(K: number, V: number) {
  return (x: number[], y: number[]): string | null => {
    const valueOf = new Map<number, number>();
    for (let i = 0; i < K; i++) {
      const [k, v] = [x[2 * i], x[2 * i + 1]];
      if (!(k >= 0 && k < K)) return `pair ${i}: key id ${k} outside [0, ${K})`;
      if (!(v >= K && v < K + V)) return `pair ${i}: value id ${v} outside [${K}, ${K + V})`;
      if (valueOf.has(k)) return `key ${k} appears twice in the pair region`;
      valueOf.set(k, v - K);
      if (y[2 * i] !== IGNORE || y[2 * i + 1] !== IGNORE) return `pair ${i} has a target`;
    }
    const queried = new Set<number>();
    for (let t = 2 * K; t < x.length; t++) {
      if (x[t] < K) {
        if (queried.has(x[t])) return `key ${x[t]} queried twice`;
        queried.add(x[t]);
        if (y[t] !== valueOf.get(x[t]))
          return `t=${t}: query ${x[t]} has target ${y[t]}, expected ${valueOf.get(x[t])}`;
      } else {
        if (x[t] >= K + V) return `t=${t}: noise id ${x[t]} outside the value ids`;
        if (y[t] !== IGNORE) return `t=${t}: noise has target ${y[t]}`;
      }
    }
    return queried.size === K ? null : `${queried.size} of ${K} keys queried`;
  };
}

describe('mqar (paper layout)', () => {
  const sizes = [
    { numKeys: 1, vocabSize: 2, T: 3 },
    { numKeys: 4, vocabSize: 128, T: 100 },
    { numKeys: 32, vocabSize: 128, T: 100 },
    { numKeys: 8, vocabSize: 5, T: 24 },
    { numKeys: 64, vocabSize: 512, T: 256 },
  ];

  it.each(sizes)(
    'matches the brute-force definition at κ=$numKeys, |V|=$vocabSize, T=$T',
    ({ numKeys, vocabSize, T }) => {
      const d = mqar({ numKeys, vocabSize, T, numSamples: 200, seed: 7 });
      expectShape(d, 200, T, numKeys + vocabSize, vocabSize);
      expect(problems(d, mqarPaperProblem(numKeys, vocabSize))).toEqual([]);
      expect(d.meta).toEqual({ task: 'mqar', mode: 'paper', seed: 7, numKeys, vocabSize, T, numSamples: 200 });
    },
  );

  it('has exactly κ scored positions per sample, all in the query region', () => {
    const d = mqar({ numKeys: 16, vocabSize: 64, T: 100, numSamples: 50, seed: 1 });
    for (let s = 0; s < 50; s++) {
      const y = sample(d.targets, s, 100);
      expect(y.slice(0, 32).every((v) => v === IGNORE)).toBe(true);
      expect(y.filter((v) => v !== IGNORE).length).toBe(16);
    }
  });

  it('spreads keys, values, noise and query positions uniformly', () => {
    const K = 4;
    const V = 6;
    const T = 20;
    const S = 6000;
    const d = mqar({ numKeys: K, vocabSize: V, T, numSamples: S, seed: 9 });
    const firstKey: number[] = [];
    const values: number[] = [];
    const noise: number[] = [];
    const firstQuery: number[] = [];
    const queryAt = new Array<number>(T - 2 * K).fill(0);
    for (let s = 0; s < S; s++) {
      const x = sample(d.inputs, s, T);
      firstKey.push(x[0]);
      for (let i = 0; i < K; i++) values.push(x[2 * i + 1] - K);
      const q = x.slice(2 * K);
      firstQuery.push(q.find((v) => v < K)!);
      q.forEach((v, i) => (v < K ? queryAt[i]++ : noise.push(v - K)));
    }
    expectNearUniform(histogram(firstKey, K), 0.1); // 1500 per bin
    expectNearUniform(histogram(firstQuery, K), 0.1);
    expectNearUniform(histogram(values, V), 0.05); // 4000 per bin
    expectNearUniform(histogram(noise, V), 0.05); // 8000 per bin
    expectNearUniform(queryAt, 0.1); // each of 12 slots holds a query with p = 1/3: 2000 per slot
  });

  it('is deterministic in the seed, prefix-stable in numSamples, and pinned across machines', () => {
    const o = { numKeys: 8, vocabSize: 16, T: 40, numSamples: 30, seed: 123 };
    const a = mqar(o);
    expect(mqar(o).inputs).toEqual(a.inputs);
    expect(mqar(o).targets).toEqual(a.targets);
    expect(mqar({ ...o, seed: 124 }).inputs).not.toEqual(a.inputs);
    expect(mqar({ ...o, numSamples: 10 }).inputs).toEqual(a.inputs.subarray(0, 400));
    expect(fingerprint(a)).toBe('bf4159d6');
  });

  it('rejects invalid options, naming the option', () => {
    const ok = { numKeys: 32, vocabSize: 128, T: 100, numSamples: 10, seed: 0 };
    expectConfigError(() => mqar({ ...ok, numKeys: 0 }), /^options\.numKeys:/);
    expectConfigError(() => mqar({ ...ok, numKeys: 1.5 }), /^options\.numKeys:/);
    expectConfigError(() => mqar({ ...ok, T: 95 }), /^options\.T:/, '3·numKeys = 96', 'got 95');
    expectConfigError(() => mqar({ ...ok, vocabSize: 1 }), /^options\.vocabSize:/);
    expectConfigError(() => mqar({ ...ok, numSamples: -3 }), /^options\.numSamples:/);
    expectConfigError(() => mqar({ ...ok, seed: 2 ** 32 }), /^options\.seed:/);
    expectConfigError(() => mqar({ ...ok, mode: 'arora' as 'paper' }), /^options\.mode:/);
    expectConfigError(() => mqar({ ...ok, powerA: 0.5 }), /^options\.powerA:/, "mode 'zoology' option");
    expectConfigError(() => mqar({ ...ok, numPasses: 2 }), /^options\.numPasses:/);
  });
});

// ── MQAR, zoology layout ────────────────────────────────────────────────────────────────────────────

interface ZooCase {
  numKeys: number;
  vocabSize: number;
  T: number;
  numPasses: number;
  randomNonQueries: boolean;
}

/**
 * Brute force for zoology's multiquery_ar: κ distinct keys from [1, ⌊V/2⌋) and κ distinct values from
 * [⌊V/2⌋, V) in pairs (repeated numPasses times); each key queried once at an even offset of the query region,
 * with the label (its value) on the query; fillers 0, or any id with randomNonQueries.
 */
function zoologyProblem({ numKeys: K, vocabSize: V, numPasses: P, randomNonQueries }: ZooCase) {
  const half = Math.floor(V / 2);
  const context = 2 * K * P;
  return (x: number[], y: number[]): string | null => {
    const valueOf = new Map<number, number>();
    const seenValues = new Set<number>();
    for (let i = 0; i < K; i++) {
      const [k, v] = [x[2 * i], x[2 * i + 1]];
      if (!(k >= 1 && k < half)) return `pair ${i}: key id ${k} outside [1, ${half})`;
      if (!(v >= half && v < V)) return `pair ${i}: value id ${v} outside [${half}, ${V})`;
      if (valueOf.has(k) || seenValues.has(v)) return `pair ${i}: repeated key or value`;
      valueOf.set(k, v);
      seenValues.add(v);
    }
    for (let t = 2 * K; t < context; t++) if (x[t] !== x[t % (2 * K)]) return `t=${t}: pass does not repeat the pairs`;
    for (let t = 0; t < context; t++) if (y[t] !== IGNORE) return `t=${t}: target in the pair region`;
    const queried = new Set<number>();
    for (let t = context; t < x.length; t++) {
      if (y[t] !== IGNORE) {
        if ((t - context) % 2 !== 0) return `t=${t}: query at an odd offset`;
        if (!valueOf.has(x[t]) || queried.has(x[t])) return `t=${t}: query ${x[t]} is not a fresh key`;
        queried.add(x[t]);
        if (y[t] !== valueOf.get(x[t])) return `t=${t}: label ${y[t]}, expected ${valueOf.get(x[t])}`;
      } else if (randomNonQueries ? !(x[t] >= 0 && x[t] < V) : x[t] !== 0) {
        return `t=${t}: filler ${x[t]}`;
      }
    }
    return queried.size === K ? null : `${queried.size} of ${K} keys queried`;
  };
}

/** Query gap slots g (query at context + 2g) of each key, in pair order. */
function gapsOf(d: TaskData, s: number, K: number, P: number): number[] {
  const x = sample(d.inputs, s, d.T);
  const y = sample(d.targets, s, d.T);
  const context = 2 * K * P;
  return Array.from(
    { length: K },
    (_, i) => (x.findIndex((v, t) => t >= context && y[t] !== IGNORE && v === x[2 * i]) - context) / 2,
  );
}

describe('mqar (zoology layout)', () => {
  const cases: ZooCase[] = [
    { numKeys: 1, vocabSize: 8, T: 4, numPasses: 1, randomNonQueries: true },
    { numKeys: 2, vocabSize: 20, T: 16, numPasses: 1, randomNonQueries: false },
    { numKeys: 8, vocabSize: 8192, T: 64, numPasses: 1, randomNonQueries: true },
    { numKeys: 16, vocabSize: 100, T: 98, numPasses: 2, randomNonQueries: false },
    { numKeys: 64, vocabSize: 8192, T: 256, numPasses: 1, randomNonQueries: true },
    { numKeys: 31, vocabSize: 130, T: 128, numPasses: 1, randomNonQueries: true },
  ];

  it.each(cases)(
    'matches the brute-force definition at κ=$numKeys, V=$vocabSize, T=$T, passes=$numPasses, random=$randomNonQueries',
    (c) => {
      const d = mqar({ mode: 'zoology', numSamples: 200, seed: 4, ...c });
      expectShape(d, 200, c.T, c.vocabSize, c.vocabSize);
      expect(problems(d, zoologyProblem(c))).toEqual([]);
      expect(d.meta).toEqual({ task: 'mqar', mode: 'zoology', seed: 4, numSamples: 200, powerA: 0.01, ...c });
    },
  );

  it('defaults to powerA = 0.01, random fillers and one pass, as zoology does', () => {
    const d = mqar({ mode: 'zoology', numKeys: 4, vocabSize: 64, T: 32, numSamples: 5, seed: 0 });
    expect(d.meta).toMatchObject({ powerA: 0.01, randomNonQueries: true, numPasses: 1 });
  });

  it('draws query gaps from the power law P(g) ∝ (g+1)^(a−1), without replacement', () => {
    const S = 20000;
    const space = 10;
    for (const powerA of [0.3, 1]) {
      // κ = 1: the single gap has exactly the power-law marginal.
      const d = mqar({ mode: 'zoology', numKeys: 1, vocabSize: 64, T: 2 + 2 * space, numSamples: S, seed: 21, powerA });
      const w = Array.from({ length: space }, (_, g) => (g + 1) ** (powerA - 1));
      const z = w.reduce((a, b) => a + b, 0);
      const h = histogram(
        Array.from({ length: S }, (_, s) => gapsOf(d, s, 1, 1)[0]),
        space,
      );
      h.forEach((c, g) => {
        const p = w[g] / z;
        expect(Math.abs(c / S - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / S));
      });
    }
    // κ = 3: the first key's gap is the first weighted draw; the three gaps are always distinct.
    const d3 = mqar({
      mode: 'zoology',
      numKeys: 3,
      vocabSize: 64,
      T: 6 + 2 * space,
      numSamples: S,
      seed: 22,
      powerA: 0.3,
    });
    const w = Array.from({ length: space }, (_, g) => (g + 1) ** (0.3 - 1));
    const z = w.reduce((a, b) => a + b, 0);
    const gaps = Array.from({ length: S }, (_, s) => gapsOf(d3, s, 3, 1));
    expect(gaps.filter((g) => new Set(g).size !== 3).length).toBe(0);
    histogram(
      gaps.map((g) => g[0]),
      space,
    ).forEach((c, g) => {
      const p = w[g] / z;
      expect(Math.abs(c / S - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / S));
    });
    // second draw: P(g₂ = g) = Σ_{g₁ ≠ g} P(g₁) · w_g / (Z − w_{g₁})
    histogram(
      gaps.map((g) => g[1]),
      space,
    ).forEach((c, g) => {
      const p = w.reduce((acc, w1, g1) => (g1 === g ? acc : acc + (w1 / z) * (w[g] / (z - w1))), 0);
      expect(Math.abs(c / S - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / S));
    });
  });

  it('favours short query gaps with the default powerA = 0.01', () => {
    const d = mqar({ mode: 'zoology', numKeys: 1, vocabSize: 128, T: 66, numSamples: 5000, seed: 2 });
    const mean = Array.from({ length: 5000 }, (_, s) => gapsOf(d, s, 1, 1)[0]).reduce((a, b) => a + b, 0) / 5000;
    // uniform over 32 slots would give 15.5; ∝ (g+1)^−0.99 gives ≈ 7.3
    expect(mean).toBeGreaterThan(6);
    expect(mean).toBeLessThan(8.5);
  });

  it('fills non-query positions uniformly over the whole vocabulary with randomNonQueries', () => {
    const d = mqar({ mode: 'zoology', numKeys: 2, vocabSize: 24, T: 20, numSamples: 3000, seed: 8 });
    const fillers: number[] = [];
    for (let s = 0; s < 3000; s++) {
      for (let t = 4; t < 20; t++) if (d.targets[s * 20 + t] === IGNORE) fillers.push(d.inputs[s * 20 + t]);
    }
    expect(fillers.length).toBe(3000 * 14);
    expectNearUniform(histogram(fillers, 24), 0.1); // 1750 per bin
  });

  it('is deterministic in the seed and pinned across machines', () => {
    const o = { mode: 'zoology' as const, numKeys: 4, vocabSize: 64, T: 32, numSamples: 30, seed: 5 };
    const a = mqar(o);
    expect(mqar(o).inputs).toEqual(a.inputs);
    expect(mqar(o).targets).toEqual(a.targets);
    expect(mqar({ ...o, seed: 6 }).inputs).not.toEqual(a.inputs);
    expect(mqar({ ...o, numSamples: 7 }).targets).toEqual(a.targets.subarray(0, 7 * 32));
    expect(fingerprint(a)).toBe('70d4ea6b');
  });

  it('rejects invalid options as zoology asserts, naming the option', () => {
    const ok = { mode: 'zoology' as const, numKeys: 8, vocabSize: 128, T: 64, numSamples: 10, seed: 0 };
    expectConfigError(() => mqar({ ...ok, numKeys: 200 }), /^options\.numKeys:/, '⌊vocabSize/2⌋ − 1 = 63');
    expectConfigError(() => mqar({ ...ok, numKeys: 64 }), /^options\.numKeys:/);
    expectConfigError(() => mqar({ ...ok, T: 63 }), /^options\.T:/, 'even');
    expectConfigError(() => mqar({ ...ok, T: 30 }), /^options\.T:/, '= 32');
    expectConfigError(() => mqar({ ...ok, numPasses: 4 }), /^options\.T:/, '= 80');
    expectConfigError(() => mqar({ ...ok, vocabSize: 64 }), /^options\.vocabSize:/, 'T=64');
    expectConfigError(() => mqar({ ...ok, powerA: 0 }), /^options\.powerA:/);
    expectConfigError(() => mqar({ ...ok, powerA: Number.NaN }), /^options\.powerA:/);
    expectConfigError(() => mqar({ ...ok, numPasses: 0 }), /^options\.numPasses:/);
    expectConfigError(() => mqar({ ...ok, randomNonQueries: 1 as unknown as boolean }), /^options\.randomNonQueries:/);
  });
});

// ── INDUCTION HEADS ─────────────────────────────────────────────────────────────────────────────────

/** Brute force: scan back for the latest previous occurrence of x_t; the next token, else `blank`. */
function inductionTargets(x: number[], blank: number): number[] {
  return x.map((xt, t) => {
    for (let j = t - 1; j >= 0; j--) if (x[j] === xt) return x[j + 1];
    return blank;
  });
}

function inductionProblem(blank: number) {
  return (x: number[], y: number[]): string | null => {
    const want = inductionTargets(x, blank);
    const t = want.findIndex((w, i) => w !== y[i]);
    return t < 0 ? null : `t=${t}: target ${y[t]}, expected ${want[t]}`;
  };
}

/**
 * The hard-setting signature read off the tokens alone: some token occurs exactly twice, at 1-based
 * positions r and T − r with 1 ≤ r ≤ rMax. Returns r, or 0 when there is no such token.
 */
function hardSignature(x: number[], rMax: number): number {
  const T = x.length;
  const pos = new Map<number, number[]>();
  x.forEach((v, t) => pos.set(v, [...(pos.get(v) ?? []), t + 1]));
  for (const p of pos.values()) {
    if (p.length === 2 && p[0] >= 1 && p[0] <= rMax && p[1] === T - p[0]) return p[0];
  }
  return 0;
}

describe('inductionHeads', () => {
  it('the brute-force checker reproduces the paper example (App. C.2)', () => {
    const X = -1; // ×
    expect(inductionTargets([2, 1, 3, 2, 4, 3, 2, 4], X)).toEqual([X, X, X, 1, X, 2, 4, 3]);
  });

  const sizes = [
    { vocabSize: 2, T: 6 },
    { vocabSize: 5, T: 100 },
    { vocabSize: 10, T: 100 },
    { vocabSize: 40, T: 100 },
    { vocabSize: 3, T: 30 },
  ];

  it.each(sizes)('standard setting matches the brute-force definition at |V|=$vocabSize, T=$T', ({ vocabSize, T }) => {
    const d = inductionHeads({ vocabSize, T, numSamples: 300, seed: 13 });
    expectShape(d, 300, T, vocabSize, vocabSize + 1);
    expect(problems(d, inductionProblem(vocabSize))).toEqual([]);
    expect(d.targets.every((y) => y !== IGNORE)).toBe(true);
    expect(Array.from(d.hard).every((h) => h === 0)).toBe(true);
    expect(d.meta).toEqual({ task: 'inductionHeads', seed: 13, vocabSize, T, numSamples: 300, setting: 'standard' });
  });

  it.each(sizes.filter((s) => s.T >= 10))(
    'hard setting matches the brute-force definition at |V|=$vocabSize, T=$T',
    ({ vocabSize, T }) => {
      const d = inductionHeads({ vocabSize, T, numSamples: 300, seed: 14, setting: 'hard' });
      expectShape(d, 300, T, vocabSize, vocabSize + 1);
      expect(problems(d, inductionProblem(vocabSize))).toEqual([]);
      const rMax = Math.floor(0.1 * T);
      const badHard = Array.from(d.hard).filter((h, s) => h === 1 && hardSignature(sample(d.inputs, s, T), rMax) === 0);
      expect(badHard.length).toBe(0);
      expect(d.meta).toEqual({
        task: 'inductionHeads',
        seed: 14,
        vocabSize,
        T,
        numSamples: 300,
        setting: 'hard',
        p: 0.75,
        gamma: 0.1,
      });
    },
  );

  it('standard tokens are uniform over V', () => {
    const d = inductionHeads({ vocabSize: 10, T: 100, numSamples: 1000, seed: 3 });
    expectNearUniform(histogram(d.inputs, 10), 0.03); // 10 000 per bin, σ = 1 %
  });

  it('hard samples occur with probability p, with r uniform in 1…⌊γT⌋ and v* uniform in V', () => {
    const V = 5;
    const T = 100;
    const S = 4000;
    const d = inductionHeads({ vocabSize: V, T, numSamples: S, seed: 17, setting: 'hard', p: 0.75, gamma: 0.1 });
    const rs: number[] = [];
    const specials: number[] = [];
    let mismatched = 0;
    for (let s = 0; s < S; s++) {
      const x = sample(d.inputs, s, T);
      const r = hardSignature(x, 10); // with |V| = 5 and T = 100 a standard sample has this signature w.p. ~1e-7
      if ((r > 0 ? 1 : 0) !== d.hard[s]) mismatched++;
      if (r > 0) {
        rs.push(r - 1);
        specials.push(x[r - 1]);
      }
    }
    expect(mismatched).toBe(0);
    expect(Math.abs(rs.length / S - 0.75)).toBeLessThan(0.03); // σ ≈ 0.007
    expectNearUniform(histogram(rs, 10), 0.2); // 300 per bin, σ ≈ 6 %
    expectNearUniform(histogram(specials, V), 0.15); // 600 per bin, σ ≈ 4 %
  });

  it('p = 0 gives only standard samples, p = 1 only hard ones; γ bounds r', () => {
    const none = inductionHeads({ vocabSize: 5, T: 100, numSamples: 200, seed: 1, setting: 'hard', p: 0 });
    expect(Array.from(none.hard).filter((h) => h === 1).length).toBe(0);
    const all = inductionHeads({ vocabSize: 5, T: 100, numSamples: 500, seed: 1, setting: 'hard', p: 1, gamma: 0.03 });
    expect(Array.from(all.hard).filter((h) => h === 0).length).toBe(0);
    const rs = new Set(Array.from({ length: 500 }, (_, s) => hardSignature(sample(all.inputs, s, 100), 100)));
    expect([...rs].sort()).toEqual([1, 2, 3]);
  });

  it('is deterministic in the seed, prefix-stable in numSamples, and pinned across machines', () => {
    const o = { vocabSize: 6, T: 30, numSamples: 40, seed: 99, setting: 'hard' as const, p: 0.5 };
    const a = inductionHeads(o);
    const b = inductionHeads(o);
    expect(b.inputs).toEqual(a.inputs);
    expect(b.targets).toEqual(a.targets);
    expect(b.hard).toEqual(a.hard);
    expect(inductionHeads({ ...o, seed: 98 }).inputs).not.toEqual(a.inputs);
    expect(inductionHeads({ ...o, numSamples: 15 }).inputs).toEqual(a.inputs.subarray(0, 15 * 30));
    expect(fingerprint(a)).toBe('8ce9791d');
    expect(fingerprint(inductionHeads({ vocabSize: 6, T: 30, numSamples: 40, seed: 99 }))).toBe('cccd4798');
  });

  it('rejects invalid options, naming the option', () => {
    const ok = { vocabSize: 10, T: 100, numSamples: 10, seed: 0 };
    expectConfigError(() => inductionHeads({ ...ok, T: 21 }), /^options\.T:/, '2·vocabSize + 1 = 21', 'got 21');
    expectConfigError(() => inductionHeads({ ...ok, vocabSize: 1 }), /^options\.vocabSize:/);
    expectConfigError(() => inductionHeads({ ...ok, numSamples: 0 }), /^options\.numSamples:/);
    expectConfigError(() => inductionHeads({ ...ok, seed: Number.NaN }), /^options\.seed:/);
    expectConfigError(() => inductionHeads({ ...ok, setting: 'medium' as 'hard' }), /^options\.setting:/);
    expectConfigError(() => inductionHeads({ ...ok, setting: 'hard', p: 1.5 }), /^options\.p:/);
    expectConfigError(() => inductionHeads({ ...ok, setting: 'hard', gamma: 0.2 }), /^options\.gamma:/, '(0, 0.1]');
    expectConfigError(() => inductionHeads({ ...ok, setting: 'hard', gamma: 0 }), /^options\.gamma:/);
    expectConfigError(
      () => inductionHeads({ vocabSize: 2, T: 6, numSamples: 1, seed: 0, setting: 'hard' }),
      /^options\.gamma:/,
      'γ·T ≥ 1',
    );
    expectConfigError(() => inductionHeads({ ...ok, p: 0.5 }), /^options\.p:/, "setting 'hard'");
    expectConfigError(() => inductionHeads({ ...ok, gamma: 0.1 }), /^options\.gamma:/);
  });
});

describe('rows() on generated data', () => {
  it('returns the requested rows as nested arrays, clipped at numSamples', () => {
    const d = keepNth({ n: 2, vocabSize: 4, T: 5, numSamples: 3, seed: 0 });
    const r = rows(d, 1, 5);
    expect(r.inputs).toEqual([sample(d.inputs, 1, 5), sample(d.inputs, 2, 5)]);
    expect(r.targets).toEqual([sample(d.targets, 1, 5), sample(d.targets, 2, 5)]);
  });
});
