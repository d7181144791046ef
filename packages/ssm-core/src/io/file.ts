/**
 * Saving and loading models as `.safetensors` files (Node only; imported lazily so browser
 * bundles of ssm-core never touch `node:fs`). Writes are atomic: a crash mid-save leaves the
 * previous file intact.
 */
import { MambaModel } from '../model.js';

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

/** Save weights and config to `path` (conventionally `*.safetensors`). */
export async function saveModel(model: MambaModel, path: string, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, model.toSafetensors(metadata));
}

/** Load a model saved with `saveModel`. Throws CheckpointError on corrupt or mismatched files. */
export async function loadModel(path: string): Promise<MambaModel> {
  const fs = await import('node:fs/promises');
  return MambaModel.fromSafetensors(new Uint8Array(await fs.readFile(path)), path);
}
