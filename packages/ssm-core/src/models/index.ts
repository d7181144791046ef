/** Model registry: build a SequenceModel by kind, or rebuild one from a checkpoint's metadata. */
import { checkpointError, configError } from '../errors.js';
import type { ParamSpec } from '../nn/params.js';
import { MambaModel, modelParamSpecs, resolveConfig, type MambaConfig, type ResolvedMambaConfig } from './mamba.js';
import {
  resolveTransformerConfig,
  TransformerModel,
  transformerParamSpecs,
  type ResolvedTransformerConfig,
  type TransformerConfig,
} from './transformer.js';
import type { SequenceModel } from './types.js';
import { configFromSafetensors } from './weights.js';

/** A model kind and its config in one object, as stored in run specs: `{ kind: 'mamba', vocabSize: 16, … }`. */
export type ModelSpec = ({ kind: 'mamba' } & MambaConfig) | ({ kind: 'transformer' } & TransformerConfig);

/**
 * A fresh model from a {@link ModelSpec}: a MambaModel or a TransformerModel with freshly initialised weights.
 * @throws ConfigError naming `spec.kind` or the config field at fault.
 * @example
 * ```ts
 * const m = createModel({ kind: 'mamba', vocabSize: 16, dModel: 8, dState: 4, mixer: 's6' });
 * ```
 */
export function createModel(spec: ModelSpec): SequenceModel {
  const { kind, ...config } = spec;
  if (kind === 'mamba') return new MambaModel(config as MambaConfig);
  if (kind === 'transformer') return new TransformerModel(config as TransformerConfig);
  throw configError('spec.kind', "'mamba' | 'transformer'", JSON.stringify(kind));
}

/** A model of the kind and config stored in safetensors bytes, with its weights loaded. */
export function modelFromSafetensors(bytes: Uint8Array, source = 'checkpoint'): SequenceModel {
  const { kind } = configFromSafetensors(bytes, source);
  if (kind === 'mamba') return MambaModel.fromSafetensors(bytes, source);
  if (kind === 'transformer') return TransformerModel.fromSafetensors(bytes, source);
  throw checkpointError(`${source}: __metadata__.model`, "'mamba' | 'transformer'", JSON.stringify(kind));
}

/** The resolved config and parameter specs of a model spec, without building it (a bad field is a ConfigError). */
export function resolveModelSpec(spec: ModelSpec): {
  kind: 'mamba' | 'transformer';
  config: ResolvedMambaConfig | ResolvedTransformerConfig;
  specs: ParamSpec[];
} {
  const { kind, ...config } = spec;
  if (kind === 'mamba') {
    const c = resolveConfig(config as MambaConfig);
    return { kind, config: c, specs: modelParamSpecs(c) };
  }
  if (kind === 'transformer') {
    const c = resolveTransformerConfig(config as TransformerConfig);
    return { kind, config: c, specs: transformerParamSpecs(c) };
  }
  throw configError('spec.kind', "'mamba' | 'transformer'", JSON.stringify(kind));
}
