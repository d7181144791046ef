/**
 * The worker of bench/constructions.bench.ts: builds one construction and predicts its share of the sequences.
 * The benchmark bundles this file with esbuild before it starts the clock, so a worker loads plain JavaScript
 * (tfjs and ssm-core) as users' code does, not a TypeScript loader.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ready } from '../src/index.js';
import { mqarConstruction, type MqarConstructionOptions } from '../src/constructions/index.js';

export interface Job {
  options: MqarConstructionOptions;
  inputs: Int32Array;
  /** 1 at the query positions: only there does the output layer run (`predictFlat`'s readAt). */
  readAt: Uint8Array;
  numSeqs: number;
  T: number;
}

export interface JobResult {
  pred: Float64Array;
  /** seconds spent in the job (building the construction and predicting) */
  seconds: number;
  /** seconds from the worker's first line to the start of the job (loading tfjs and ssm-core, backend start) */
  startup?: number;
}

/** Build the construction and predict every sequence (the output layer at `readAt` only). */
export function runJob(job: Job): JobResult {
  const t0 = performance.now();
  const c = mqarConstruction(job.options);
  try {
    const pred = c.predictFlat(job.inputs, job.numSeqs, job.T, job.readAt);
    return { pred, seconds: (performance.now() - t0) / 1000 };
  } finally {
    c.dispose();
  }
}

if (!isMainThread && workerData?.constructionsJob) {
  const started = (workerData.spawnedAt as number) ?? performance.timeOrigin;
  await ready();
  const startup = (performance.timeOrigin + performance.now() - started) / 1000;
  const r = { ...runJob(workerData.constructionsJob as Job), startup };
  parentPort!.postMessage(r, [r.pred.buffer]);
  process.exit(0);
}
