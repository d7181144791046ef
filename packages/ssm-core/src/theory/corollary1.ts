/**
 * Corollary 1 made executable: L² error of the best N-term approximation of piecewise-constant
 * targets with m discontinuities, with Haar wavelets built from Mamba bases (3 per wavelet,
 * Thm 1), with Fourier bases (the best an S4D layer can do, Eq. 27), and with the wavelets
 * realised by an actual S6 layer (finite w_Δ, L cells) — plus fitted rates.
 *
 * Notation
 *   ρ                 target, m discontinuities;  n  wavelets kept;  N  basis functions used
 *   Mamba / Haar      N = 1 + 3n  (φ = H(s − 0) is one Mamba basis, each ψ_{j,k} three; Eq. 18)
 *   Fourier / S4D     N complex exponentials e^{i2πns}
 *   error²            ‖ρ − approximation‖²_{L²[0,1]}, exact (what Eq. 28–31 call the error)
 *   predicted         Mamba  error² = O(2^{−N/(3m)})  ⇒ rate 1/(3m) per basis in log₂(error²)
 *                     S4D    error² = O(N^{−1})        ⇒ exponent −1 in ln(error²) vs ln N
 *   S6 layer          Heavisides G_p ≈ H(s − p/L), p = 0..L, from one S6 pass (s6Bases.ts);
 *                     ĉ_{j,k} = 2^{j/2}(P_{p1} − 2P_{p2} + P_{p3}) from the layer's projections
 *                     P_p = ⟨ρ̄, G_p⟩; reconstruction Σ ĉ ψ̂ (Eq. 26) with ψ̂ = 2^{j/2}(G_{p1} − 2G_{p2} + G_{p3})
 */
import { Rng } from '../random.js';
import { fitBase2Rate, fitPowerLaw, type LineFit } from './fit.js';
import { fourierBestNTerm } from './fourier.js';
import { haarBestNTerm } from './haar.js';
import { cellAverages, randomPiecewiseConstant, type PiecewiseConstant } from './piecewise.js';
import { s6HeavisideBases, type S6HeavisideBases } from './s6Bases.js';
import { int, negative, object, powerOfTwo, seed as checkSeed } from '../validate.js';
import { configError } from '../errors.js';

/** The full dictionary G_p ≈ H(s − p/L), p = 0..L, from one S6 layer (Eq. 22 on L cells). */
export function s6HaarDictionary(L: number, wDelta: number): S6HeavisideBases {
  powerOfTwo(L, 'L', 2, 1 << 12);
  return s6HeavisideBases(
    Array.from({ length: L + 1 }, (_, p) => p / L),
    { L, wDelta },
  );
}

interface Wavelet {
  p: [number, number, number];
  scale: number;
}

/** Every ψ_{j,k} resolvable on L cells (j ≤ log₂L − 1) as three dictionary indices p = 2^{−j}kL, … (Eq. 18). */
function dictionaryWavelets(L: number): Wavelet[] {
  const out: Wavelet[] = [];
  for (let j = 0; 2 ** (j + 1) <= L; j++) {
    const w = L / 2 ** j;
    for (let k = 0; k < 2 ** j; k++) out.push({ p: [k * w, k * w + w / 2, (k + 1) * w], scale: 2 ** (j / 2) });
  }
  return out;
}

/** Σ_i a_i b_i. */
function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]; // a plain loop: TypedArray.reduce is ~10× slower here
  return s;
}

/** error²[n], n = 0..nMax, of ρ approximated through the S6 layer's wavelets (Thm 1 + Eq. 26 on L cells). */
export function s6HaarBestNTerm(rho: PiecewiseConstant, dict: S6HeavisideBases, nMax: number): number[] {
  const L = dict.L;
  if (dict.bases.length !== L + 1)
    throw configError('dict', 'a dictionary from s6HaarDictionary (L + 1 Heavisides)', `${dict.bases.length} bases`);
  const { averages, withinCellError2 } = cellAverages(rho, L);
  const P = dict.bases.map((g) => dot(g, averages) / L); // ⟨ρ̄, G_p⟩ = y_{L+1}[p]/L
  const wav = dictionaryWavelets(L).map((w) => ({ ...w, c: w.scale * (P[w.p[0]] - 2 * P[w.p[1]] + P[w.p[2]]) }));
  wav.sort((a, b) => Math.abs(b.c) - Math.abs(a.c));
  const approx = dict.bases[0].map((g) => P[0] * g); // ⟨ρ̄, φ̂⟩ φ̂
  const err = () => withinCellError2 + averages.reduce((s, v, i) => s + (v - approx[i]) ** 2, 0) / L;
  const out = [err()];
  for (let n = 1; n <= nMax; n++) {
    if (n <= wav.length) {
      const { p, scale, c } = wav[n - 1];
      const [g1, g2, g3] = p.map((q) => dict.bases[q]);
      for (let i = 0; i < L; i++) approx[i] += c * scale * (g1[i] - 2 * g2[i] + g3[i]);
    }
    out.push(err());
  }
  return out;
}

/** error² against the number of basis functions N, with its fitted rate. */
export interface RateCurve {
  /** Number of basis functions. */
  N: number[];
  /** Geometric mean over the targets of error² at each N. */
  error2: number[];
  /** Fit over N ≥ fitFrom. */
  fit: LineFit & { rate?: number; exponent?: number };
}

