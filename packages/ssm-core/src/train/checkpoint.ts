/**
 * Trainer checkpoints: one safetensors file holding the model weights (`model.<name>`), the
 * Adam moments (`adam.m.<name>`, `adam.v.<name>`) and, in `__metadata__`, the model config,
 * the trainer state, the training config and a fingerprint of the data. Written atomically;
 * loading checks everything before touching a single weight.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { checkpointError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, type NamedArray } from '../io/safetensors.js';
import { assignParamsStrict, configFromMetadata } from '../models/weights.js';
import type { SequenceModel } from '../models/types.js';
import type { TaskData } from '../tasks/types.js';
import type { Adam } from './adam.js';

/** One epoch of training: the metrics line written to `metricsPath` and kept in the history. */
export interface EpochMetrics {
  /** 1-based epoch. */
  epoch: number;
  /** Optimiser steps taken so far (all epochs). */
  step: number;
  /** Learning rate after the epoch's last step. */
  lr: number;
  /** Mean masked cross-entropy (nats) and accuracy over the epoch's training batches. */
  trainLoss: number;
  trainAccuracy: number;
  /** The same over the whole validation set, after the epoch. */
  valLoss: number;
  valAccuracy: number;
  /** Wall-clock seconds since training started (summed over resumed sessions). */
  seconds: number;
}

/** What a trainer checkpoint stores besides weights and Adam moments: where the run stands. */
export interface TrainerState {
  /** Completed epochs. */
  epoch: number;
  /** Steps already taken inside epoch `epoch + 1` (non-zero after an interrupt). */
  stepInEpoch: number;
  /** Steps taken so far (all epochs). */
  globalStep: number;
  /** Wall-clock seconds of all sessions so far. */
  elapsedSeconds: number;
  /** One entry per completed epoch. */
  history: EpochMetrics[];
  /** Running train statistics of the unfinished epoch. */
  partial: { lossSum: number; correct: number; count: number };
  /** Set when training ended (not interrupted): resuming a finished run is a no-op. */
  finished?: string;
}

/** FNV-1a over a dataset's ids plus its shape and meta: equal data ⇔ equal fingerprint (in practice). */
export function dataFingerprint(d: TaskData): string {
  let h = 0x811c9dc5;
  const mix = (arr: Int32Array) => {
    for (let i = 0; i < arr.length; i++)
      h = Math.imul(h ^ (arr[i] & 0xffff) ^ ((arr[i] >>> 16) << 3), 0x01000193) >>> 0;
  };
  mix(d.inputs);
  mix(d.targets);
  return `${d.meta.task}:${d.numSamples}x${d.T}:${h.toString(16)}`;
}

/**
 * A trainer checkpoint as safetensors bytes: `model.<name>`, `adam.m.<name>`, `adam.v.<name>` and, in
 * `__metadata__`, the model config, `state`, Adam's step and constants, `trainConfig` and the data fingerprint.
 */
export function encodeCheckpoint(
  model: SequenceModel,
  adam: Adam,
  state: TrainerState,
  trainConfig: object,
  fingerprint: object,
): Uint8Array {
  const read = (t: Tensor) => t.dataSync() as Float32Array;
  return encodeRead(model, adam, state, trainConfig, fingerprint, checkpointTensors(model, adam, read));
}

/** {@link encodeCheckpoint} with every tensor read by `await data()` (GPU backends: no synchronous read-back). */
export async function encodeCheckpointAsync(
  model: SequenceModel,
  adam: Adam,
  state: TrainerState,
  trainConfig: object,
  fingerprint: object,
): Promise<Uint8Array> {
  const pending = checkpointTensors(model, adam, (t) => t.data() as Promise<Float32Array>);
  const tensors: Record<string, NamedArray> = {};
  for (const [k, v] of Object.entries(pending)) tensors[k] = { shape: v.shape, data: await v.data };
  return encodeRead(model, adam, state, trainConfig, fingerprint, tensors);
}

