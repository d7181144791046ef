/** Worker-thread entry for ./pool.ts: runs one job per 'run' message, aborts on 'abort'. */
import { parentPort } from 'node:worker_threads';
import { ready } from '../backend.js';
import { InterruptedError, runJob, type JobSpec } from '../lab/jobs.js';

const port = parentPort!;
let ctl: AbortController | undefined;
await ready();
port.on('message', async (msg: { type: 'run'; job: JobSpec } | { type: 'abort' }) => {
  if (msg.type === 'abort') {
    ctl?.abort();
    return;
  }
  ctl = new AbortController();
  try {
    const result = await runJob(msg.job, { signal: ctl.signal, progress: 'lines' });
    port.postMessage({ type: 'result', result });
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message, interrupted: e instanceof InterruptedError });
  }
});