/** Cor. 1 at one m: the Mamba/Haar, Fourier/S4D and S6-layer curves with fitted and predicted rates. */
export interface Corollary1Result {
  /** Number of discontinuities of the targets. */
  m: number;
  /** Number of random targets averaged. */
  targets: number;
  /** Fits use N ≥ fitFrom. */
  fitFrom: number;
  /** Haar wavelets from Mamba bases (w_Δ → −∞ limit of Thm 1), N = 1 + 3n; fit.rate per basis. */
  /** predictedRate = 1/(3m). */
  mamba: RateCurve & { predictedRate: number };
  /** Best N-term Fourier (S4D with e^{−λ_n} on the unit circle); fit.exponent of ln error² on ln N. */
  fourier: RateCurve & { predictedExponent: number };
  /** The same wavelets realised by an actual S6 layer, one entry per (L, w_Δ). */
  s6: (RateCurve & { L: number; wDelta: number })[];
}

/** Options of {@link corollary1}; errors name `options.<field>`. */
export interface Corollary1Options {
  /** Random targets averaged (geometric mean of error²), default 16. */
  targets?: number;
  /** Seed of the random targets, in [0, 2^32) (default 0). */
  seed?: number;
  /** Largest number of basis functions, default 64 (N = 64 = 1 + 3·21 for Mamba). */
  NMax?: number;
  /** Fit over N ≥ fitFrom (default 16). */
  fitFrom?: number;
  /** S6-layer realisations to include (default none): a config, or a dictionary from s6HaarDictionary (reused across m). */
  s6?: ({ L: number; wDelta: number } | S6HeavisideBases)[];
}

/** Per-column geometric mean of error² over targets. */
const geoMean = (rows: number[][]) =>
  rows[0].map((_, i) => 2 ** (rows.reduce((s, r) => s + Math.log2(Math.max(r[i], 1e-300)), 0) / rows.length));

/** Averaged curve and its rate fit over N ≥ fitFrom (base-2 rate or power-law exponent). */
function curve(N: number[], rows: number[][], fitFrom: number, kind: 'base2' | 'power'): RateCurve {
  const error2 = geoMean(rows);
  const keep = N.map((n, i) => [n, error2[i]]).filter(([n]) => n >= fitFrom);
  const fit =
    kind === 'base2'
      ? fitBase2Rate(
          keep.map((r) => r[0]),
          keep.map((r) => r[1]),
        )
      : fitPowerLaw(
          keep.map((r) => r[0]),
          keep.map((r) => r[1]),
        );
  return { N, error2, fit };
}

/**
 * Cor. 1 for targets ρ with m discontinuities: the best N-term L² error² with Haar wavelets from Mamba bases
 * (predicted O(2^{−N/(3m)})), with Fourier bases (S4D, predicted O(N^{−1})) and, optionally, with the wavelets
 * of real S6 layers, each averaged over random targets and fitted (Eq. 25–31).
 * @param m - discontinuities, an integer in [1, 64].
 * @throws ConfigError naming `m` or `options.<field>`.
 * @example
 * ```ts
 * const r = theory.corollary1(2, { targets: 8 });
 * r.mamba.fit.rate; // ≈ r.mamba.predictedRate = 1/6 per basis function
 * ```
 */
export function corollary1(m: number, opts: Corollary1Options = {}): Corollary1Result {
  int(m, 'm', 1, 64);
  const T = int(opts.targets ?? 16, 'options.targets', 1, 10_000);
  const NMax = int(opts.NMax ?? 64, 'options.NMax', 4, 3000);
  const fitFrom = int(opts.fitFrom ?? 16, 'options.fitFrom', 1, NMax - 3);
  const rng = new Rng(checkSeed(opts.seed ?? 0, 'options.seed'));
  const rhos = Array.from({ length: T }, () => randomPiecewiseConstant(m, rng));
  const nMax = Math.floor((NMax - 1) / 3);
  const Nm = Array.from({ length: nMax + 1 }, (_, n) => 1 + 3 * n);
  const mamba = curve(
    Nm,
    rhos.map((r) => haarBestNTerm(r, nMax).error2),
    fitFrom,
    'base2',
  );
  const Nf = Array.from({ length: NMax }, (_, i) => i + 1);
  const fourier = curve(
    Nf,
    rhos.map((r) => fourierBestNTerm(r, NMax).error2.slice(1)),
    fitFrom,
    'power',
  );
  const s6 = (opts.s6 ?? []).map((cfg, i) => {
    object(cfg, `options.s6[${i}]`, 'an object {L, wDelta} or a dictionary from s6HaarDictionary');
    const dict = 'bases' in cfg ? cfg : s6HaarDictionary(cfg.L, negative(cfg.wDelta, `options.s6[${i}].wDelta`));
    return {
      L: dict.L,
      wDelta: dict.wDelta,
      ...curve(
        Nm,
        rhos.map((r) => s6HaarBestNTerm(r, dict, nMax)),
        fitFrom,
        'base2',
      ),
    };
  });
  return {
    m,
    targets: T,
    fitFrom,
    mamba: { ...mamba, predictedRate: 1 / (3 * m) },
    fourier: { ...fourier, predictedExponent: -1 },
    s6,
  };
}
