/**
 * Brute-force scoring shared by the construction tests (`constructions.test.ts`, at 10³ instances) and the
 * reproductions (`constructions.repro.test.ts`, at 10⁴): the answers come straight from the task definitions.
 */
import { expect } from 'vitest';
import {
  type Construction,
  type MqarConstructionOptions,
  inductionHeadsConstruction,
  keepNthConstruction,
  mqarConstruction,
} from '../src/constructions/index.js';
import { inductionHeads, keepNth, mqar } from '../src/tasks/index.js';

// ── brute-force answers, straight from the task definitions ──────────────────────────────────────

/** MQAR (46)–(47): at a key in the query region, the value index that followed it in the pair region. */
export function mqarExpected(x: ArrayLike<number>, K: number): Map<number, number> {
  const out = new Map<number, number>();
  for (let t = 2 * K; t < x.length; t++) {
    if (x[t] >= K) continue;
    let found = -1;
    for (let s = 0; s < 2 * K; s++) if (x[s] === x[t]) found = x[s + 1] - K;
    out.set(t, found);
  }
  return out;
}

/** INDUCTION HEADS: the token after the latest earlier occurrence of x_t, or −1. */
export function ihExpected(x: ArrayLike<number>): number[] {
  return Array.from(x, (v, t) => {
    for (let j = t - 1; j >= 0; j--) if (x[j] === v) return x[j + 1];
    return -1;
  });
}

export interface Tally {
  checked: number;
  wrong: number;
  example?: string;
}

/**
 * Run `c` on inputs [S, T] and compare each scored position with `expected`. Chunks of 500 instances,
 * yielding to the event loop between them so that vitest's worker stays responsive in long tests.
 */
