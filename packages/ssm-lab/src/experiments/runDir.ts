/**
 * Run directories: one run at a time per directory, and no run silently replaced.
 *
 * - Lock: `DIR/run.lock` is created exclusively (written to a private file, then hard-linked into place, so it
 *   is never seen half-written) and holds the owner's pid, host, process start time and a random token. A
 *   second process finds it and is refused with a RunDirError naming the owner. A lock whose owner is gone (no
 *   such pid on this host, or the pid now belongs to a process started at another time) is stale: it is moved
 *   aside atomically, checked to be the one judged stale, and replaced. A lock from another host is never
 *   judged stale here (its pid means nothing on this one).
 * - Reuse: a directory that holds a run (any of {@link RUN_FILES}) is refused unless the job resumes it or is
 *   forced; `force` renames the directory to a free sibling `DIR.old-<UTC time>` (nothing is deleted) and
 *   starts in an empty DIR.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { SsmError } from 'ssm-core';

/** The lock file inside a run directory. */
export const LOCK_FILE = 'run.lock';

/** The files whose presence means a directory holds a run. */
export const RUN_FILES = ['checkpoint.safetensors', 'metrics.jsonl', 'model.safetensors', 'result.json'] as const;

/** A run directory that cannot be used as asked: locked by another process, or holding a run. */
export class RunDirError extends SsmError {
  constructor(
    readonly dir: string,
    expected: string,
    actual: string,
    hint: string,
  ) {
    super(`${dir}: expected ${expected}, got ${actual} (${hint})`, dir, expected, actual);
  }
}

/** What a lock file records about its owner. */
export interface LockInfo {
  pid: number;
  host: string;
  /** Start time of the owner process (Linux: /proc/<pid>/stat field 22), to tell a reused pid apart. */
  procStart?: string;
  startedAt: string;
  token: string;
}

/** Start time of process `pid` in clock ticks since boot (Linux), or undefined where /proc is not there. */
function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function readLock(path: string): LockInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
    return typeof v?.pid === 'number' && typeof v.token === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Is the owner of `h` alive? undefined: cannot tell (another host). */
function ownerAlive(h: LockInfo): boolean | undefined {
  if (h.host !== hostname()) return undefined;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const start = procStart(h.pid);
  return !(start !== undefined && h.procStart !== undefined && start !== h.procStart);
}

/** Create `path` holding `text`, atomically and only if it does not exist; false if it does. */
function createExclusive(path: string, text: string): boolean {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(tmp, 'wx');
    try {
      if (writeSync(fd, text) !== Buffer.byteLength(text))
        throw Object.assign(new Error('short write'), { code: 'EIO' });
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    const dir = join(path, '..');
    throw new RunDirError(
      dir,
      'a run directory its lock file can be written to',
      `${(e as NodeJS.ErrnoException).code ?? 'an error'} writing ${path}`,
      'free space or fix permissions, then run again',
    );
  }
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/** An exclusive lock on a run directory; `release` removes the lock file if it is still this one. */
export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  constructor(
    readonly dir: string,
    readonly info: LockInfo,
  ) {
    process.on('exit', this.onExit);
  }

  get path(): string {
    return join(this.dir, LOCK_FILE);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    if (readLock(this.path)?.token === this.info.token) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * Take the exclusive lock of directory `dir` (which must exist), replacing a stale one; a RunDirError names the
 * live owner otherwise.
 */
export function lockRunDir(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    procStart: procStart(process.pid),
    startedAt: new Date().toISOString(),
    token: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusive(path, JSON.stringify(info) + '\n')) return new RunLock(dir, info);
    const held = readLock(path);
    const alive = held ? ownerAlive(held) : undefined;
    if (held && alive === false) {
      const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        renameSync(path, aside);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process took it over first
        throw e;
      }
      const moved = readLock(aside);
      if (moved?.token !== held.token) {
        // the lock changed hands between the read and the rename: put the new owner's lock back
        try {
          linkSync(aside, path);
        } catch {
          // a third process holds it now; the next attempt reads that one
        }
      }
      unlinkSync(aside);
      continue;
    }
    if (!held) {
      // unreadable: written by something else, or removed between the create and the read
      if (!existsSync(path)) continue;
      throw new RunDirError(
        dir,
        'a run directory no other run holds',
        `a ${LOCK_FILE} that is not ours`,
        `remove ${path} if no run uses ${dir}`,
      );
    }
    const where = held.host === hostname() ? `pid ${held.pid}` : `pid ${held.pid} on host ${held.host}`;
    throw new RunDirError(
      dir,
      'a run directory no other run holds',
      `one locked by ${where} since ${held.startedAt}`,
      alive === undefined
        ? `another host's run; remove ${path} only if that run is over`
        : 'wait for that run to end, or use another --out',
    );
  }
  throw new RunDirError(dir, 'a run directory no other run holds', 'a lock that kept changing hands', 'try again');
}

