/**
 * Run jobs on N worker threads (one per core by default), each with its own tfjs backend; with
 * one worker they run in this thread. An abort signal stops every running job at its next step
 * (each saves a checkpoint), and the returned promise rejects with InterruptedError.
 */
import { InterruptedError, runJob, type JobResult, type JobSpec } from '../lab/jobs.js';

export interface PoolOptions {
  workers: number;
  signal?: AbortSignal;
  onResult?: (r: JobResult) => void;
}

type Reply = { type: 'result'; result: JobResult } | { type: 'error'; message: string; interrupted: boolean };

export async function runJobs(jobs: JobSpec[], o: PoolOptions): Promise<JobResult[]> {
  const results = new Map<string, JobResult>();
  if (o.workers <= 1) {
    for (const job of jobs) {
      const r = await runJob(job, { signal: o.signal, progress: 'auto' });
      results.set(job.id, r);
      o.onResult?.(r);
    }
    return jobs.map((j) => results.get(j.id)!);
  }
  const { Worker } = await import('node:worker_threads');
  const queue = [...jobs];
  let interrupted = false;
  let failure: Error | undefined;
  const lane = async () => {
    const w = new Worker(new URL('./worker.js', import.meta.url));
    const onAbort = () => w.postMessage({ type: 'abort' });
    o.signal?.addEventListener('abort', onAbort);
    try {
      while (queue.length && !interrupted && !failure && !o.signal?.aborted) {
        const job = queue.shift()!;
        const reply = await new Promise<Reply>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage({ type: 'run', job });
        });
        if (reply.type === 'result') {
          results.set(job.id, reply.result);
          o.onResult?.(reply.result);
        } else if (reply.interrupted) interrupted = true;
        else failure = new Error(`${job.label}: ${reply.message}`);
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      await w.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.workers, jobs.length) }, lane));
  if (failure) throw failure;
  if (interrupted || o.signal?.aborted) throw new InterruptedError(jobs.find((j) => !results.has(j.id))?.id ?? 'unknown');
  return jobs.map((j) => results.get(j.id)!);
}
