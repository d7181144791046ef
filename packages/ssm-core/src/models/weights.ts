/** Parameters ↔ safetensors, shared by every model: strict, all-or-nothing loading. */
import type { Variable } from '@tensorflow/tfjs';
import { tf } from '../backend.js';
import { checkpointError, fmtShape } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../io/safetensors.js';

export const shapesEqual = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Named parameters {name: [shape] float32} as safetensors bytes with `metadata` (format 'ssm-core'). */
export function paramsToSafetensors(params: Record<string, Variable>, metadata: Record<string, string>): Uint8Array {
  const tensors: Record<string, NamedArray> = {};
  for (const [name, v] of Object.entries(params))
    tensors[name] = { shape: v.shape, data: v.dataSync() as Float32Array };
  return encodeSafetensors(tensors, { format: 'ssm-core', ...metadata });
}

/**
 * Check `tensors` against `params` (same names, shapes, no NaN) and only then assign them all.
 * `prefix` selects a namespace inside a larger file (e.g. "model." in trainer checkpoints).
 */
export function assignParamsStrict(
  params: Record<string, Variable>,
  tensors: Record<string, NamedArray>,
  source: string,
  prefix = '',
): void {
  const want = Object.keys(params);
  const have = Object.keys(tensors)
    .filter((n) => n.startsWith(prefix))
    .map((n) => n.slice(prefix.length));
  const missing = want.filter((n) => !have.includes(n));
  const extra = have.filter((n) => !(n in params));
  if (missing.length || extra.length) {
    throw checkpointError(
      source,
      `exactly the tensors of this model (${want.length})`,
      `missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
      'was it saved from a model with another config?',
    );
  }
  for (const n of want) {
    const t = tensors[prefix + n];
    if (!shapesEqual(t.shape, params[n].shape))
      throw checkpointError(
        `${source}: tensor "${prefix + n}"`,
        `shape ${fmtShape(params[n].shape)}`,
        fmtShape(t.shape),
      );
    const bad = t.data.findIndex((v) => Number.isNaN(v));
    if (bad >= 0)
      throw checkpointError(`${source}: tensor "${prefix + n}"`, 'no NaN values', `NaN at flat index ${bad}`);
  }
  for (const n of want)
    tf.tidy(() => params[n].assign(tf.tensor(tensors[prefix + n].data, tensors[prefix + n].shape, 'float32')));
}

/** Decode safetensors `bytes` and {@link assignParamsStrict} them to `params` (all-or-nothing). */
export function loadParamsStrict(params: Record<string, Variable>, bytes: Uint8Array, source: string): void {
  assignParamsStrict(params, decodeSafetensors(bytes, source).tensors, source);
}

/** The model kind and JSON config stored in a checkpoint's metadata. */
export function configFromSafetensors(bytes: Uint8Array, source: string): Record<string, unknown> & { kind: string } {
  const { metadata } = decodeSafetensors(bytes, source);
  return configFromMetadata(metadata, source);
}

/** The model kind and JSON config in a safetensors `__metadata__` record. */
export function configFromMetadata(
  metadata: Record<string, string>,
  source: string,
): Record<string, unknown> & { kind: string } {
  try {
    const config = JSON.parse(metadata.config ?? '');
    if (config === null || typeof config !== 'object') throw new Error('not an object');
    return { ...config, kind: metadata.model ?? 'mamba' };
  } catch {
    throw checkpointError(
      `${source}: __metadata__.config`,
      'the JSON model config written by ssm-core',
      JSON.stringify(metadata.config ?? null),
    );
  }
}
