/** Parameters ↔ safetensors, shared by every model: strict, all-or-nothing loading. */
import type { Variable } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { checkpointError, fmtShape } from '../errors.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  parseJsonStrict,
  readSafetensorsHeader,
  type NamedArray,
  type SafetensorsHeader,
} from '../io/safetensors.js';
import type { ParamSpec } from '../nn/params.js';
import { getFlag } from '../policy.js';

export const shapesEqual = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** Named parameters {name: [shape] float32} as safetensors bytes with `metadata` (format 'ssm-core'). */
export function paramsToSafetensors(params: Record<string, Variable>, metadata: Record<string, string>): Uint8Array {
  const tensors: Record<string, NamedArray> = {};
  for (const [name, v] of Object.entries(params))
    tensors[name] = { shape: v.shape, data: v.dataSync() as Float32Array };
  return encodeSafetensors(tensors, { format: 'ssm-core', ...metadata });
}

/** What values {@link checkParamsStrict} accepts besides finite numbers. */
export interface ValueRule {
  /** Refuse −∞ too (default false: A_log = −∞ is a valid weight, Λ = 0). NaN and +∞ are always refused. */
  finite?: boolean;
  /** Refuse negative values (Adam's second moments). */
  nonNegative?: boolean;
}

/**
 * Check `tensors` against `params` without assigning anything: the same names, shapes, and values without
 * NaN or +∞ (−∞ is kept unless `rule.finite`: the constructions set A_log = −∞ for Λ = 0).
 * `prefix` selects a namespace inside a larger file (e.g. "model." in trainer checkpoints).
 */
export function checkParamsStrict(
  params: Record<string, Variable>,
  tensors: Record<string, NamedArray>,
  source: string,
  prefix = '',
  rule: ValueRule = {},
): void {
  const want = Object.keys(params);
  const have = Object.keys(tensors)
    .filter((n) => n.startsWith(prefix))
    .map((n) => n.slice(prefix.length));
  const missing = want.filter((n) => !have.includes(n));
  const extra = have.filter((n) => !Object.hasOwn(params, n));
  if (missing.length || extra.length) {
    throw checkpointError(
      source,
      `exactly the tensors of this model (${want.length})`,
      `missing [${missing.map((n) => prefix + n).join(', ')}], unexpected [${extra.map((n) => prefix + n).join(', ')}]`,
      'was it saved from a model with another config?',
    );
  }
  const allowed = rule.finite ? 'finite values' : 'no NaN or +Infinity';
  for (const n of want) {
    const t = tensors[prefix + n];
    const where = `${source}: tensor "${prefix + n}"`;
    if (!shapesEqual(t.shape, params[n].shape))
      throw checkpointError(where, `shape ${fmtShape(params[n].shape)}`, fmtShape(t.shape));
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      const x = d[i];
      if (Number.isNaN(x) || x === Infinity || (rule.finite && x === -Infinity))
        throw checkpointError(where, allowed, `${x} at flat index ${i}`);
      if (rule.nonNegative && x < 0) throw checkpointError(where, 'non-negative values', `${x} at flat index ${i}`);
    }
  }
}

/** Assign tensors already checked by {@link checkParamsStrict} (no check here). */
export function assignChecked(
  params: Record<string, Variable>,
  tensors: Record<string, NamedArray>,
  prefix = '',
): void {
  for (const n of Object.keys(params))
    tf.tidy(() => params[n].assign(tf.tensor(tensors[prefix + n].data, tensors[prefix + n].shape, 'float32')));
}

/**
 * Check `tensors` against `params` ({@link checkParamsStrict}: names, shapes, no NaN or +∞) and only then
 * assign them all: all-or-nothing.
 */
export function assignParamsStrict(
  params: Record<string, Variable>,
  tensors: Record<string, NamedArray>,
  source: string,
  prefix = '',
): void {
  checkParamsStrict(params, tensors, source, prefix);
  assignChecked(params, tensors, prefix);
}

/** Decode safetensors `bytes` and {@link assignParamsStrict} them to `params` (all-or-nothing). */
export function loadParamsStrict(params: Record<string, Variable>, bytes: Uint8Array, source: string): void {
  assignParamsStrict(params, decodeSafetensors(bytes, source).tensors, source);
}

/** The model kind and JSON config stored in a checkpoint's metadata (read from the header alone). */
export function configFromSafetensors(bytes: Uint8Array, source: string): Record<string, unknown> & { kind: string } {
  return configFromMetadata(readSafetensorsHeader(bytes, source).metadata, source);
}

/** The model kind and JSON config in a safetensors `__metadata__` record. */
export function configFromMetadata(
  metadata: Record<string, string>,
  source: string,
): Record<string, unknown> & { kind: string } {
  const where = `${source}: __metadata__.config`;
  if (!Object.hasOwn(metadata, 'config'))
    throw checkpointError(where, 'the JSON model config written by ssm-core', 'none');
  const config = parseJsonStrict(metadata.config, where);
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw checkpointError(where, 'the JSON model config written by ssm-core', JSON.stringify(metadata.config));
  return { ...(config as Record<string, unknown>), kind: Object.hasOwn(metadata, 'model') ? metadata.model : 'mamba' };
}

const specSize = (s: ParamSpec) => s.shape.reduce((a, b) => a * b, 1);

/**
 * Refuse a model file before anything is allocated: the parameter count its config implies must not exceed
 * the MAX_PARAMS flag (a CheckpointError naming the config's size fields and the count), and the header must
 * hold exactly the parameters `specs` lists, each with its shape.
 */
export function checkModelFile(
  specs: ParamSpec[],
  config: Record<string, unknown>,
  header: SafetensorsHeader,
  source: string,
): void {
  const total = specs.reduce((a, s) => a + specSize(s), 0);
  const cap = getFlag('MAX_PARAMS');
  if (total > cap) {
    const largest = specs.reduce((a, s) => (specSize(s) > specSize(a) ? s : a));
    const sizes = Object.entries(config)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    throw checkpointError(
      `${source}: __metadata__.config (${sizes})`,
      `a config implying at most ${cap} parameters (flag MAX_PARAMS)`,
      `${total} parameters (largest: ${largest.name} ${fmtShape(largest.shape)})`,
      'raise MAX_PARAMS (env SSM_MAX_PARAMS) only for files you trust',
    );
  }
  const want = new Map(specs.map((s) => [s.name, s.shape]));
  const have = Object.keys(header.entries);
  const missing = specs.map((s) => s.name).filter((n) => !Object.hasOwn(header.entries, n));
  const extra = have.filter((n) => !want.has(n));
  if (missing.length || extra.length) {
    throw checkpointError(
      source,
      `exactly the tensors of the model its config describes (${specs.length})`,
      `missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
      'was it saved from a model with another config?',
    );
  }
  for (const s of specs) {
    const e = header.entries[s.name];
    if (!shapesEqual(e.shape, s.shape))
      throw checkpointError(`${source}: tensor "${s.name}"`, `shape ${fmtShape(s.shape)}`, fmtShape(e.shape));
  }
}
