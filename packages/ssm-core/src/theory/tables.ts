/**
 * The two rate tables of the `theory` script as plain rows (plots and notebooks read the same
 * data; the CLI only formats it): Cor. 1 approximation rates and Lem. 1 / Eq. 45 sensitivity rates.
 *
 * Notation: see corollary1.ts (m, N, error², rates) and sensitivity.ts / attention.ts (λ_n, Δ, t − j).
 */
import { attentionSensitivity, type AttentionSensitivity } from './attention.js';
import { corollary1, s6HaarDictionary, type Corollary1Result } from './corollary1.js';
import { sensitivityProfile, type SensitivityProfile, type SsmMixer } from './sensitivity.js';
import { int } from '../validate.js';

/** One row of the Cor. 1 rate table (one m). */
export interface Corollary1Row {
  /** Number of discontinuities. */
  m: number;
  /** Fitted / predicted rate per Mamba basis of log₂ error² (predicted 1/(3m)). */
  mambaRate: number;
  /** See `mambaRate`. */
  mambaPredicted: number;
  /** The same per wavelet (×3; predicted 1/m). */
  haarRatePerWavelet: number;
  /** Fitted / predicted exponent of error² in N for Fourier/S4D (predicted −1). */
  fourierExponent: number;
  /** See `fourierExponent`. */
  fourierPredicted: number;
  /** Fitted rate per basis for each S6-layer realisation. */
  s6Rates: number[];
  /** error² at N = NMax (geometric mean over targets): Mamba, Fourier, each S6. */
  error2AtNMax: { N: number; mamba: number; fourier: number; s6: number[] };
}

/** The Cor. 1 rate table with the full results it was made from. */
export interface Corollary1Table {
  /** One row per m. */
  rows: Corollary1Row[];
  /** The S6-layer realisations (L cells, w_Δ), one rate column each. */
  s6: { L: number; wDelta: number }[];
  /** Largest N reached by the Mamba curve (1 + 3n ≤ NMax). */
  NMax: number;
  /** Fits use N ≥ fitFrom. */
  fitFrom: number;
  /** Random targets averaged per m. */
  targets: number;
  /** One {@link corollary1} result per row. */
  results: Corollary1Result[];
}

/** Options of {@link corollary1Table}; `NMax`, `targets`, `seed`, `fitFrom` as in Corollary1Options. */
export interface Corollary1TableOptions {
  /** Numbers of discontinuities, each in [1, 64] (default [1, 2, 4]). */
  ms?: number[];
  /** Largest number of basis functions (default 64). */
  NMax?: number;
  /** Random targets averaged (default 16). */
  targets?: number;
  /** Seed of the random targets (default 0). */
  seed?: number;
  /** Fit over N ≥ fitFrom (default 16). */
  fitFrom?: number;
  /** S6-layer realisations (default L = 1024 with w_Δ = −1e4 and −1e8). */
  s6?: { L: number; wDelta: number }[];
}

/**
 * Cor. 1 for each m (the `theory` script's first table), with the S6 dictionaries built once and shared across m.
 * @throws ConfigError naming `options.ms[i]` or the corollary1 option at fault.
 */
export function corollary1Table(opts: Corollary1TableOptions = {}): Corollary1Table {
  const ms = opts.ms ?? [1, 2, 4];
  ms.forEach((m, i) => int(m, `options.ms[${i}]`, 1, 64));
  const cfgs = opts.s6 ?? [
    { L: 1024, wDelta: -1e4 },
    { L: 1024, wDelta: -1e8 },
  ];
  const dicts = cfgs.map((c) => s6HaarDictionary(c.L, c.wDelta));
  const results = ms.map((m) =>
    corollary1(m, { NMax: opts.NMax, targets: opts.targets, seed: opts.seed, fitFrom: opts.fitFrom, s6: dicts }),
  );
  const rows = results.map((r) => ({
    m: r.m,
    mambaRate: r.mamba.fit.rate!,
    mambaPredicted: r.mamba.predictedRate,
    haarRatePerWavelet: 3 * r.mamba.fit.rate!,
    fourierExponent: r.fourier.fit.exponent!,
    fourierPredicted: r.fourier.predictedExponent,
    s6Rates: r.s6.map((s) => s.fit.rate!),
    error2AtNMax: {
      N: r.mamba.N.at(-1)!,
      mamba: r.mamba.error2.at(-1)!,
      fourier: r.fourier.error2[r.mamba.N.at(-1)! - 1],
      s6: r.s6.map((s) => s.error2.at(-1)!),
    },
  }));
  return {
    rows,
    s6: cfgs,
    NMax: results[0].mamba.N.at(-1)!,
    fitFrom: results[0].fitFrom,
    targets: results[0].targets,
    results,
  };
}

