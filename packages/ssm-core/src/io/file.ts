/**
 * Saving and loading models as `.safetensors` files (Node only; imported lazily so browser
 * bundles of ssm-core never touch `node:fs`). Writes are atomic: a crash mid-save leaves the
 * previous file intact.
 */
import { modelFromSafetensors } from '../models/index.js';
import type { SequenceModel } from '../models/types.js';

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
export async function saveModel(model: SequenceModel, path: string, metadata: Record<string, string> = {}): Promise<void> {
  await writeFileAtomic(path, model.toSafetensors(metadata));
}

/** Load a model (Mamba or Transformer) saved with `saveModel`. Throws CheckpointError on corrupt or mismatched files. */
export async function loadModel(path: string): Promise<SequenceModel> {
  const fs = await import('node:fs/promises');
  return modelFromSafetensors(new Uint8Array(await fs.readFile(path)), path);
}
