/**
 * The sweep runner: expand the grid, keep this shard's cells, skip the ones whose `result` line is
 * already in the results file, and train the rest on the process pool (./pool.ts: N worker processes,
 * one per core by default). A process that crashes (out of memory, a native abort) takes only its cell
 * down: the cell gets an `error` line and a fresh process takes the next one.
 *
 * Resumable: each finished cell is one appended JSONL line (./results.ts); on restart only cells
 * without a result line run. Each cell trains in `<runs>/<cell id>/` with a checkpoint every epoch,
 * and a restarted cell resumes from it (bit-for-bit the run it would have been, see src/train);
 * with `runsDir: false` an interrupted cell starts over. Nothing finished is ever recomputed.
 *
 * Node-only (child processes). `ssm-lab sweep run` is its command line.
 */
import { hostname } from 'node:os';
import { RECORD_NAMES } from '../experiments/models.js';
import { expandGrid } from '../sweep/grid.js';
import { readResults, ResultsWriter } from '../sweep/results.js';
import { shardCells, WHOLE, type Shard } from '../sweep/shard.js';
import type { SweepSpec } from '../sweep/spec.js';
import { WorkerProc } from './pool.js';

export interface RunSweepOptions {
  spec: SweepSpec;
  /** Results file (JSONL), appended to. */
  out: string;
  /** Worker processes (default 1). */
  workers?: number;
  shard?: Shard;
  /** Per-cell run directories (checkpoints, metrics, model); false = none (interrupted cells restart). Default `<out>.runs`. */
  runsDir?: string | false;
  /** Abort: running cells checkpoint and stop; the promise resolves with `interrupted: true`. */
  signal?: AbortSignal;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Trainer lines per epoch from the workers. */
  verbose?: boolean;
  /** Environment of the worker processes (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface RunSweepSummary {
  gridCells: number;
  shardCells: number;
  alreadyDone: number;
  ran: number;
  failed: { id: string; label: string; message: string }[];
  interrupted: boolean;
  seconds: number;
  /** Lines of the results file that were ignored: torn (not JSON) or invalid records. */
  skippedLines: number;
}

export const fmtDuration = (s: number) => {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = Math.floor(s % 60);
  return h
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
};

