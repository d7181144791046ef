/**
 * Grid expansion: a SweepSpec → cells in a fixed order (architecture, size, d, seed), each an ordinary
 * `JobSpec` with a stable id — the first 16 hex digits of SHA-256 over the cell's canonical JSON
 * (task, model, training, samples, seed; keys sorted, no run directory or label). The same cell in two
 * specs, two shards or two machines gets the same id, so results can be merged and resumed by id.
 */
import type { ModelSpec, TrainConfig } from 'ssm-core';
import type { JobSpec, TaskSpec } from '../experiments/jobs.js';
import { MODELS, modelSpec, type ModelName } from '../experiments/models.js';
import { sha256Hex } from './sha256.js';
import { stateSize, validateSweepSpec, type SweepArchitecture, type SweepSpec } from './spec.js';

/** What a cell varies, for tables and figure data. */
export interface CellCoords {
  /** The model's name in the model table. */
  arch: ModelName;
  /** κ (MQAR) or |V| (INDUCTION HEADS). */
  size: number;
  d: number;
  N: number;
  seed: number;
}

export interface Cell extends CellCoords {
  /** Stable id: 16 hex digits of SHA-256(canonical JSON of `key`). */
  id: string;
  /** Position in the expanded grid (shards are taken by position). */
  index: number;
  label: string;
  task: TaskSpec;
  /** The job `runJob` trains (id = cell id). */
  job: JobSpec;
}

/** JSON with object keys sorted at every level (arrays keep their order); undefined fields dropped. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? 'null' : canonicalJson(x))).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

export const hashId = (v: unknown) => sha256Hex(canonicalJson(v)).slice(0, 16);

/** The model of an architecture at (d, N): the model table's entry with the spec's overrides; vocabSize is set by runJob. */
export function archModel(a: SweepArchitecture, d: number, N: number, seed: number, T = 0): ModelSpec {
  return modelSpec(a.model, { d, N, T }, a.overrides ?? {}, seed);
}

export function taskSpecOf(spec: SweepSpec, size: number): TaskSpec {
  const t = spec.task;
  if (t.kind === 'mqar') return { task: 'mqar', mode: 'paper', numKeys: size, vocabSize: t.vocabSize, T: t.T };
  return t.setting === 'standard'
    ? { task: 'induction-heads', setting: 'standard', vocabSize: size, T: t.T }
    : { task: 'induction-heads', setting: 'hard', vocabSize: size, T: t.T, p: t.p, gamma: t.gamma };
}

/** Every cell of the grid, in the order architecture × size × d × seed. Validates the spec first. */
export function expandGrid(specIn: SweepSpec): Cell[] {
  const spec = validateSweepSpec(specIn);
  const sizeSym = spec.task.kind === 'mqar' ? 'κ' : '|V|';
  const cells: Cell[] = [];
  for (const [ai, a] of spec.architectures.entries()) {
    for (const size of spec.sizes) {
      const N = stateSize(a.N, size, `spec.architectures[${ai}].N`);
      const task = taskSpecOf(spec, size);
      for (const d of spec.d) {
        for (const seed of spec.seeds) {
          const model = archModel(a, d, N, seed, spec.task.T);
          const train: TrainConfig = { ...spec.train, seed };
          const key = { v: 1, task, model, train, samples: spec.samples, seed };
          const id = hashId(key);
          const label = `${MODELS[a.model].label} ${sizeSym}=${size} d=${d} N=${N} seed=${seed}`;
          cells.push({
            id,
            index: cells.length,
            label,
            arch: a.model,
            size,
            d,
            N,
            seed,
            task,
            job: { id, label, task, model, train, samples: { ...spec.samples }, seed },
          });
        }
      }
    }
  }
  const ids = new Set<string>();
  for (const c of cells) {
    if (ids.has(c.id))
      throw new Error(`grid: two cells with the same id ${c.id} (${c.label}) — the spec repeats a cell`);
    ids.add(c.id);
  }
  return cells;
}
