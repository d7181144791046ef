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
import { configError, fileError, fileReadCap, parseJsonStrict, readTextChecked, SsmError, validate } from 'ssm-core';
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
  /** Lines that are not JSON (e.g. a torn last line after a kill), 1-based. */
  skipped: { line: number; text: string }[];
  /**
   * Lines of complete JSON that are not valid records, 1-based, with the reason naming the field (a value of
   * the wrong type or range, a missing field, an unknown type, a duplicate key or a key `__proto__` /
   * `constructor` / `prototype`). Never in `records`.
   */
  invalid: { line: number; reason: string }[];
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds of an ISO 8601 time as written by `Date.toISOString` (or with an offset); NaN otherwise. */
const timeOf = (v: unknown): number => (typeof v === 'string' && ISO_TIME.test(v) ? Date.parse(v) : NaN);

/** Check one parsed line as a sweep record; throws a ConfigError naming the field (e.g. `cell.size`). */
function checkRecord(r: unknown): SweepRecord {
  const { show, int } = validate;
  const str = (o: Record<string, unknown>, k: string, path = k, optional = false) => {
    if (optional && o[k] === undefined) return;
    if (typeof o[k] !== 'string') throw configError(path, 'a string', o[k] === undefined ? 'none' : show(o[k]));
  };
  const time = (o: Record<string, unknown>, k: string, path = k) => {
    if (!Number.isFinite(timeOf(o[k])))
      throw configError(
        path,
        'an ISO 8601 time (e.g. 2026-01-01T00:00:00.000Z)',
        o[k] === undefined ? 'none' : show(o[k]),
      );
  };
  const num = (o: Record<string, unknown>, k: string, path: string, lo: number, hi = Infinity, optional = false) => {
    if (optional && o[k] === undefined) return;
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
      throw configError(
        path,
        hi === Infinity ? `a number ≥ ${lo}` : `a number in [${lo}, ${hi}]`,
        v === undefined ? 'none' : show(v),
      );
  };
  if (!isObj(r)) throw configError('record', 'a JSON object', show(r));
  if (r.type !== 'start' && r.type !== 'result' && r.type !== 'error')
    throw configError('type', '"start" | "result" | "error"', r.type === undefined ? 'none' : show(r.type));
  if (typeof r.id !== 'string' || !/^[\w.-]{1,128}$/.test(r.id))
    throw configError('id', 'a cell id (letters, digits, _ . -)', r.id === undefined ? 'none' : show(r.id));
  str(r, 'sweep');
  if (r.type === 'start') {
    str(r, 'label');
    str(r, 'at'); // attempt log only: merge drops start and error lines
  } else if (r.type === 'error') {
    str(r, 'label');
    str(r, 'message');
    str(r, 'at');
  } else {
    const cell = r.cell;
    if (!isObj(cell)) throw configError('cell', 'an object {arch, size, d, N, seed, task, label}', show(cell));
    str(cell, 'arch', 'cell.arch');
    int(cell.size, 'cell.size', 1);
    int(cell.d, 'cell.d', 1);
    int(cell.N, 'cell.N', 1);
    int(cell.seed, 'cell.seed', 0);
    if (!isObj(cell.task) || typeof cell.task.task !== 'string')
      throw configError('cell.task', 'a task object {task, …}', show(cell.task));
    str(cell, 'label', 'cell.label');
    str(cell, 'names', 'cell.names', true);
    const res = r.result;
    if (!isObj(res))
      throw configError('result', 'an object {accuracy, loss, params, seconds, steps, epochs, …}', show(res));
    if (res.id !== r.id) throw configError('result.id', `the record's id ${show(r.id)}`, show(res.id));
    num(res, 'accuracy', 'result.accuracy', 0, 1);
    num(res, 'loss', 'result.loss', 0);
    num(res, 'seconds', 'result.seconds', 0);
    int(res.params, 'result.params', 0);
    int(res.steps, 'result.steps', 0);
    int(res.epochs, 'result.epochs', 0);
    str(res, 'stopReason', 'result.stopReason');
    time(r, 'startedAt');
    time(r, 'finishedAt');
    num(r, 'cpuSeconds', 'cpuSeconds', 0, Infinity, true);
  }
  if (r.type !== 'error') {
    str(r, 'host', 'host', true);
    if (r.pid !== undefined) int(r.pid, 'pid', 0);
  }
  return r as unknown as SweepRecord;
}

/**
 * Parse JSONL text. A line that is not JSON (a torn last line after a kill) is skipped, a complete line that
 * is not a valid record is reported in `invalid` (see {@link ParsedResults}); neither is fatal here (callers
 * decide: a run reruns those cells, merge and report refuse the file).
 */
