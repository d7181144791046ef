/**
 * Run ssm-core training jobs on worker threads (one per core by default), streaming every step and
 * epoch back to the notebook so it can draw live curves while all cores train.
 *
 * A job is ssm-core's plain-JSON `JobSpec` (e.g. from `table1Jobs`); each worker loads its own
 * ssm-core (and TensorFlow.js backend) and calls `runJob`, exactly as the `ssm-lab` CLI does.
 */
import { availableParallelism } from 'os';
import { Worker } from 'worker_threads';
import type { EpochMetrics, JobResult, JobSpec, StepInfo } from 'ssm-core';

export interface RunJobsOptions {
  /** Worker threads (default: one per core, at most one per job). */
  workers?: number;
  onStep?: (job: JobSpec, step: StepInfo) => void;
  onEpoch?: (job: JobSpec, metrics: EpochMetrics) => void;
  onResult?: (job: JobSpec, result: JobResult) => void;
}

type Message =
  | { type: 'step'; step: StepInfo }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'result'; result: JobResult }
  | { type: 'error'; message: string };

// CommonJS, evaluated in the worker: it loads the same ssm-core build the notebook uses.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const ssm = require(workerData.ssmCore);
const post = (m) => parentPort.postMessage(m);
ssm.ready()
  .then(() => ssm.runJob(workerData.job, {
    progress: 'off',
    onStep: (step) => post({ type: 'step', step }),
    onEpochEnd: (metrics) => post({ type: 'epoch', metrics }),
  }))
  .then((result) => post({ type: 'result', result }))
  .catch((e) => post({ type: 'error', message: String((e && e.stack) || e) }));
`;

function runInWorker(job: JobSpec, o: RunJobsOptions): Promise<JobResult> {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { job, ssmCore: require.resolve('ssm-core') } });
  return new Promise<JobResult>((resolve, reject) => {
    worker.on('message', (m: Message) => {
      if (m.type === 'step') o.onStep?.(job, m.step);
      else if (m.type === 'epoch') o.onEpoch?.(job, m.metrics);
      else if (m.type === 'result') resolve(m.result);
      else reject(new Error(`${job.label}: ${m.message}`));
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`${job.label}: worker exited with code ${code} before finishing`)));
  }).finally(() => void worker.terminate());
}

/** Run `jobs` on a pool of worker threads; results come back in the order of `jobs`. */
export async function runJobs(jobs: JobSpec[], o: RunJobsOptions = {}): Promise<JobResult[]> {
  const results: JobResult[] = new Array(jobs.length);
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await runInWorker(jobs[i], o);
      o.onResult?.(jobs[i], results[i]);
    }
  };
  const n = Math.max(1, Math.min(o.workers ?? availableParallelism(), jobs.length));
  await Promise.all(Array.from({ length: n }, lane));
  return results;
}