function checkpointTensors<D>(model: SequenceModel, adam: Adam, read: (t: Tensor) => D) {
  const tensors: Record<string, { shape: number[]; data: D }> = {};
  for (const [name, v] of Object.entries(model.params)) {
    tensors[`model.${name}`] = { shape: v.shape, data: read(v) };
    tensors[`adam.m.${name}`] = { shape: v.shape, data: read(adam.m[name]) };
    tensors[`adam.v.${name}`] = { shape: v.shape, data: read(adam.v[name]) };
  }
  return tensors;
}

function encodeRead(
  model: SequenceModel,
  adam: Adam,
  state: TrainerState,
  trainConfig: object,
  fingerprint: object,
  tensors: Record<string, NamedArray>,
): Uint8Array {
  return encodeSafetensors(tensors, {
    format: 'ssm-core-trainer',
    model: model.kind,
    config: JSON.stringify(model.config),
    trainer: JSON.stringify(state),
    adam: JSON.stringify({ step: adam.step, beta1: adam.beta1, beta2: adam.beta2, epsilon: adam.epsilon }),
    trainConfig: JSON.stringify(trainConfig),
    data: JSON.stringify(fingerprint),
  });
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Restore model, optimizer and trainer state; refuse (unchanged) if anything does not match. */
export function restoreCheckpoint(
  bytes: Uint8Array,
  source: string,
  model: SequenceModel,
  adam: Adam,
  trainConfig: object,
  fingerprint: object,
): TrainerState {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== 'ssm-core-trainer')
    throw checkpointError(
      `${source}: __metadata__.format`,
      '"ssm-core-trainer"',
      JSON.stringify(metadata.format ?? null),
    );
  const cfg = configFromMetadata(metadata, source);
  const { kind, ...config } = cfg;
  if (kind !== model.kind || !same(config, model.config)) {
    throw checkpointError(
      `${source}: model`,
      `${model.kind} ${JSON.stringify(model.config)}`,
      `${kind} ${JSON.stringify(config)}`,
      'the checkpoint belongs to another model',
    );
  }
  if (metadata.trainConfig !== JSON.stringify(trainConfig)) {
    throw checkpointError(
      `${source}: trainConfig`,
      JSON.stringify(trainConfig),
      metadata.trainConfig ?? 'none',
      'resume with the options the run was started with',
    );
  }
  if (metadata.data !== JSON.stringify(fingerprint)) {
    throw checkpointError(
      `${source}: data`,
      JSON.stringify(fingerprint),
      metadata.data ?? 'none',
      'the training or validation data differ (task options or seeds changed?)',
    );
  }
  let state: TrainerState;
  let adamMeta: { step: number };
  try {
    state = JSON.parse(metadata.trainer);
    adamMeta = JSON.parse(metadata.adam);
  } catch {
    throw checkpointError(
      `${source}: __metadata__.trainer`,
      'JSON trainer state',
      JSON.stringify(metadata.trainer ?? null),
    );
  }
  // validate all three groups first, then assign (assignParamsStrict checks before it writes)
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([n]) => n.startsWith(prefix)));
  const m = pick('adam.m.'),
    v = pick('adam.v.'),
    w = pick('model.');
  const probe = (group: Record<string, NamedArray>, prefix: string) => {
    const names = Object.keys(model.params);
    const missing = names.filter((n) => !Object.prototype.hasOwnProperty.call(group, prefix + n));
    if (missing.length || Object.keys(group).length !== names.length) {
      throw checkpointError(
        source,
        `tensors ${prefix}<${names.length} parameters>`,
        `missing [${missing.map((n) => prefix + n).join(', ')}] of ${Object.keys(group).length}`,
      );
    }
  };
  probe(w, 'model.');
  probe(m, 'adam.m.');
  probe(v, 'adam.v.');
  assignParamsStrict(model.params, w, source, 'model.');
  assignParamsStrict(adam.m, m, source, 'adam.m.');
  assignParamsStrict(adam.v, v, source, 'adam.v.');
  adam.step = adamMeta.step;
  return state;
}
