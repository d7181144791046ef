/**
 * Harness of the reliability suite: run the built `ssm-lab` (or a node script) in a child process under a
 * watchdog (wall-clock limit, resident-memory limit: either kills it with SIGKILL and marks it hung or over
 * memory), judge the outcome, and append each case's verdict to the ledger that globalSetup.ts prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const BIN = fileURLToPath(new URL('../../packages/ssm-lab/bin/ssm-lab.js', import.meta.url));
export const CORE_DIST = fileURLToPath(new URL('../../packages/ssm-core/dist/index.js', import.meta.url));

/**
 * refused: a clear, typed refusal (the expected exit code and message, in time); correct: an accepted input
 * gave the right result; hung: killed by the watchdog's clock; crashed: killed by a signal we did not send,
 * over the memory limit, or an untyped error (TypeError, RangeError, a stack trace); wrong: anything else
 * (e.g. exit 0 where a refusal was due, or the wrong message); skipped: the machine cannot run the case.
 */
export type Verdict = 'refused' | 'correct' | 'hung' | 'crashed' | 'wrong' | 'skipped';

export interface CaseRecord {
  group: string;
  name: string;
  verdict: Verdict;
  seconds: number;
  /** Bytes of data that had been committed (a finished result line, a saved checkpoint) and were lost. */
  bytesLost: number;
  /** Bytes of temporary files left behind once the case (including any restart) ended. */
  tmpBytesLeft: number;
  note?: string;
}

/** Append one case to the ledger (call before asserting, so a failing case is counted too). */
export function record(c: Omit<CaseRecord, 'bytesLost' | 'tmpBytesLeft'> & Partial<CaseRecord>): CaseRecord {
  const full: CaseRecord = { bytesLost: 0, tmpBytesLeft: 0, ...c };
  appendFileSync(join(inject('reliabilityLedger'), `${process.pid}.jsonl`), JSON.stringify(full) + '\n');
  return full;
}

export interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Killed by the watchdog's clock. */
  hung: boolean;
  /** Killed by the watchdog for resident memory above the limit. */
  overMemory: boolean;
  peakRssBytes: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Wall-clock limit (default 30 s). */
  timeoutMs?: number;
  /** Resident-memory limit of the process (default 1.5 GiB; read from /proc every 50 ms). */
  rssLimitBytes?: number;
  cwd?: string;
  /** Run under `ulimit -f <KiB>` (a file size limit: a write crossing it is cut short, then EFBIG). */
  fileSizeLimitKiB?: number;
}

export interface Running {
  child: ChildProcess;
  done: Promise<Outcome>;
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Start `node <args>` under the watchdog. */
export function runNode(args: string[], o: RunOptions = {}): Running {
  const [cmd, argv] =
    o.fileSizeLimitKiB === undefined
      ? [process.execPath, args]
      : ['bash', ['-c', `ulimit -f ${o.fileSizeLimitKiB} && exec "$@"`, 'bash', process.execPath, ...args]];
  const t0 = performance.now();
  const child = spawn(cmd, argv as string[], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
    cwd: o.cwd,
  });
  let stdout = '',
    stderr = '',
    hung = false,
    overMemory = false,
    peak = 0;
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  const limit = o.rssLimitBytes ?? 1.5 * 2 ** 30;
  const watch = setInterval(() => {
    const rss = child.pid ? rssBytes(child.pid) : 0;
    peak = Math.max(peak, rss);
    if (rss > limit) {
      overMemory = true;
      child.kill('SIGKILL');
    }
  }, 50);
  const timer = setTimeout(() => {
    hung = true;
    child.kill('SIGKILL');
  }, o.timeoutMs ?? 30_000);
  const done = new Promise<Outcome>((resolve) =>
    child.on('exit', (status, signal) => {
      clearInterval(watch);
      clearTimeout(timer);
      // let the pipes drain
      setImmediate(() =>
        resolve({
          status,
          signal,
          stdout,
          stderr,
          seconds: (performance.now() - t0) / 1000,
          hung,
          overMemory,
          peakRssBytes: peak,
        }),
      );
    }),
  );
  return { child, done };
}

/** Start `ssm-lab <args>` under the watchdog. */
export const cli = (args: string[], o: RunOptions = {}) => runNode([BIN, ...args], o);

const UNTYPED = /\b(TypeError|RangeError|ReferenceError|SyntaxError|RuntimeError)\b|^\s+at .+:\d+:\d+\)?$/m;

/** The verdict on a run that should have been refused with exit code `code` and a message matching `message`. */
export function refusalVerdict(
  r: Outcome,
  message: RegExp,
  { code = 2, maxSeconds = 10 }: { code?: number; maxSeconds?: number } = {},
): Verdict {
  if (r.hung) return 'hung';
  if (r.overMemory || r.signal || UNTYPED.test(r.stderr)) return 'crashed';
  return r.status === code && message.test(r.stderr) && r.seconds <= maxSeconds ? 'refused' : 'wrong';
}

/** The verdict on a run that should have succeeded (exit 0) with `ok` true of its outcome. */
export function successVerdict(r: Outcome, ok: boolean): Verdict {
  if (r.hung) return 'hung';
  if (r.overMemory || r.signal || UNTYPED.test(r.stderr)) return 'crashed';
  return r.status === 0 && ok ? 'correct' : 'wrong';
}

/** A short description of an outcome for notes and assertion messages. */
export const describeOutcome = (r: Outcome) =>
  `exit ${r.status ?? r.signal}${r.hung ? ' (hung)' : ''}${r.overMemory ? ` (over memory: ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB)` : ''}` +
  ` in ${r.seconds.toFixed(1)} s: ${r.stderr.trim().split('\n').slice(-2).join(' / ').slice(0, 300)}`;

/** A new folder for a case, inside the run's folder (removed when the suite ends). */
export const tmp = (prefix: string) => mkdtempSync(join(inject('reliabilityRoot'), `${prefix}-`));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Temporary files (names with `.tmp-`) under `dir`, recursively, with their sizes. */
export function tempFiles(dir: string): { path: string; bytes: number }[] {
  if (!existsSync(dir)) return [];
  const out: { path: string; bytes: number }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tempFiles(p));
    else if (e.name.includes('.tmp-')) out.push({ path: p, bytes: statSync(p).size });
  }
  return out;
}

export const tempBytes = (dir: string) => tempFiles(dir).reduce((a, f) => a + f.bytes, 0);

/** Direct children of process `pid` (Linux /proc: the children of each of its threads). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** A seeded random number generator (mulberry32), so a failing run can be replayed from the printed seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run's random kill points: SSM_RELIABILITY_SEED, else the clock (printed by the cases). */
export const runSeed = () => Number(process.env.SSM_RELIABILITY_SEED ?? Date.now() % 1e9);

/**
 * A tiny keep-nth training run (≈ 2 s of training on wasm, a checkpoint every epoch) writing to `out`.
 * `epochs` sets its length.
 */
export const trainArgs = (out: string, epochs = 40, extra: string[] = []) => [
  'train',
  'keep-nth',
  '--n',
  '2',
  '--T',
  '8',
  '--vocab',
  '8',
  '--d',
  '8',
  '--N',
  '4',
  '--epochs',
  String(epochs),
  '--steps-per-epoch',
  '6',
  '--batch',
  '8',
  '--train-samples',
  '64',
  '--val-samples',
  '16',
  '--test-samples',
  '32',
  '--out',
  out,
  ...extra,
];
