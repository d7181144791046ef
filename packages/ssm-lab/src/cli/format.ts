/** One-line summaries the CLI prints for runs and evaluations. */
import type { EvalResult } from 'ssm-core';
import type { JobResult, JobSpec, TaskSpec } from '../experiments/jobs.js';

export function trainLine(job: JobSpec, r: JobResult): string {
  return (
    `${job.label} on ${job.task.task}: test accuracy ${r.accuracy.toFixed(4)}, loss ${r.loss.toFixed(4)}, ` +
    `${r.params} parameters, ${r.steps} steps in ${r.seconds.toFixed(1)} s (${r.stopReason})` +
    (job.runDir ? `\nrun saved in ${job.runDir}` : '')
  );
}

export function evalLine(file: string, r: EvalResult, task: TaskSpec, numSamples: number, dataSeed: number): string {
  return (
    `${file}: test accuracy ${r.accuracy.toFixed(4)} (${r.correct}/${r.count}), loss ${r.loss.toFixed(4)} ` +
    `on ${numSamples} ${task.task} samples (seed ${dataSeed})`
  );
}

export const doneLine = (r: JobResult) =>
  `  done: ${r.label} — test accuracy ${r.accuracy.toFixed(3)} (${r.steps} steps, ${r.seconds.toFixed(0)} s, ${r.stopReason})`;
