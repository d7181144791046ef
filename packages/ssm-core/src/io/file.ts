/**
 * Atomic file writes (Node only; `node:fs` is imported lazily so browser bundles of ssm-core never touch it):
 * the bytes go to a temporary file that is synced and then renamed over `path`, so a crash mid-write leaves
 * the previous file intact.
 */

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
