/**
 * Sweep results as JSON Lines, append-only. One line per event:
 *   {"type":"start",  "id", "sweep", "label", "at", "host", "pid"}          a cell began (attempt log)
 *   {"type":"result", "id", "sweep", "cell", "result", "startedAt", "finishedAt", "cpuSeconds", "host", "pid"}
 *   {"type":"error",  "id", "sweep", "label", "message", "at"}               a cell failed (it is retried on restart)
 * Only `result` lines count as finished cells. Each line is written with one write() call on a file
 * opened O_APPEND, then fsync'd; if a kill leaves a torn last line, the writer starts the next line on a
 * fresh line and the reader skips the fragment, so that cell simply reruns.
 *
 * Several processes must not append to one file on a network filesystem (O_APPEND is not atomic on NFS):
 * give each shard its own file and `mergeResults` them.
 */
import { fileReadCap, readTextChecked } from 'ssm-core';
import type { JobResult, TaskSpec } from '../experiments/jobs.js';
import type { CellCoords } from './grid.js';
import { canonicalJson } from './grid.js';

export interface StartRecord {
  type: 'start';
  id: string;
  sweep: string;
  label: string;
  at: string;
  host?: string;
  pid?: number;
}

export interface ResultRecord {
  type: 'result';
  id: string;
  sweep: string;
  /**
   * `names: "ssm-lab"`: `arch` is a name of ssm-lab's model table. Without it (files written by
   * ssm-core 0.1) `arch` is a sweep spelling of that version; `recordModelName` reads both.
   */
  cell: Omit<CellCoords, 'arch'> & { arch: string; task: TaskSpec; label: string; names?: string };
  result: JobResult;
  startedAt: string;
  finishedAt: string;
  /** CPU seconds of the worker process for this cell (user + system). */
  cpuSeconds?: number;
  host?: string;
  pid?: number;
}

export interface ErrorRecord {
  type: 'error';
  id: string;
  sweep: string;
  label: string;
  message: string;
  at: string;
}

export type SweepRecord = StartRecord | ResultRecord | ErrorRecord;

export interface ParsedResults {
  records: SweepRecord[];
  /** Results by cell id (the first complete one when a cell appears twice). */
  results: Map<string, ResultRecord>;
  /** Lines that were not complete JSON records (e.g. a torn last line after a kill), 1-based. */
  skipped: { line: number; text: string }[];
}

function isResult(r: Record<string, unknown>): boolean {
  const res = r.result as Record<string, unknown> | undefined;
  return (
    typeof r.id === 'string' &&
    typeof r.cell === 'object' &&
    r.cell !== null &&
    typeof res === 'object' &&
    res !== null &&
    typeof res.accuracy === 'number'
  );
}

/** Parse JSONL text; incomplete or foreign lines are skipped and reported, never fatal. */
export function parseResults(text: string): ParsedResults {
  const records: SweepRecord[] = [];
  const results = new Map<string, ResultRecord>();
  const skipped: ParsedResults['skipped'] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch {
      skipped.push({ line: i + 1, text: line.slice(0, 120) });
      return;
    }
    if (
      r === null ||
      typeof r !== 'object' ||
      typeof r.type !== 'string' ||
      typeof r.id !== 'string' ||
      (r.type === 'result' && !isResult(r))
    ) {
      skipped.push({ line: i + 1, text: line.slice(0, 120) });
      return;
    }
    records.push(r as unknown as SweepRecord);
    if (r.type === 'result' && !results.has(r.id as string)) results.set(r.id as string, r as unknown as ResultRecord);
  });
  return { records, results, skipped };
}

/** Read a results file (a regular file under ssm-core's MAX_FILE_BYTES, else a FileError); a missing file is an empty one. */
export async function readResults(path: string): Promise<ParsedResults> {
  try {
    return parseResults(await readTextChecked(path, { ...fileReadCap(), what: 'results file' }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return parseResults('');
    throw e;
  }
}

/** Appends whole lines to a JSONL file (creating it and its directory). */
export class ResultsWriter {
  private constructor(
    private readonly fd: number,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<ResultsWriter> {
    const fs = await import('node:fs');
    const { dirname } = await import('node:path');
    fs.mkdirSync(dirname(path), { recursive: true });
    const fd = fs.openSync(path, 'a+');
    // A kill mid-write can leave a last line without its newline: end it, so the next record starts clean.
    const size = fs.fstatSync(fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) fs.writeSync(fd, '\n');
    }
    return new ResultsWriter(fd, path);
  }

  /** One record = one write() of one line, then fsync. */
  async append(record: SweepRecord): Promise<void> {
    const fs = await import('node:fs');
    fs.writeSync(this.fd, Buffer.from(JSON.stringify(record) + '\n', 'utf8'));
    fs.fsyncSync(this.fd);
  }

  async close(): Promise<void> {
    const fs = await import('node:fs');
    fs.closeSync(this.fd);
  }
}

/**
 * Merge result records from several files: one record per cell id; start/error lines are dropped.
 * Order-independent: when a cell was finished twice (e.g. rerun on two shards), the record kept is the
 * one with the earliest finishedAt, ties broken by its canonical JSON; output is sorted by
 * (sweep, arch, size, d, seed, id). Any permutation of the inputs gives byte-identical output.
 */
export function mergeResults(inputs: readonly ParsedResults[]): ResultRecord[] {
  const best = new Map<string, { rec: ResultRecord; key: string }>();
  for (const p of inputs) {
    for (const rec of p.records) {
      if (rec.type !== 'result') continue;
      const key = canonicalJson(rec);
      const cur = best.get(rec.id);
      if (!cur || rec.finishedAt < cur.rec.finishedAt || (rec.finishedAt === cur.rec.finishedAt && key < cur.key))
        best.set(rec.id, { rec, key });
    }
  }
  const cmp = (a: ResultRecord, b: ResultRecord) =>
    a.sweep < b.sweep
      ? -1
      : a.sweep > b.sweep
        ? 1
        : a.cell.arch < b.cell.arch
          ? -1
          : a.cell.arch > b.cell.arch
            ? 1
            : a.cell.size - b.cell.size ||
              a.cell.d - b.cell.d ||
              a.cell.seed - b.cell.seed ||
              (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return [...best.values()].map((x) => x.rec).sort(cmp);
}

/** Merged records as JSONL text (keys in canonical order, so equal records give equal bytes). */
export const toJsonl = (records: readonly SweepRecord[]) => records.map((r) => canonicalJson(r) + '\n').join('');
