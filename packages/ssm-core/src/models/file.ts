/**
 * Saving and loading models as `.safetensors` files (Node only; `node:fs` is imported lazily so browser
 * bundles of ssm-core never touch it). Writes are atomic: a crash mid-save leaves the previous file intact.
 */
import { readFileChecked, writeFileAtomic } from '../io/file.js';
import { fileReadCap } from '../policy.js';
import { modelFromSafetensors } from './index.js';
import type { SequenceModel } from './types.js';

/** Save weights and config to `path` (conventionally `*.safetensors`). */
export async function saveModel(
  model: SequenceModel,
  path: string,
  metadata: Record<string, string> = {},
): Promise<void> {
  // Read every parameter asynchronously first (GPU backends cache the values on the host, so the synchronous
  // encoder then finds them there; webgpu in Node has no synchronous read-back).
  await Promise.all(Object.values(model.params).map((v) => v.data()));
  await writeFileAtomic(path, model.toSafetensors(metadata));
}

/**
 * Load a model (Mamba or Transformer) saved with `saveModel`. Throws FileError for a path that is not a regular
 * file or is above the MAX_FILE_BYTES flag, CheckpointError on corrupt or mismatched files (checked, with the
 * MAX_PARAMS cap, before the model is built).
 */
export async function loadModel(path: string): Promise<SequenceModel> {
  return modelFromSafetensors(await readFileChecked(path, { ...fileReadCap(), what: 'model file' }), path);
}
