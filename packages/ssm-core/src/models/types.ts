/**
 * What the trainer, the CLI and checkpoints need from a model: the Mamba block and the
 * Transformer baseline both implement it.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs-core';

/** Token ids [batch, L]: nested arrays or an int32 tensor. */
export type TokenInput = number[][] | Tensor;

export interface SequenceModel {
  /** 'mamba' | 'transformer' — stored in checkpoints to rebuild the right class. */
  readonly kind: string;
  /** JSON-serialisable resolved config (stored in checkpoints). Has vocabSize and numClasses. */
  readonly config: { vocabSize: number; numClasses: number; seed: number };
  /** Named trainable parameters, in a fixed order (the optimizer state is keyed by this order). */
  readonly params: Record<string, Variable>;
  /** tokens [b, L] → logits [b, L, numClasses]. */
  forward(tokens: TokenInput): Tensor;
  numParams(): number;
  paramNames(): string[];
  /** The parameter called `name`; throws a ConfigError listing the names otherwise. */
  getParam(name: string): Variable;
  /** Weights as safetensors bytes (config in `__metadata__.config`, kind in `__metadata__.model`). */
  toSafetensors(extraMetadata?: Record<string, string>): Uint8Array;
  /** All-or-nothing load; throws CheckpointError on mismatch. */
  loadSafetensors(bytes: Uint8Array, source?: string): void;
  dispose(): void;
}