/** The run files `dir` holds (see {@link RUN_FILES}). */
export function runFilesIn(dir: string): string[] {
  return RUN_FILES.filter((f) => existsSync(join(dir, f)));
}

/**
 * Refuse a directory holding a run (see {@link RUN_FILES}) unless the job resumes it or forces it aside: a
 * RunDirError naming the directory and its run files. Does not lock; {@link prepareRunDir} checks it again under
 * the lock.
 */
export function checkRunDirReusable(dir: string, o: { resume?: boolean; force?: boolean }): void {
  const files = o.resume || o.force ? [] : runFilesIn(dir);
  if (files.length === 0) return;
  throw new RunDirError(
    dir,
    'a directory without a run',
    `one holding a run (${files.join(', ')})`,
    '--resume continues it, --force moves it aside to a new sibling directory, or use another --out',
  );
}

/** A free sibling name for `dir`: `dir.old-<UTC time>`, with `-2`, `-3`, … if taken. */
function asideName(dir: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = `${dir}.old-${stamp}`;
  let name = base;
  for (let i = 2; existsSync(name); i++) name = `${base}-${i}`;
  return name;
}

/** Options of {@link prepareRunDir}. */
export interface PrepareRunDir {
  /** The job continues the run in the directory (its checkpoint): an existing run is expected. */
  resume?: boolean;
  /** Move an existing run aside instead of refusing. */
  force?: boolean;
  /** Where the message about a run moved aside goes (default stderr). */
  log?: (line: string) => void;
}

/**
 * Make `dir` ready for one run: create it, lock it, and check it holds no run unless `resume`; with `force` an
 * existing run is moved to a sibling directory (returned as `movedTo`, and logged). The caller releases the
 * lock when the run ends. Refusals are RunDirErrors naming the directory.
 */
export function prepareRunDir(runDir: string, o: PrepareRunDir = {}): { lock: RunLock; movedTo?: string } {
  const dir = runDir.length > 1 ? runDir.replace(/\/+$/, '') : runDir;
  mkdirSync(dir, { recursive: true });
  let lock = lockRunDir(dir);
  try {
    if (o.resume || runFilesIn(dir).length === 0) return { lock };
    if (!o.force) checkRunDirReusable(dir, {});
    const rel = relative(resolve(dir), process.cwd());
    if (!(rel === '..' || rel.startsWith('../'))) {
      throw new RunDirError(
        dir,
        'a directory that is not the current directory or one above it',
        resolve(dir),
        '--force moves the run directory aside; run from elsewhere or name another --out',
      );
    }
    const movedTo = asideName(dir);
    renameSync(dir, movedTo); // our lock moves with it: the old run is never unlocked at DIR
    (o.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`moved the previous run in ${dir} aside to ${movedTo}`);
    try {
      unlinkSync(join(movedTo, LOCK_FILE));
    } catch {
      // it moved away already; nothing to clean
    }
    lock.release();
    mkdirSync(dir, { recursive: true });
    lock = lockRunDir(dir);
    return { lock, movedTo };
  } catch (e) {
    lock.release();
    throw e;
  }
}