export function parseResults(text: string): ParsedResults {
  const records: SweepRecord[] = [];
  const results = new Map<string, ResultRecord>();
  const skipped: ParsedResults['skipped'] = [];
  const invalid: ParsedResults['invalid'] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      skipped.push({ line: i + 1, text: line.slice(0, 120) });
      return;
    }
    let r: SweepRecord;
    try {
      parseJsonStrict(line, 'record'); // duplicate keys, __proto__ / constructor / prototype
      r = checkRecord(parsed);
    } catch (e) {
      if (!(e instanceof SsmError)) throw e;
      invalid.push({ line: i + 1, reason: e.message });
      return;
    }
    records.push(r);
    if (r.type === 'result' && !results.has(r.id)) results.set(r.id, r);
  });
  return { records, results, skipped, invalid };
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

  /**
   * One record = one write() of one line, then fsync. A write cut short (a full disk, a file size limit)
   * is undone — the file is truncated back to its length before the write, so no torn line stays — and throws
   * a FileError naming the file; so does a failed write. A record is appended only when append resolves.
   */
  async append(record: SweepRecord): Promise<void> {
    const fs = await import('node:fs');
    const buf = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    const before = fs.fstatSync(this.fd).size;
    let written = 0;
    let failure: string | undefined;
    try {
      written = fs.writeSync(this.fd, buf);
    } catch (e) {
      failure = `${(e as NodeJS.ErrnoException).code ?? (e as Error).name}: ${(e as Error).message}`;
    }
    if (failure === undefined && written === buf.length) {
      fs.fsyncSync(this.fd);
      return;
    }
    // Undo a partial line, unless another writer appended meanwhile (then the reader skips the fragment).
    let undone = false;
    try {
      if (fs.fstatSync(this.fd).size === before + written) {
        fs.ftruncateSync(this.fd, before);
        fs.fsyncSync(this.fd);
        undone = true;
      }
    } catch {
      /* the fragment stays; the reader skips it and open() ends it with a newline */
    }
    throw fileError(
      this.path,
      `${buf.length} bytes appended`,
      failure ?? `${written} (a short write: is the disk full or a file size limit reached?)`,
      undone || written === 0 ? 'the record was not written' : 'a partial line remains; readers skip it',
    );
  }

  async close(): Promise<void> {
    const fs = await import('node:fs');
    fs.closeSync(this.fd);
  }
}

/** Two or more results of one cell whose outcome differs (accuracy, loss, parameters, steps, epochs or stop reason). */
export interface MergeConflict {
  id: string;
  label: string;
  /** The record merge keeps (the earliest finished). */
  kept: ResultRecord;
  /** The records with another outcome, in merge order. */
  others: ResultRecord[];
}

/** What decides whether two results of a cell agree: the outcome, not the timing, host or backend name. */
const outcomeKey = (r: ResultRecord) => {
  const { accuracy, loss, params, steps, epochs, stopReason } = r.result;
  return canonicalJson({ accuracy, loss, params, steps, epochs, stopReason });
};

/**
 * {@link mergeResults} with the conflicts it found: cells finished more than once with different outcomes.
 * Only records that pass the reader's checks take part (parseResults leaves invalid lines out already).
 */
export function mergeResultsChecked(inputs: readonly ParsedResults[]): {
  records: ResultRecord[];
  conflicts: MergeConflict[];
} {
  type Entry = { rec: ResultRecord; key: string; time: number };
  const byId = new Map<string, Entry[]>();
  for (const p of inputs) {
    for (const rec of p.records) {
      if (rec.type !== 'result') continue;
      try {
        checkRecord(rec);
      } catch {
        continue; // hand-built input: parseResults never lets such a record through
      }
      const list = byId.get(rec.id) ?? [];
      list.push({ rec, key: canonicalJson(rec), time: timeOf(rec.finishedAt) });
      byId.set(rec.id, list);
    }
  }
  // a total order on records: finish time, then canonical JSON; any input order gives the same result
  const order = (x: Entry, y: Entry) => x.time - y.time || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);
  const kept: ResultRecord[] = [];
  const conflicts: MergeConflict[] = [];
  for (const [id, list] of byId) {
    list.sort(order);
    const first = list[0].rec;
    kept.push(first);
    const seen = new Set([outcomeKey(first)]);
    const others: ResultRecord[] = [];
    for (const { rec } of list.slice(1)) {
      const k = outcomeKey(rec);
      if (!seen.has(k)) {
        seen.add(k);
        others.push(rec);
      }
    }
    if (others.length) conflicts.push({ id, label: first.cell.label, kept: first, others });
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
  conflicts.sort((x, y) => cmp(x.kept, y.kept));
  return { records: kept.sort(cmp), conflicts };
}

/**
 * Merge result records from several files: one record per cell id; start/error lines dropped.
 * Order-independent: when a cell was finished twice (e.g. rerun on two shards), the record kept is the
 * one with the earliest finishedAt (as a time), ties broken by its canonical JSON; output is sorted by
 * (sweep, arch, size, d, seed, id). Any permutation of the inputs gives byte-identical output. Different
 * outcomes for one cell are kept quietly here: {@link mergeResultsChecked} reports them.
 */
export function mergeResults(inputs: readonly ParsedResults[]): ResultRecord[] {
  return mergeResultsChecked(inputs).records;
}

/** Merged records as JSONL text (keys in canonical order, so equal records give equal bytes). */
export const toJsonl = (records: readonly SweepRecord[]) => records.map((r) => canonicalJson(r) + '\n').join('');
