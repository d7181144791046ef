/**
 * The runner's child-process entry (./pool.ts forks it; one process per worker, each with its own
 * tfjs backend). Messages from the parent: {type:'run', job, verbose?, events?} trains one job,
 * {type:'abort'} stops it at the next step (its checkpoint is saved). Replies: ready / step / epoch /
 * result / error; step and epoch are sent only with `events` (live curves). The process exits when the
 * parent goes away (IPC disconnect), so a killed coordinator leaves no orphan training.
 */
import { backendInfo, ready } from 'ssm-core';
import { InterruptedError, runJob, type JobSpec } from '../experiments/jobs.js';

type Msg = { type: 'run'; job: JobSpec; verbose?: boolean; events?: boolean } | { type: 'abort' };

const send = (m: unknown) =>
  new Promise<void>((resolve) => {
    if (process.send && process.connected) process.send(m, undefined, {}, () => resolve());
    else resolve();
  });

/** Without waiting for delivery (step events: the trainer does not wait on the parent). */
const post = (m: unknown) => {
  if (process.send && process.connected) process.send(m);
};

let ctl: AbortController | undefined;
process.on('disconnect', () => process.exit(0));
// Ctrl-C reaches the whole process group; the parent decides (it sends 'abort'), so ignore it here.
process.on('SIGINT', () => {});
// Schedulers (Slurm, Kubernetes) send SIGTERM to every process: checkpoint the running job and stop.
process.on('SIGTERM', () => {
  if (ctl) ctl.abort();
  else process.exit(143);
});

try {
  await ready();
  await send({ type: 'ready', backend: backendInfo().name, pid: process.pid });
} catch (e) {
  await send({ type: 'error', message: `backend: ${(e as Error).message}`, interrupted: false });
  process.exit(1);
}

process.on('message', async (msg: Msg) => {
  if (msg.type === 'abort') {
    ctl?.abort();
    return;
  }
  if (msg.type !== 'run') return;
  ctl = new AbortController();
  const cpu0 = process.cpuUsage();
  const id = msg.job.id;
  try {
    const result = await runJob(msg.job, {
      signal: ctl.signal,
      progress: msg.verbose ? 'lines' : 'off',
      ...(msg.events
        ? {
            onStep: (step) => post({ type: 'step', id, step }),
            onEpochEnd: (metrics) => post({ type: 'epoch', id, metrics }),
          }
        : {}),
    });
    const cpu = process.cpuUsage(cpu0);
    await send({ type: 'result', id, result, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  } catch (e) {
    await send({
      type: 'error',
      id,
      message: (e as Error)?.message ?? String(e),
      interrupted: e instanceof InterruptedError,
    });
  } finally {
    const aborted = ctl.signal.aborted;
    ctl = undefined;
    if (aborted) process.exit(0);
  }
});
