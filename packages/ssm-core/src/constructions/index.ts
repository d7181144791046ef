/**
 * Analytic constructions of the paper as real weights of the ordinary ssm-core block:
 * Cor. 2 (KEEP n-TH), Prop. 1 (clock), Thm. 2 / 3 / 4 (MQAR), Lem. 3 (INDUCTION HEADS), the
 * tightness explorer and Remark 7's adversarial input, and the report the CLI prints.
 *
 *   const c = mqarConstruction({ mixer: 'mamba2', numKeys: 8, vocabSize: 64 });
 *   c.predict(tokens);            // value index per position, through MambaModel.forward
 *   c.dims;                       // { d: 72, N: 8, bound: { d: { expr: 'κ + |V| (Step 1)', nominal: 72 }, N: … } }
 *   const m = c.createModel();    // the same weights in a fresh MambaModel (m.toSafetensors() …)
 *   c.dispose();                  // frees the model predict() built
 *
 * One file per construction (keepNth, clock, mqarMamba = Thm. 2, mqarMamba2 = Thm. 3, mqarS4d = Thm. 4,
 * inductionHeads = Lem. 3); each starts with its notation/shape glossary and the deviations from the
 * paper it needs.
 */
export type { Construction, ConstructionDims, Decoder, JlGuarantee, JlInfo, SizeBound } from './common.js';
export { keepNthConstruction, type KeepNthConstructionOptions } from './keepNth.js';
export { clockConstruction } from './clock.js';
export { mqarConstruction } from './mqar.js';
export type { MqarConstructionOptions, MqarEmbedding, MqarMixer } from './mqarOptions.js';
export { inductionHeadsConstruction, type InductionHeadsConstructionOptions } from './inductionHeads.js';
export { jlCoherence, jlEpsilon, jlLemmaDim, jlMatrix } from './jl.js';
export {
  inductionHeadsAnswers,
  keepNthAnswers,
  mqarAnswers,
  scoreAgainst,
  scoreInductionHeads,
  scoreKeepNth,
  scoreMqar,
  type Score,
  type ScoreOptions,
} from './evaluate.js';
export {
  mqarTightness,
  type CandidateResult,
  type TightnessOptions,
  type TightnessResult,
  type TightnessRow,
} from './tightness.js';
export { remark7Demo, remark7Inputs, type Remark7Options, type Remark7Result, type Remark7Row } from './remark7.js';
export {
  constructionsReport,
  type ConstructionsReport,
  type ConstructionsReportOptions,
  type ConstructionsReportRow,
} from './report.js';

/** Short names of the builders, so that `import * as constructions` reads `constructions.mqar({...})`. */
export { clockConstruction as clock } from './clock.js';
export { inductionHeadsConstruction as inductionHeads } from './inductionHeads.js';
export { keepNthConstruction as keepNth } from './keepNth.js';
export { mqarConstruction as mqar } from './mqar.js';
