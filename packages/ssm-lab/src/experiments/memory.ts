/**
 * A job's memory, estimated from its spec before any data or model exists, and held to ssm-core's budget
 * (flag MEMORY_BUDGET, env SSM_MEMORY_BUDGET; on wasm the tensor heap): a run too large is a MemoryError naming
 * the option that makes it so (`--T`, `--N`, `--batch`, `--d`, … from the CLI; the job's field otherwise).
 */
import {
  checkMemory,
  fmtBytes,
  memoryBudget,
  resolveModelSpec,
  specsParamCount,
  trainingMemory,
  type ModelSpec,
} from 'ssm-core';

/** The parts of a JobSpec (./jobs.ts) its memory depends on. */
export interface JobSizes {
  task: { T: number; vocabSize: number };
  model: ModelSpec;
  train: { batchSize: number; evalBatchSize?: number };
  samples: { train: number; val: number; test: number };
}

/** The sizes a job's memory depends on. */
export type SizeKey = 'T' | 'trainSamples' | 'valSamples' | 'testSamples' | 'batch' | 'd' | 'N' | 'vocab';

/** How errors name each size: an option name, and whether the user set it (an explicit one is named first). */
export type SizeNames = Record<SizeKey, { name: string; explicit: boolean }>;

/** The job's own field names (sweeps, presets, notebooks): every size counts as set. */
export const JOB_FIELD_NAMES: SizeNames = {
  T: { name: 'job.task.T', explicit: true },
  trainSamples: { name: 'job.samples.train', explicit: true },
  valSamples: { name: 'job.samples.val', explicit: true },
  testSamples: { name: 'job.samples.test', explicit: true },
  batch: { name: 'job.train.batchSize', explicit: true },
  d: { name: 'job.model.dModel', explicit: true },
  N: { name: 'job.model.dState', explicit: true },
  vocab: { name: 'job.task.vocabSize', explicit: true },
};

interface Part {
  what: string;
  bytes: number;
  sizes: SizeKey[];
}

/** The size to name for `part`: the largest value among those the user set, else the largest. */
function blame(part: Part, values: Record<SizeKey, number>, names: SizeNames): SizeKey {
  const pool = part.sizes.filter((k) => names[k].explicit);
  return (pool.length ? pool : part.sizes).reduce((a, k) => (values[k] > values[a] ? k : a));
}

/**
 * Refuse a job whose data, weights, optimiser state and largest pass would exceed the memory budget, before
 * anything is allocated: a MemoryError naming the size behind the largest part. `vocab` is the model's
 * vocabulary and classes as the task makes them (`{vocabSize, numClasses}`), or undefined to check the data
 * alone (the caller learns them from a one-row dataset, which the data check has bounded).
 */
export function checkJobMemory(
  job: JobSizes,
  vocab: { vocabSize: number; numClasses: number } | undefined,
  names: SizeNames = JOB_FIELD_NAMES,
): void {
  const T = job.task.T;
  const rows = job.samples.train + job.samples.val + job.samples.test;
  const model = job.model as ModelSpec & { dModel: number; dState?: number };
  const values: Record<SizeKey, number> = {
    T,
    trainSamples: job.samples.train,
    valSamples: job.samples.val,
    testSamples: job.samples.test,
    batch: job.train.batchSize,
    d: model.dModel,
    N: model.dState ?? 0,
    vocab: job.task.vocabSize,
  };
  const data: Part = {
    what: `datasets (${rows} rows × T ${T}, int32 inputs and targets)`,
    bytes: 8 * rows * T,
    sizes: ['T', 'trainSamples', 'valSamples', 'testSamples'],
  };
  const parts: Part[] = [data];
  let tensorParts: Part[] = [];
  if (vocab) {
    const { kind, config, specs } = resolveModelSpec({ ...job.model, ...vocab } as ModelSpec);
    const evalRows = Math.min(job.train.evalBatchSize ?? 256, Math.max(job.samples.val, job.samples.test));
    const m = trainingMemory(kind, config, specsParamCount(specs), T, job.train.batchSize, evalRows);
    const modelSizes: SizeKey[] = kind === 'transformer' ? ['d', 'vocab', 'T'] : ['d', 'N', 'vocab'];
    tensorParts = [
      { what: 'weights, gradients and Adam state', bytes: m.params + m.optimizer, sizes: modelSizes },
      {
        what:
          m.activationsFrom === 'batch'
            ? `a training step (${job.train.batchSize} rows)`
            : `an evaluation pass (${evalRows} rows)`,
        bytes: m.activations,
        sizes: m.activationsFrom === 'batch' ? ['batch', 'T', 'd', 'N'] : ['T', 'd', 'N'],
      },
    ];
    parts.push(...tensorParts);
  }
  const check = (ps: Part[], tensors: boolean) => {
    const total = ps.reduce((a, p) => a + p.bytes, 0);
    const budget = memoryBudget(tensors);
    if (!(total > budget.bytes)) return;
    const top = ps.reduce((a, p) => (p.bytes > a.bytes ? p : a));
    const k = blame(top, values, names);
    const raise = budget.limitName.startsWith('the wasm') ? 'run on another backend' : 'raise SSM_MEMORY_BUDGET';
    checkMemory(total, names[k].name, String(values[k]), {
      what: tensors ? "the run's tensors" : 'the run',
      tensors,
      hint: `${ps.map((p) => `${p.what} ${fmtBytes(p.bytes)}`).join(', ')}; lower ${names[k].name} or ${raise}`,
    });
  };
  check(parts, false);
  if (tensorParts.length) check(tensorParts, true);
}