/** One row of the Lem. 1 / Eq. 45 rate table. */
export interface SensitivityRow {
  /** The layer of the row. */
  layer: 'S4D' | 'S6' | 'Mamba-2' | 'Attention';
  /** 'h_t[n]' rows for states, 'y_t' for the output. */
  quantity: string;
  /** What the prediction is: 'λ_n', 'λ_n·mean Δ', 'slowest λ_n·mean Δ', 'exponent in t'. */
  law: string;
  /** λ_n of the state (null for outputs and attention). */
  lambda: number | null;
  /** mean Δ after j (null for outputs and attention). */
  meanDelta: number | null;
  /** Predicted rate (or exponent, for attention). */
  predicted: number;
  /** Fitted rate or exponent (null when too few representable points). */
  fitted: number | null;
  /** Lemma 1's factorisation check (sensitivity·e^{λΣΔ} constant in t), null for attention/outputs. */
  lemma1Spread: number | null;
}

/** The sensitivity rate table with the profiles it was made from. */
export interface SensitivityTable {
  /** The table: one row per state and output of each SSM, and attention. */
  rows: SensitivityRow[];
  /** The SSM profiles the rows come from. */
  profiles: Record<SsmMixer, SensitivityProfile>;
  /** The attention result the last row comes from. */
  attention: AttentionSensitivity;
}

const NAMES: Record<SsmMixer, SensitivityRow['layer']> = { s4d: 'S4D', s6: 'S6', mamba2: 'Mamba-2' };

/** One row per state component and one for the output of an SSM profile (Lem. 1). */
function ssmRows(p: SensitivityProfile): SensitivityRow[] {
  const layer = NAMES[p.mixer];
  const law = p.mixer === 's4d' ? 'λ_n' : 'λ_n·mean Δ';
  const states = p.states.map((s) => ({
    layer,
    quantity: `h_t[n=${s.state + 1}]`,
    law,
    lambda: s.lambda,
    meanDelta: s.meanDelta,
    predicted: s.predictedRate,
    fitted: s.fit?.rate ?? null,
    lemma1Spread: s.lemma1Spread,
  }));
  const out = {
    layer,
    quantity: 'y_t',
    law: `slowest ${law}`,
    lambda: null,
    meanDelta: null,
    predicted: p.output.predictedRate,
    fitted: p.output.fit?.rate ?? null,
    lemma1Spread: null,
  };
  return [...states, out];
}

/** Options of {@link sensitivityTable}: L, N, seed of the SSM profiles, and attention's sequence length. */
export interface SensitivityTableOptions {
  /** Sequence length of the SSM profiles (default 128). */
  L?: number;
  /** State size N (default 4). */
  N?: number;
  /** Seed of the parameters and inputs (default 0). */
  seed?: number;
  /** L of {@link attentionSensitivity} (default 256). */
  attentionL?: number;
}

/**
 * Lem. 1 rates for S4D, S6, Mamba-2 (default-initialised, d = 1) and attention's exponent (Eq. 45): the
 * `theory` script's second table.
 */
export function sensitivityTable(opts: SensitivityTableOptions = {}): SensitivityTable {
  const profiles = Object.fromEntries(
    (['s4d', 's6', 'mamba2'] as const).map((k) => [
      k,
      sensitivityProfile(k, { L: opts.L, N: opts.N, seed: opts.seed }),
    ]),
  ) as Record<SsmMixer, SensitivityProfile>;
  const attention = attentionSensitivity({ L: opts.attentionL, seed: opts.seed });
  const rows = [
    ...ssmRows(profiles.s4d),
    ...ssmRows(profiles.s6),
    ...ssmRows(profiles.mamba2),
    {
      layer: 'Attention' as const,
      quantity: 'y_t',
      law: 'exponent in t (O(1/t))',
      lambda: null,
      meanDelta: null,
      predicted: attention.predictedExponent,
      fitted: attention.fit.exponent,
      lemma1Spread: null,
    },
  ];
  return { rows, profiles, attention };
}
