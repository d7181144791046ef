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

/** Write `bytes` to `path` atomically (temporary file, fsync, rename). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const fs = await import('node:fs/promises');
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path);
}
