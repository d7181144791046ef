/**
 * The analytic constructions at the sizes the paper states, on 10⁴ random instances each, against brute-force
 * answers (constructionScoring.ts): Cor. 2, every Thm. 2–4 mixer × embedding, Thm. 2 and 3 up to κ = 64,
 * |V| = 512, T = 256, Thm. 4 up to κ = 16, and Lem. 3 up to |V| = 40, T = 100 in the hard setting.
 * Minutes on 2 cores: `npm run test:repro`.
 */
import { beforeAll, describe, it } from 'vitest';
import { ready } from '../src/index.js';
import { LARGER, SMALL, expectMqarPerfect, expectPerfect, ihTally, keepTally } from './constructionScoring.js';

beforeAll(async () => {
  await ready();
});

describe('Cor. 2 — KEEP n-TH, 10⁴ instances', () => {
  it('n = 5, |V| = 16, T = 64: x_n at every t ≥ n', async () => {
    expectPerfect(await keepTally(5, 16, 64, 10_000, 11), 10_000 * 60);
  });
  it('n = 1 and n = T, |V| = 128, T = 12', async () => {
    expectPerfect(await keepTally(1, 128, 12, 10_000, 12), 10_000 * 12);
    expectPerfect(await keepTally(12, 128, 12, 10_000, 13), 10_000);
  });
});

describe('Thm. 2–4 — MQAR, 10⁴ instances: 100% against brute force', () => {
  for (const [label, opts, T, S] of [...SMALL, ...LARGER]) {
    // κ = 64, T = 256: Thm. 2 ~11 s, Thm. 3 (d = 576) ~55 s, Thm. 4 JL at κ = 16 ~100 s on a busy 2-core machine
    it(`${label}, T=${T}: ${S} instances`, () => expectMqarPerfect(opts, T, S), 400_000);
  }
});

describe('Lem. 3 — INDUCTION HEADS with Mamba-Δ⊤, 10⁴ instances', () => {
  it('|V| = 5, T = 100, standard', async () => expectPerfect(await ihTally(5, 100, 10_000, 'standard', 21), 1e6));
  it('|V| = 5, T = 100, hard setting', async () => expectPerfect(await ihTally(5, 100, 10_000, 'hard', 22), 1e6));
  it('|V| = 20, T = 100, hard setting', async () => expectPerfect(await ihTally(20, 100, 10_000, 'hard', 23), 1e6));
  it(
    '|V| = 40, T = 100, hard setting',
    async () => expectPerfect(await ihTally(40, 100, 10_000, 'hard', 24), 1e6),
    300_000,
  );
});
