/** Model registry: build a SequenceModel by kind, or rebuild one from a checkpoint's metadata. */
import { checkpointError, configError } from '../errors.js';
import { MambaModel, type MambaConfig } from './mamba.js';
import { TransformerModel, type TransformerConfig } from './transformer.js';
import type { SequenceModel } from './types.js';
import { configFromSafetensors } from './weights.js';

export type ModelSpec = ({ kind: 'mamba' } & MambaConfig) | ({ kind: 'transformer' } & TransformerConfig);

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
