/**
 * A training job as plain JSON — task, model, training options, seeds — so the same job runs in
 * this process, in a worker process, or on another machine, and its result is a plain record.
 * Seeds: the model uses `seed`; train/val/test data use 3·seed + 1, + 2, + 3.
 */
import {
  backendInfo,
  configError,
  createModel,
  evaluateAsync,
  MambaModel,
  removeStaleTempFiles,
  saveModel,
  tasks,
  train,
  writeFileAtomic,
  type ModelSpec,
  type SequenceModel,
  type TaskData,
  type TrainConfig,
  type TrainHooks,
  type TrainResult,
} from 'ssm-core';
import { join } from 'node:path';
import { decayStatistics, type DecayStatistics } from './decay.js';
import { checkJobMemory, type SizeNames } from './memory.js';
import { prepareRunDir, RUN_FILES } from './runDir.js';

type KeepNthOptions = tasks.KeepNthOptions;
type MqarOptions = tasks.MqarOptions;
type InductionHeadsOptions = tasks.InductionHeadsOptions;

export type TaskSpec =
  | ({ task: 'keep-nth' } & Omit<KeepNthOptions, 'numSamples' | 'seed'>)
  | ({ task: 'mqar' } & Omit<MqarOptions, 'numSamples' | 'seed'>)
  | ({ task: 'induction-heads' } & Omit<InductionHeadsOptions, 'numSamples' | 'seed'>);

export interface JobSpec {
  id: string;
  /** Name shown in tables and progress lines, e.g. "Mamba+PE". */
  label: string;
  task: TaskSpec;
  model: ModelSpec;
  train: TrainConfig;
  samples: { train: number; val: number; test: number };
  seed: number;
  /** Directory for checkpoint.safetensors, metrics.jsonl, model.safetensors, result.json. */
  runDir?: string;
  /** Continue the run in `runDir` from its checkpoint; without it (or `force`) a runDir holding a run is refused. */
  resume?: boolean;
  /** Move a run already in `runDir` aside to a sibling directory (never deleted) and start afresh. */
  force?: boolean;
  /** Also return the distribution of the SSM decay e^{Δ·A} on the test set (Fig. 1). */
  collectDecay?: boolean;
}

export interface JobResult {
  id: string;
  label: string;
  accuracy: number;
  loss: number;
  params: number;
  seconds: number;
  steps: number;
  epochs: number;
  stopReason: TrainResult['stopReason'];
  backend: string;
  decay?: DecayStatistics;
}

export function makeTask(spec: TaskSpec, numSamples: number, seed: number): TaskData {
  const { task, ...o } = spec;
  if (task === 'keep-nth') return tasks.keepNth({ ...(o as KeepNthOptions), numSamples, seed });
  if (task === 'mqar') return tasks.mqar({ ...(o as MqarOptions), numSamples, seed });
  if (task === 'induction-heads') return tasks.inductionHeads({ ...(o as InductionHeadsOptions), numSamples, seed });
  throw configError('task', "'keep-nth' | 'mqar' | 'induction-heads'", JSON.stringify(task));
}

export interface RunHooks {
  signal?: AbortSignal;
  progress?: TrainHooks['progress'];
  onEpochEnd?: TrainHooks['onEpochEnd'];
  onStep?: TrainHooks['onStep'];
  /** How memory errors name the sizes (the CLI's options); default the job's field names. */
  sizeNames?: SizeNames;
  /** Where notices go (a run moved aside); default stderr. */
  log?: (line: string) => void;
}

/**
 * Check the job's memory estimate against the budget, lock its `runDir` (refused if another process holds it,
 * or if it holds a run and the job neither resumes nor forces), then build data and model, train (resuming
 * from `runDir` if asked), evaluate on the test set. The lock is released when the job ends, however it ends.
 */
export async function runJob(job: JobSpec, hooks: RunHooks = {}): Promise<JobResult> {
  if (job.runDir === '') throw configError('job.runDir', 'a directory path, or no runDir to save nothing', '""');
  checkJobMemory(job, undefined, hooks.sizeNames); // the data alone, before even one row is made
  const probe = makeTask(job.task, 1, 0); // one row: the vocabulary and classes the model gets
  const vocab = { vocabSize: probe.vocabSize, numClasses: probe.numClasses };
  checkJobMemory(job, vocab, hooks.sizeNames);
  // a killed run's temporary files first: on a full disk they may hold the space the lock file needs
  if (job.runDir) for (const f of RUN_FILES) await removeStaleTempFiles(join(job.runDir, f)).catch(() => []);
  const dir = job.runDir
    ? prepareRunDir(job.runDir, { resume: job.resume, force: job.force, log: hooks.log })
    : undefined;
  try {
    return await runLocked(job, vocab, hooks);
  } finally {
    dir?.lock.release();
  }
}

async function runLocked(
  job: JobSpec,
  vocab: { vocabSize: number; numClasses: number },
  hooks: RunHooks,
): Promise<JobResult> {
  const data = {
    train: makeTask(job.task, job.samples.train, 3 * job.seed + 1),
    val: makeTask(job.task, job.samples.val, 3 * job.seed + 2),
  };
  const model: SequenceModel = createModel({ ...job.model, ...vocab } as ModelSpec);
  const path = (f: string) => (job.runDir ? `${job.runDir}/${f}` : undefined);
  try {
    const r = await train(model, data, job.train, {
      checkpointPath: path('checkpoint.safetensors'),
      metricsPath: path('metrics.jsonl'),
      resume: job.resume,
      progress: hooks.progress,
      label: job.label,
      signal: hooks.signal,
      onEpochEnd: hooks.onEpochEnd,
      onStep: hooks.onStep,
    });
    if (r.stopReason === 'interrupted') throw new InterruptedError(job.id);
    const test = makeTask(job.task, job.samples.test, 3 * job.seed + 3);
    const ev = await evaluateAsync(model, test, job.train.evalBatchSize);
    const result: JobResult = {
      id: job.id,
      label: job.label,
      accuracy: ev.accuracy,
      loss: ev.loss,
      params: model.numParams(),
      seconds: r.seconds,
      steps: r.steps,
      epochs: r.epochs,
      stopReason: r.stopReason,
      backend: backendInfo().name,
      decay: job.collectDecay && model instanceof MambaModel ? await decayStatistics(model, test) : undefined,
    };
    if (job.runDir) {
      await saveModel(model, `${job.runDir}/model.safetensors`, { job: JSON.stringify(job) });
      await writeFileAtomic(
        `${job.runDir}/result.json`,
        new TextEncoder().encode(JSON.stringify(result, null, 2) + '\n'),
      );
    }
    return result;
  } finally {
    model.dispose();
  }
}

export class InterruptedError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} interrupted; its checkpoint is saved — rerun with --resume to continue`);
    this.name = 'InterruptedError';
  }
}
