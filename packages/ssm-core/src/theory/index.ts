/**
 * `theory` — Sec. 4 of "Understanding Input Selectivity in Mamba" made executable, as plain data:
 *   bases       Haar wavelets (Eq. 10, 16–18), Mamba basis (Eq. 8, quadrature and real S6 layer),
 *               S4D basis (Eq. 9), Thm 1's construction and its error vs w_Δ, Prop. 1 (absolute time)
 *   rates       Cor. 1: best N-term error² for Haar/Mamba, Fourier/S4D and the S6-realised wavelets
 *   sensitivity Lem. 1 (S4D, S6, Mamba-2 via tf.grad), Lem. 2 (bounded λΣΔ), attention (Eq. 44–45)
 * Nothing here draws: every result is numbers, arrays and metadata.
 */
export { fitLine, fitExponentialRate, fitBase2Rate, fitPowerLaw, type LineFit } from './fit.js';
export {
  piecewiseConstant,
  randomPiecewiseConstant,
  evaluatePiecewise,
  integratePiecewise,
  piecewiseNormSquared,
  cellAverages,
  type PiecewiseConstant,
} from './piecewise.js';
export {
  heaviside,
  haarWavelet,
  haarHeavisideTerms,
  haarCoefficient,
  haarCandidates,
  haarBestNTerm,
  type HeavisideTerm,
  type HaarTerm,
  type HaarBestNTerm,
} from './haar.js';
export { fourierCoefficients2, fourierBestNTerm, type FourierBestNTerm } from './fourier.js';
export { integrate, integralsToEnd } from './quadrature.js';
export {
  softplus,
  mambaBasis,
  s4dBasis,
  heavisideDelta,
  heavisideBasis,
  type DeltaFunction,
  type BasisOptions,
} from './bases.js';
export { mambaHaarWavelet, transitionWidth, theorem1Errors, type Theorem1Report } from './theorem1.js';
export { s6MambaBasis, s6HeavisideBases, type S6Basis, type S6HeavisideBases } from './s6Bases.js';
export { recoverAbsoluteTime, type AbsoluteTime } from './absoluteTime.js';
export {
  corollary1,
  s6HaarDictionary,
  s6HaarBestNTerm,
  type Corollary1Result,
  type Corollary1Options,
  type RateCurve,
} from './corollary1.js';
export {
  sensitivityProfile,
  type SsmMixer,
  type SensitivityOptions,
  type SensitivityProfile,
  type StateSensitivity,
  type ExpFit,
} from './sensitivity.js';
export { lemma2Demo, type Lemma2Options, type Lemma2Result, type Lemma2Row } from './lemma2.js';
export { attentionSensitivity, type AttentionSensitivityOptions, type AttentionSensitivity } from './attention.js';
export {
  corollary1Table,
  sensitivityTable,
  type Corollary1Row,
  type Corollary1Table,
  type Corollary1TableOptions,
  type SensitivityRow,
  type SensitivityTable,
  type SensitivityTableOptions,
} from './tables.js';
export type { PlainParams } from './mixerParams.js';
