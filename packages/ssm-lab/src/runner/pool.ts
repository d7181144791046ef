/**
 * The one runner's process pool: jobs (plain-JSON `JobSpec`s) train on N worker *processes*
 * (child_process.fork of ./worker.js, one per core by default), each with its own tfjs backend.
 * A process that crashes (out of memory, a native abort) takes only its job down: the job gets an
 * error reply and a fresh process takes the next one. Used by `runSweep` (./sweep.ts: resumable,
 * sharded grids), by `ssm-lab reproduce` and by the notebooks' live training (`runJobs` with
 * `onStep` / `onEpoch`, streamed over the IPC channel).
 *
 * Node-only. Works from the ESM build and from the CommonJS bundle (tslab notebooks `require` it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EpochMetrics, StepInfo } from 'ssm-core';
import { InterruptedError, type JobResult, type JobSpec } from '../experiments/jobs.js';

export type Reply =
  | { type: 'ready'; backend: string; pid: number }
  | { type: 'result'; id: string; result: JobResult; cpuSeconds: number }
  | { type: 'error'; id?: string; message: string; interrupted: boolean };

type Event = { type: 'step'; id: string; step: StepInfo } | { type: 'epoch'; id: string; metrics: EpochMetrics };

/** dist/runner/worker.js, from dist/runner/pool.js (ESM) or from the bundle dist/index.cjs. */
function workerPath(): string {
  const url: string | undefined = import.meta.url;
  return url ? fileURLToPath(new URL('./worker.js', url)) : join(__dirname, 'runner', 'worker.js');
}

/** The parent's Node flags without the ones that name code to run (`node -e`, `-p`): a worker runs only its entry file. */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++;
    else if (!/^--(eval|print|input-type)=/.test(a) && a !== '-i' && a !== '--interactive') out.push(a);
  }
  return out;
}

export interface WorkerEvents {
  onStep?: (step: StepInfo) => void;
  onEpoch?: (metrics: EpochMetrics) => void;
}

/** One worker process; `run` resolves with the job's reply, or an error reply if the process dies. */
export class WorkerProc {
  private child: ChildProcess;
  private pending?: { resolve: (r: Reply) => void; events: WorkerEvents };
  readonly started: Promise<Reply>;
  exited = false;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.child = fork(workerPath(), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
      execArgv: workerExecArgv(),
      serialization: 'json',
    });
    let onReady: (r: Reply) => void;
    this.started = new Promise((res) => (onReady = res));
    this.child.on('message', (m: Reply | Event) => {
      if (m.type === 'step') this.pending?.events.onStep?.(m.step);
      else if (m.type === 'epoch') this.pending?.events.onEpoch?.(m.metrics);
      else if (m.type === 'ready' || (m.type === 'error' && m.id === undefined)) onReady(m);
      else this.settle(m);
    });
    this.child.on('exit', (code, sig) => {
      this.exited = true;
      const r: Reply = {
        type: 'error',
        message: `worker process exited (${sig ?? `code ${code}`})`,
        interrupted: false,
      };
      onReady(r);
      this.settle(r);
    });
  }

  private settle(r: Reply): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(r);
  }

  run(job: JobSpec, o: { verbose?: boolean } & WorkerEvents = {}): Promise<Reply> {
    const events = { onStep: o.onStep, onEpoch: o.onEpoch };
    return new Promise((resolve) => {
      this.pending = { resolve, events };
      this.child.send({ type: 'run', job, verbose: o.verbose ?? false, events: Boolean(o.onStep || o.onEpoch) });
    });
  }

  abort(): void {
    if (!this.exited && this.child.connected) this.child.send({ type: 'abort' });
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    if (this.child.connected) this.child.disconnect();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }
}

export interface RunJobsOptions {
  /** Worker processes (default: one per core, at most one per job). */
  workers?: number;
  /** Abort: running jobs checkpoint (if they have a runDir) and stop; the promise rejects with InterruptedError. */
  signal?: AbortSignal;
  /** The trainer's per-epoch lines from every worker (stderr). */
  verbose?: boolean;
  /** Environment of the worker processes (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Every training step of every job, as it happens (live curves). */
  onStep?: (job: JobSpec, step: StepInfo) => void;
  /** Every epoch's validation metrics. */
  onEpoch?: (job: JobSpec, metrics: EpochMetrics) => void;
  onResult?: (job: JobSpec, result: JobResult) => void;
}

/** Run `jobs` on the process pool; results come back in the order of `jobs`. A failed job rejects with its label and message. */
export async function runJobs(jobs: readonly JobSpec[], o: RunJobsOptions = {}): Promise<JobResult[]> {
  const results = new Map<string, JobResult>();
  const queue = [...jobs];
  const procs = new Set<WorkerProc>();
  let interrupted = false;
  let failure: Error | undefined;
  const onAbort = () => {
    for (const p of procs) p.abort();
  };
  o.signal?.addEventListener('abort', onAbort);
  const lane = async () => {
    let proc: WorkerProc | undefined;
    try {
      while (queue.length && !interrupted && !failure && !o.signal?.aborted) {
        if (!proc || proc.exited) {
          proc = new WorkerProc(laneEnv);
          procs.add(proc);
          const r = await proc.started;
          if (r.type !== 'ready') {
            failure ??= new Error(`worker failed to start: ${r.type === 'error' ? r.message : r.type}`);
            break;
          }
        }
        const job = queue.shift();
        if (!job || o.signal?.aborted) break;
        const reply = await proc.run(job, {
          verbose: o.verbose,
          onStep: o.onStep && ((s) => o.onStep!(job, s)),
          onEpoch: o.onEpoch && ((m) => o.onEpoch!(job, m)),
        });
        if (reply.type === 'result') {
          results.set(job.id, reply.result);
          o.onResult?.(job, reply.result);
        } else if (reply.type === 'error' && (reply.interrupted || o.signal?.aborted)) interrupted = true;
        else failure ??= new Error(`${job.label}: ${reply.type === 'error' ? reply.message : 'unexpected reply'}`);
      }
    } finally {
      if (proc) {
        await proc.stop();
        procs.delete(proc);
      }
    }
  };
  const n = Math.max(1, Math.min(o.workers ?? availableParallelism(), jobs.length));
  // Parallel lanes already use the cores: ssm-core's scan runs on one thread in each (unless the caller chose).
  const env = o.env ?? process.env;
  const laneEnv = n > 1 && env.SSM_SCAN_THREADS === undefined ? { ...env, SSM_SCAN_THREADS: '1' } : env;
  try {
    await Promise.all(Array.from({ length: jobs.length ? n : 0 }, lane));
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure;
  if (interrupted || o.signal?.aborted)
    throw new InterruptedError(jobs.find((j) => !results.has(j.id))?.id ?? 'unknown');
  return jobs.map((j) => results.get(j.id)!);
}
