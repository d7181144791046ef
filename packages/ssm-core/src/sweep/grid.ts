/**
 * Grid expansion: a SweepSpec → cells in a fixed order (architecture, size, d, seed), each an ordinary
 * `JobSpec` with a stable id — the first 16 hex digits of SHA-256 over the cell's canonical JSON
 * (task, model, training, samples, seed; keys sorted, no run directory or label). The same cell in two
 * specs, two shards or two machines gets the same id, so results can be merged and resumed by id.
 */
import type { JobSpec, TaskSpec } from '../lab/jobs.js';
import type { MambaConfig } from '../models/mamba.js';
import type { ModelSpec } from '../models/index.js';
import type { TrainConfig } from '../train/trainer.js';
import { sha256Hex } from './sha256.js';
import { ARCH_LABEL, stateSize, validateSweepSpec, type SweepArch, type SweepArchitecture, type SweepSpec } from './spec.js';

/** What a cell varies, for tables and figure data. */
export interface CellCoords {
  arch: SweepArch;
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
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

export const hashId = (v: unknown) => sha256Hex(canonicalJson(v)).slice(0, 16);

/** The block of each architecture (App. D.3 / D.4): 1 layer, conv k = 4 silu; gate only for Mamba-S4D. */
export function archModel(a: SweepArchitecture, d: number, N: number, seed: number): ModelSpec {
  const conv = { kernelSize: 4, activation: 'silu' as const };
  const base: Record<SweepArch, Partial<MambaConfig>> = {
    mamba: { mixer: 's6', conv, gate: false },
    mamba2: { mixer: 'mamba2', conv, gate: false },
    s4d: { mixer: 's4d', conv, gate: { activation: 'silu' } },
    'mamba-dt': { mixer: 'mambaDeltaT', conv, gate: false },
  };
  // vocabSize/numClasses are placeholders: runJob sets them from the task data.
  return { kind: 'mamba', vocabSize: 1, dModel: d, dState: N, positionalEncoding: false, ...base[a.arch], ...(a.model ?? {}), seed } as ModelSpec;
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
          const model = archModel(a, d, N, seed);
          const train: TrainConfig = { ...spec.train, seed };
          const key = { v: 1, task, model, train, samples: spec.samples, seed };
          const id = hashId(key);
          const label = `${ARCH_LABEL[a.arch]} ${sizeSym}=${size} d=${d} N=${N} seed=${seed}`;
          cells.push({ id, index: cells.length, label, arch: a.arch, size, d, N, seed, task, job: { id, label, task, model, train, samples: { ...spec.samples }, seed } });
        }
      }
    }
  }
  const ids = new Set<string>();
  for (const c of cells) {
    if (ids.has(c.id)) throw new Error(`grid: two cells with the same id ${c.id} (${c.label}) — the spec repeats a cell`);
    ids.add(c.id);
  }
  return cells;
}
