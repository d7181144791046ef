/**
 * ssm-lab — the experiments of "Understanding Input Selectivity in Mamba" (Huang et al., ICML 2025) on
 * ssm-core: one table of model names and one job/sweep schema (experiments/, sweep/), one runner
 * (runner/: worker processes, resumable and sharded), reports (reports/) and the `ssm-lab` CLI (cli/).
 * Node-only; ships ESM and a CommonJS bundle (tslab notebooks `require` it).
 */
export {
  MODEL_NAMES,
  MODELS,
  modelName,
  modelSpec,
  recordModelName,
  RECORD_NAMES,
  LEGACY_SWEEP_NAMES,
  type ModelName,
  type ModelEntry,
  type ModelSizes,
  type BlockFields,
} from './experiments/models.js';
export {
  runJob,
  makeTask,
  InterruptedError,
  type JobSpec,
  type JobResult,
  type TaskSpec,
  type RunHooks,
} from './experiments/jobs.js';
export {
  table1Jobs,
  fig1Jobs,
  table1Models,
  trainConfigFor,
  FIG1_T,
  PRESETS,
  TABLE1_MODELS,
  type Preset,
} from './experiments/presets.js';
export { decayStatistics, type DecayStatistics } from './experiments/decay.js';
export {
  prepareRunDir,
  lockRunDir,
  checkRunDirReusable,
  runFilesIn,
  RunLock,
  RunDirError,
  RUN_FILES,
  LOCK_FILE,
  type LockInfo,
  type PrepareRunDir,
} from './experiments/runDir.js';
export { checkJobMemory, JOB_FIELD_NAMES, type JobSizes, type SizeKey, type SizeNames } from './experiments/memory.js';
export {
  validateSweepSpec,
  stateSize,
  type SweepSpec,
  type SweepArchitecture,
  type SweepTask,
  type SweepTrain,
  type StateRule,
} from './sweep/spec.js';
export { expandGrid, canonicalJson, hashId, archModel, taskSpecOf, type Cell, type CellCoords } from './sweep/grid.js';
export { parseShard, resolveShard, shardCells, shardPath, WHOLE, type Shard } from './sweep/shard.js';
export {
  parseResults,
  readResults,
  mergeResults,
  mergeResultsChecked,
  toJsonl,
  ResultsWriter,
  type SweepRecord,
  type ResultRecord,
  type StartRecord,
  type ErrorRecord,
  type ParsedResults,
  type MergeConflict,
} from './sweep/results.js';
export {
  SWEEP_PRESETS,
  sweepPreset,
  FIG2,
  FIG3,
  FIG2_QUICK,
  FIG3_QUICK,
  PAPER_TRAIN,
  PAPER_SAMPLES,
} from './sweep/presets.js';
export { sha256Hex } from './sweep/sha256.js';
export { runJobs, WorkerProc, type RunJobsOptions, type WorkerEvents } from './runner/pool.js';
export { runSweep, fmtDuration, type RunSweepOptions, type RunSweepSummary } from './runner/sweep.js';
export {
  sweepReport,
  type SweepReport,
  type ReportPanel,
  type SummaryRow,
  type BoundPoint,
  type ReportOptions,
  type InductionComparisonRow,
} from './reports/sweep.js';
export {
  table1Markdown,
  table1Verdict,
  table1Document,
  fig1Document,
  fig1Lines,
  type RunInfo,
} from './reports/table1.js';
export { printTheory } from './reports/theory.js';
export { printDemo } from './reports/demo.js';
export { main } from './cli/main.js';