export async function tally(
  c: Construction,
  inputs: Int32Array,
  S: number,
  T: number,
  expected: (x: Int32Array) => Map<number, number>,
): Promise<Tally> {
  const r: Tally = { checked: 0, wrong: 0 };
  for (let s0 = 0; s0 < S; s0 += 500) {
    const b = Math.min(500, S - s0);
    const wanted = Array.from({ length: b }, (_, i) => expected(inputs.subarray((s0 + i) * T, (s0 + i + 1) * T)));
    const readAt = new Uint8Array(b * T); // decode only the scored positions (the others come back NaN)
    wanted.forEach((m, i) => m.forEach((_, t) => (readAt[i * T + t] = 1)));
    const pred = c.predictFlat(inputs.subarray(s0 * T, (s0 + b) * T), b, T, readAt);
    for (let s = s0; s < s0 + b; s++) {
      for (const [t, want] of wanted[s - s0]) {
        r.checked++;
        const got = pred[(s - s0) * T + t];
        if (got !== want) {
          r.wrong++;
          r.example ??= `instance ${s}, t=${t}: expected ${want}, got ${got}`;
        }
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return r;
}

export function expectPerfect(r: Tally, minChecked: number) {
  expect(r.example, 'first wrong answer').toBeUndefined();
  expect(r.wrong).toBe(0);
  expect(r.checked).toBeGreaterThanOrEqual(minChecked);
}

/** Score an MQAR construction on S instances of tasks.mqar; also counts queries right after a key (the edge case (64)). */
export async function mqarTally(
  c: Construction,
  K: number,
  V: number,
  T: number,
  S: number,
  seed: number,
): Promise<Tally & { keyKeyQueries: number }> {
  const data = mqar({ numKeys: K, vocabSize: V, T, numSamples: S, seed });
  let keyKeyQueries = 0;
  for (let s = 0; s < S; s++)
    for (let t = 2 * K + 1; t < T; t++)
      if (data.inputs[s * T + t] < K && data.inputs[s * T + t - 1] < K) keyKeyQueries++;
  return { ...(await tally(c, data.inputs, S, T, (x) => mqarExpected(x, K))), keyKeyQueries };
}

export function withConstruction<R>(c: Construction, f: (c: Construction) => R): R {
  try {
    return f(c);
  } finally {
    c.dispose();
  }
}

export async function withConstructionAsync<R>(c: Construction, f: (c: Construction) => Promise<R>): Promise<R> {
  try {
    return await f(c);
  } finally {
    c.dispose();
  }
}

/** Cor. 2: score the KEEP n-TH construction on S instances (x_n expected at every t ≥ n). */
export const keepTally = (n: number, V: number, T: number, S: number, seed: number) =>
  withConstructionAsync(keepNthConstruction({ n, vocabSize: V, T }), async (c) => {
    expect(c.config.conv).toBe(false);
    expect(c.config.gate).toBe(false);
    expect(c.config.mixer).toBe('s6');
    const data = keepNth({ n, vocabSize: V, T, numSamples: S, seed });
    return tally(
      c,
      data.inputs,
      S,
      T,
      (x) => new Map(Array.from({ length: T - n + 1 }, (_, i) => [n - 1 + i, x[n - 1]])),
    );
  });

/** Lem. 3: score the induction-heads construction on S instances. */
export const ihTally = (V: number, T: number, S: number, setting: 'standard' | 'hard', seed: number) =>
  withConstructionAsync(inductionHeadsConstruction({ vocabSize: V }), async (c) => {
    expect([c.dims.d, c.dims.N]).toEqual([2 * V, V]);
    const data = inductionHeads({ vocabSize: V, T, numSamples: S, seed, setting });
    if (setting === 'hard') expect(data.hard.reduce((a, b) => a + b, 0)).toBeGreaterThan(S / 2);
    return tally(c, data.inputs, S, T, (x) => new Map(ihExpected(x).map((y, t) => [t, y])));
  });

/** Score MQAR case `opts` on S instances of length T: 100% of the queries, and the key-after-key edge case met. */
export async function expectMqarPerfect(opts: MqarConstructionOptions, T: number, S: number): Promise<void> {
  await withConstructionAsync(mqarConstruction(opts), async (c) => {
    if (opts.embedding === 'jl' && opts.mixer !== 'mamba2') expect(c.dims.jl!.values!.maxInner).toBeLessThan(1 - 1e-6); // distinct value codes
    const r = await mqarTally(c, opts.numKeys, opts.vocabSize, T, S, 100 + T);
    expectPerfect(r, S * opts.numKeys);
    if (T <= 4 * opts.numKeys) expect(r.keyKeyQueries).toBeGreaterThan(0); // the edge case is exercised
  });
}

export type Case = [label: string, opts: MqarConstructionOptions, T: number, S: number];

/** Every mixer × embedding at two small sizes, with the instance count of the reproductions (the quick tests take 10³). */
export const SMALL: Case[] = [
  ['Thm. 2 one-hot κ=4 |V|=16', { mixer: 'mamba', numKeys: 4, vocabSize: 16 }, 16, 10_000],
  ['Thm. 2 one-hot κ=8 |V|=32', { mixer: 'mamba', numKeys: 8, vocabSize: 32 }, 28, 10_000],
  ['Thm. 2 JL (Lem. 4 p) κ=4 |V|=16', { mixer: 'mamba', numKeys: 4, vocabSize: 16, embedding: 'jl' }, 16, 10_000],
  [
    'Thm. 2 JL p=24 κ=8 |V|=128',
    { mixer: 'mamba', numKeys: 8, vocabSize: 128, embedding: 'jl', jlDim: 24 },
    28,
    10_000,
  ],
  ['Thm. 3 one-hot κ=4 |V|=16', { mixer: 'mamba2', numKeys: 4, vocabSize: 16 }, 16, 10_000],
  ['Thm. 3 one-hot κ=8 |V|=32', { mixer: 'mamba2', numKeys: 8, vocabSize: 32 }, 28, 10_000],
  [
    'Thm. 3 JL p_k=32 p_v=24 κ=4 |V|=16',
    { mixer: 'mamba2', numKeys: 4, vocabSize: 16, embedding: 'jl', jlDim: { keys: 32, values: 24 } },
    12,
    10_000,
  ],
  ['Thm. 4 one-hot κ=4 |V|=16', { mixer: 's4d', numKeys: 4, vocabSize: 16 }, 16, 10_000],
  ['Thm. 4 JL p=8 κ=4 |V|=16', { mixer: 's4d', numKeys: 4, vocabSize: 16, embedding: 'jl', jlDim: 8 }, 16, 10_000],
  ['Thm. 4 JL p=24 κ=8 |V|=128', { mixer: 's4d', numKeys: 8, vocabSize: 128, embedding: 'jl', jlDim: 24 }, 28, 10_000],
];

/** Larger sizes: every theorem at 10⁴ instances up to κ = 16, Thm. 2 and Thm. 3 up to κ = 64, |V| = 512, T = 256. */
export const LARGER: Case[] = [
  ['Thm. 2 one-hot κ=16 |V|=128', { mixer: 'mamba', numKeys: 16, vocabSize: 128 }, 64, 10_000],
  [
    'Thm. 2 JL p=24 κ=64 |V|=512',
    { mixer: 'mamba', numKeys: 64, vocabSize: 512, embedding: 'jl', jlDim: 24 },
    256,
    10_000,
  ],
  ['Thm. 3 one-hot κ=16 |V|=128', { mixer: 'mamba2', numKeys: 16, vocabSize: 128 }, 64, 10_000],
  ['Thm. 3 one-hot κ=64 |V|=512', { mixer: 'mamba2', numKeys: 64, vocabSize: 512 }, 256, 10_000],
  [
    'Thm. 4 JL p=24 κ=16 |V|=128',
    { mixer: 's4d', numKeys: 16, vocabSize: 128, embedding: 'jl', jlDim: 24 },
    64,
    10_000,
  ],
];

/** Long sequences: T = 2048, one-hot, every mixer. */
export const LONG: Case[] = (['mamba', 'mamba2', 's4d'] as const).map((mixer) => [
  `${mixer} one-hot κ=4 |V|=16 T=2048`,
  { mixer, numKeys: 4, vocabSize: 16 },
  2048,
  64,
]);
