/**
 * Trained-model sweeps for Fig. 2 (MQAR size tightness) and Fig. 3 (Mamba vs Mamba-Δ⊤ on INDUCTION HEADS):
 * grid specs and presets, stable cell ids, shards (Slurm arrays, Kubernetes Indexed Jobs), append-only
 * JSONL results with order-independent merging, and the report (figure data + smallest-d table).
 *
 * The parallel runner (worker processes) is Node-only and lives behind the CLI: `ssm-lab sweep run`.
 * See docs/sweeps.md.
 */
export { validateSweepSpec, stateSize, SWEEP_ARCHS, ARCH_LABEL, type SweepSpec, type SweepArch, type SweepArchitecture, type SweepTask, type SweepTrain, type StateRule } from './spec.js';
export { expandGrid, canonicalJson, hashId, archModel, taskSpecOf, type Cell, type CellCoords } from './grid.js';
export { parseShard, resolveShard, shardCells, shardPath, WHOLE, type Shard } from './shard.js';
export {
  parseResults, readResults, mergeResults, toJsonl, ResultsWriter,
  type SweepRecord, type ResultRecord, type StartRecord, type ErrorRecord, type ParsedResults,
} from './results.js';
export { SWEEP_PRESETS, sweepPreset, FIG2, FIG3, FIG2_QUICK, FIG3_QUICK, PAPER_TRAIN, PAPER_SAMPLES } from './presets.js';
export { sweepReport, type SweepReport, type ReportPanel, type SummaryRow, type BoundPoint, type ReportOptions, type InductionComparisonRow } from './report.js';
export { sha256Hex } from './sha256.js';