/** Run (this shard of) a sweep; resolves when every cell is done, failed, or the signal aborted the run. */
export async function runSweep(o: RunSweepOptions): Promise<RunSweepSummary> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const t0 = Date.now();
  const grid = expandGrid(o.spec);
  const shard = o.shard ?? WHOLE;
  const mine = shardCells(grid, shard);
  const existing = await readResults(o.out);
  const mineIds = new Set(mine.map((c) => c.id));
  const done = new Set([...existing.results.keys()].filter((id) => mineIds.has(id)));
  const todo = mine.filter((c) => !done.has(c.id));
  const runsDir = o.runsDir === undefined ? `${o.out.replace(/\.jsonl$/, '')}.runs` : o.runsDir;
  const nWorkers = Math.max(1, Math.min(o.workers ?? 1, todo.length));
  const summary: RunSweepSummary = {
    gridCells: grid.length,
    shardCells: mine.length,
    alreadyDone: done.size,
    ran: 0,
    failed: [],
    interrupted: false,
    seconds: 0,
    skippedLines: existing.skipped.length + existing.invalid.length,
  };
  log(
    `sweep ${o.spec.name}: ${grid.length} cells in the grid; shard ${shard.index}/${shard.count} (${shard.source}) has ${mine.length}; ` +
      `${done.size} already in ${o.out}, ${todo.length} to run on ${todo.length ? nWorkers : 0} worker process(es)` +
      (existing.skipped.length
        ? `; ignored ${existing.skipped.length} incomplete line(s) (e.g. torn by a kill) — those cells rerun`
        : '') +
      (existing.invalid.length
        ? `; ignored ${existing.invalid.length} invalid line(s) (first: line ${existing.invalid[0].line}: ${existing.invalid[0].reason}) — those cells rerun`
        : ''),
  );
  if (!todo.length) {
    summary.seconds = (Date.now() - t0) / 1000;
    return summary;
  }
  const writer = await ResultsWriter.open(o.out);
  const host = hostname();
  const queue = [...todo];
  let finished = 0;
  let backendLogged = false;
  const procs = new Set<WorkerProc>();
  const onAbort = () => {
    summary.interrupted = true;
    for (const p of procs) p.abort();
  };
  o.signal?.addEventListener('abort', onAbort);

  const lane = async (laneNo: number) => {
    let proc: WorkerProc | undefined;
    try {
      while (queue.length && !o.signal?.aborted) {
        if (!proc || proc.exited) {
          proc = new WorkerProc(o.env ?? process.env);
          procs.add(proc);
          const r = await proc.started;
          if (r.type === 'ready' && !backendLogged) {
            backendLogged = true;
            log(`workers use the ${r.backend} backend`);
          }
          if (r.type !== 'ready') {
            log(`worker ${laneNo}: failed to start: ${r.type === 'error' ? r.message : r.type}`);
            procs.delete(proc);
            proc = undefined;
            break;
          }
        }
        if (o.signal?.aborted) break; // e.g. Ctrl-C while the worker was starting
        const cell = queue.shift();
        if (!cell) break; // another lane took the last cell while this worker started
        const startedAt = new Date().toISOString();
        const runDir = runsDir ? `${runsDir}/${cell.id}` : undefined;
        await writer.append({
          type: 'start',
          id: cell.id,
          sweep: o.spec.name,
          label: cell.label,
          at: startedAt,
          host,
          pid: process.pid,
        });
        const reply = await proc.run(
          { ...cell.job, runDir, resume: runDir !== undefined },
          { verbose: o.verbose ?? false },
        );
        if (reply.type === 'result') {
          const { arch, size, d, N, seed, task, label } = cell;
          await writer.append({
            type: 'result',
            id: cell.id,
            sweep: o.spec.name,
            cell: { arch, size, d, N, seed, task, label, names: RECORD_NAMES },
            result: reply.result,
            startedAt,
            finishedAt: new Date().toISOString(),
            cpuSeconds: reply.cpuSeconds,
            host,
            pid: process.pid,
          });
          if (runDir) {
            const fs = await import('node:fs/promises');
            await fs.rm(`${runDir}/checkpoint.safetensors`, { force: true }); // model.safetensors, metrics.jsonl, result.json stay
          }
          finished++;
          summary.ran++;
          const elapsed = (Date.now() - t0) / 1000;
          const remaining = todo.length - finished - summary.failed.length;
          const eta = remaining > 0 ? (elapsed / finished) * remaining : 0;
          const r = reply.result;
          log(
            `[${done.size + finished}/${mine.length}] ${cell.label}: acc ${r.accuracy.toFixed(4)} · ${r.steps} steps, ` +
              `${r.seconds.toFixed(0)} s (${reply.cpuSeconds.toFixed(0)} cpu-s), ${r.stopReason}` +
              ` · elapsed ${fmtDuration(elapsed)} · ETA ${fmtDuration(eta)}`,
          );
        } else if (reply.type === 'ready') {
          throw new Error('unexpected ready reply');
        } else if (reply.interrupted || o.signal?.aborted) {
          summary.interrupted = true;
          log(
            `  interrupted: ${cell.label}${runDir ? ` (checkpoint in ${runDir}; it resumes on restart)` : ' (it reruns on restart)'}`,
          );
        } else {
          summary.failed.push({ id: cell.id, label: cell.label, message: reply.message });
          await writer.append({
            type: 'error',
            id: cell.id,
            sweep: o.spec.name,
            label: cell.label,
            message: reply.message,
            at: new Date().toISOString(),
          });
          log(`  FAILED: ${cell.label}: ${reply.message.split('\n')[0].slice(0, 300)} (it is retried on restart)`);
        }
      }
    } finally {
      if (proc) {
        await proc.stop();
        procs.delete(proc);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: nWorkers }, (_, i) => lane(i)));
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await writer.close();
  }
  if (o.signal?.aborted) summary.interrupted = true;
  summary.seconds = (Date.now() - t0) / 1000;
  log(
    `sweep ${o.spec.name}: ran ${summary.ran} cell(s) in ${fmtDuration(summary.seconds)}` +
      (summary.failed.length ? `, ${summary.failed.length} FAILED` : '') +
      (summary.interrupted ? ', interrupted — rerun the same command to continue' : '') +
      '; ' +
      `${done.size + summary.ran}/${mine.length} of this shard done → ${o.out}`,
  );
  return summary;
}
