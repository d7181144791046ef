/**
 * File I/O (Node only; `node:fs` is imported lazily so browser bundles of ssm-core never touch it).
 * Writes are atomic: the bytes go to a temporary file that is synced and then renamed over `path`, so a crash
 * mid-write leaves the previous file intact. Whole-file reads go through {@link readFileChecked}: only regular
 * files up to a size cap, opened so that a FIFO cannot block.
 */
import type { Stats } from 'node:fs';
import { fileError, fmtBytes } from '../errors.js';

/** Options of {@link readFileChecked}. */
export interface ReadFileOptions {
  /** Largest size accepted, in bytes (callers usually pass the flag MAX_FILE_BYTES). */
  maxBytes: number;
  /** Where the cap comes from, named in the message (e.g. 'flag MAX_FILE_BYTES, env SSM_MAX_FILE_BYTES'). */
  limitName?: string;
  /** What the file is, for messages (e.g. 'model file', 'sweep spec'); default 'file'. */
  what?: string;
}

const bytes = (n: number) => (n < 1024 ? `${n} B` : `${n} bytes (${fmtBytes(n)})`);

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The whole content of the regular file at `path` (a symlink is judged by its target). Refused with a
 * FileError naming the path before anything is read: a directory, FIFO, device or socket, or a file larger
 * than `maxBytes`. The file is opened with O_NONBLOCK and checked again through its handle, so a FIFO swapped
 * in after the first check cannot block either. A missing file throws Node's ENOENT error unchanged.
 */
export async function readFileChecked(path: string, options: ReadFileOptions): Promise<Uint8Array> {
  const fs = await import('node:fs/promises');
  const { constants } = await import('node:fs');
  const what = options.what ?? 'file';
  const { maxBytes } = options;
  const check = (st: Stats) => {
    if (!st.isFile()) throw fileError(path, `a regular ${what}`, kindOf(st));
    if (st.size > maxBytes)
      throw fileError(path, `a ${what} of at most ${bytes(maxBytes)}`, bytes(st.size), options.limitName);
  };
  check(await fs.stat(path));
  const fh = await fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    check(st);
    const buf = new Uint8Array(st.size);
    let off = 0;
    while (off < buf.length) {
      const { bytesRead } = await fh.read(buf, off, buf.length - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    if (off !== buf.length) throw fileError(path, `${st.size} bytes`, `${off} (the file shrank while read)`);
    return buf;
  } finally {
    await fh.close();
  }
}

/** {@link readFileChecked} decoded as UTF-8 text. */
export async function readTextChecked(path: string, options: ReadFileOptions): Promise<string> {
  return new TextDecoder().decode(await readFileChecked(path, options));
}

/** This host's name reduced to letters and digits (at most 32): the host part of temporary file names. */
function hostTag(os: typeof import('node:os')): string {
  return (
    os
      .hostname()
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 32) || 'host'
  );
}

let tempSeq = 0;

/**
 * The temporary file {@link writeFileAtomic} writes before renaming it over `path`:
 * `<path>.tmp-<host>-<pid>-<milliseconds>-<sequence>`, distinct for every call (Node only).
 */
export async function tempPathFor(path: string): Promise<string> {
  const os = await import('node:os');
  return `${path}.tmp-${hostTag(os)}-${process.pid}-${Date.now()}-${tempSeq++}`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the process `pid` exists on this machine (a process of another user counts). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove the temporary files of `path` that a killed writer left behind: names of the form
 * {@link tempPathFor} writes (or `<path>.tmp-<pid>-<milliseconds>`, the form without a host) whose process is
 * gone. A file of a live process or of another host (on a shared filesystem its pid means nothing here) is
 * kept, and so is every other file. Returns the paths removed; a missing directory removes nothing.
 */
export async function removeStaleTempFiles(path: string): Promise<string[]> {
  const fs = await import('node:fs/promises');
  const { basename, dirname, join } = await import('node:path');
  const os = await import('node:os');
  const dir = dirname(path);
  const re = new RegExp(`^${escapeRegExp(basename(path))}\\.tmp-(?:([A-Za-z0-9]+)-)?(\\d+)-\\d+(?:-\\d+)?$`);
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw e;
  }
  const host = hostTag(os);
  const removed: string[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const [, tag, pid] = m;
    // with three numbers the first is a host tag made of digits; with two, the name carries no host
    if ((tag !== undefined && tag !== host) || pidAlive(Number(pid))) continue;
    const p = join(dir, name);
    try {
      await fs.unlink(p);
      removed.push(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // another process removed it first
    }
  }
  return removed;
}

/**
 * Write `bytes` to `path` atomically: stale temporary files of `path` are removed first where the directory
 * can be read ({@link removeStaleTempFiles}), the bytes go to a new temporary file ({@link tempPathFor}) that is synced and
 * renamed over `path`, then the directory is synced. A failure after the temporary file was created (a full
 * disk, a file size limit, a rename refused) removes it and throws a FileError naming `path` and the system
 * error (kept as `cause`); `path` itself is then unchanged.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const fs = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  await removeStaleTempFiles(path).catch(() => []); // best effort: an unreadable directory does not stop the write
  const tmp = await tempPathFor(path);
  const fh = await fs.open(tmp, 'wx');
  try {
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.unlink(tmp).catch(() => {});
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(
      fileError(
        path,
        `${bytes.length} bytes written`,
        `${err.code ?? err.name}: ${err.message}`,
        'the previous file is unchanged; the temporary file was removed',
      ),
      { cause: e },
    );
  }
  // the rename itself is durable once the directory is synced (not supported everywhere: best effort)
  try {
    const d = await fs.open(dirname(path), 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    /* a directory that cannot be opened or synced here (some filesystems, Windows) */
  }
}
