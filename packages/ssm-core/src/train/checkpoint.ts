/**
 * Trainer checkpoints: one safetensors file holding the model weights (`model.<name>`), the
 * Adam moments (`adam.m.<name>`, `adam.v.<name>`) and, in `__metadata__`, the model config,
 * the trainer state, the training config and a fingerprint of the data. Written atomically;
 * loading checks everything before touching a single weight.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { checkpointError } from '../errors.js';
import { decodeSafetensors, encodeSafetensors, parseJsonStrict, type NamedArray } from '../io/safetensors.js';
import { assignChecked, checkParamsStrict, configFromMetadata } from '../models/weights.js';
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
  /** See `trainLoss`: the fraction of counted positions predicted right. */
  trainAccuracy: number;
  /** The same over the whole validation set, after the epoch. */
  valLoss: number;
  /** See `valLoss`. */
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

/**
 * FNV-1a over a dataset's ids plus its shape and meta: equal data ⇔ equal fingerprint (in practice).
 * @internal
 */
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

/**
 * The schedule a trainer state must fit: epochs of the run and optimiser steps per epoch.
 * @internal
 */
export interface TrainerSchedule {
  epochs: number;
  stepsPerEpoch: number;
}

const STOP_REASONS = ['epochs', 'valLoss', 'valAccuracy', 'time', 'interrupted'];

/**
 * A trainer state read from a checkpoint, checked field by field (a CheckpointError naming the field):
 * `epoch`, `stepInEpoch`, `globalStep` integers ≥ 0, `elapsedSeconds` finite ≥ 0, one `history` entry per
 * completed epoch, `partial` with finite `lossSum` and integer `correct` ≤ `count`, `finished` a stop reason
 * if present; with `schedule`, also epoch ≤ epochs, stepInEpoch ≤ stepsPerEpoch and
 * globalStep ≤ epoch · stepsPerEpoch + stepInEpoch (an epoch cut short by the time limit has fewer steps).
 * @internal
 */
export function checkTrainerState(raw: unknown, source: string, schedule?: TrainerSchedule): TrainerState {
  const at = (field: string) => `${source}: __metadata__.trainer.${field}`;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw checkpointError(`${source}: __metadata__.trainer`, 'a JSON object', JSON.stringify(raw));
  const o = raw as Record<string, unknown>;
  const get = (k: string) => (Object.hasOwn(o, k) ? o[k] : undefined);
  const count = (v: unknown, field: string, max = Infinity, maxText = '') => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
      throw checkpointError(at(field), `an integer ≥ 0${maxText}`, JSON.stringify(v) ?? 'none');
    return v;
  };
  const S = schedule?.stepsPerEpoch ?? Infinity;
  const epoch = count(get('epoch'), 'epoch', schedule?.epochs, schedule ? ` and ≤ epochs = ${schedule.epochs}` : '');
  const stepInEpoch = count(get('stepInEpoch'), 'stepInEpoch', S, schedule ? ` and ≤ stepsPerEpoch = ${S}` : '');
  const globalStep = count(
    get('globalStep'),
    'globalStep',
    epoch * S + stepInEpoch,
    schedule ? ` and ≤ epoch · stepsPerEpoch + stepInEpoch = ${epoch * S + stepInEpoch}` : '',
  );
  const elapsedSeconds = get('elapsedSeconds');
  if (typeof elapsedSeconds !== 'number' || !Number.isFinite(elapsedSeconds) || elapsedSeconds < 0)
    throw checkpointError(at('elapsedSeconds'), 'a finite number ≥ 0', JSON.stringify(elapsedSeconds) ?? 'none');
  const history = get('history');
  if (!Array.isArray(history) || history.length !== epoch || !history.every((h) => h !== null && typeof h === 'object'))
    throw checkpointError(
      at('history'),
      `a list of ${epoch} epoch records (one per completed epoch)`,
      Array.isArray(history) ? `${history.length} entries` : (JSON.stringify(history) ?? 'none'),
    );
  const partial = get('partial');
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial))
    throw checkpointError(
      at('partial'),
      'an object {lossSum, correct, count}',
      JSON.stringify(partial) ?? 'none (the file was not written by this trainer)',
    );
  const p = partial as Record<string, unknown>;
  const lossSum = Object.hasOwn(p, 'lossSum') ? p.lossSum : undefined;
  if (typeof lossSum !== 'number' || !Number.isFinite(lossSum))
    throw checkpointError(at('partial.lossSum'), 'a finite number', JSON.stringify(lossSum) ?? 'none');
  const pCount = count(Object.hasOwn(p, 'count') ? p.count : undefined, 'partial.count');
  const correct = count(
    Object.hasOwn(p, 'correct') ? p.correct : undefined,
    'partial.correct',
    pCount,
    ` and ≤ partial.count = ${pCount}`,
  );
  const finished = get('finished');
  if (finished !== undefined && !(typeof finished === 'string' && STOP_REASONS.includes(finished)))
    throw checkpointError(at('finished'), `absent or one of ${STOP_REASONS.join(' | ')}`, JSON.stringify(finished));
  return {
    epoch,
    stepInEpoch,
    globalStep,
    elapsedSeconds,
    history: history as EpochMetrics[],
    partial: { lossSum, correct, count: pCount },
    ...(finished === undefined ? {} : { finished: finished as string }),
  };
}

/**
 * Restore model, optimizer and trainer state, all or nothing: the metadata (format, model config, training
 * config, data fingerprint, trainer state against `schedule`, Adam's step) and every tensor (`model.*` without
 * NaN or +∞, `adam.m.*` finite, `adam.v.*` finite and ≥ 0, each with its parameter's shape) are checked before
 * anything is assigned; a file that fails any check is a CheckpointError naming the field, and the model and
 * optimizer are left unchanged.
 */
export function restoreCheckpoint(
  bytes: Uint8Array,
  source: string,
  model: SequenceModel,
  adam: Adam,
  trainConfig: object,
  fingerprint: object,
  schedule?: TrainerSchedule,
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
  const json = (field: string) => {
    if (!Object.hasOwn(metadata, field))
      throw checkpointError(`${source}: __metadata__.${field}`, 'a JSON record', 'none');
    return parseJsonStrict(metadata[field], `${source}: __metadata__.${field}`);
  };
  const state = checkTrainerState(json('trainer'), source, schedule);
  const adamMeta = json('adam') as Record<string, unknown> | null;
  const step =
    adamMeta !== null && typeof adamMeta === 'object' && Object.hasOwn(adamMeta, 'step') ? adamMeta.step : undefined;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0)
    throw checkpointError(`${source}: __metadata__.adam.step`, 'an integer ≥ 0', JSON.stringify(step) ?? 'none');
  // every check first (names, shapes, values of all three groups), then every assignment
  checkParamsStrict(model.params, tensors, source, 'model.');
  checkParamsStrict(adam.m, tensors, source, 'adam.m.', { finite: true });
  checkParamsStrict(adam.v, tensors, source, 'adam.v.', { finite: true, nonNegative: true });
  const known = Object.keys(model.params).flatMap((n) => [`model.${n}`, `adam.m.${n}`, `adam.v.${n}`]);
  const extra = Object.keys(tensors).filter((n) => !known.includes(n));
  if (extra.length)
    throw checkpointError(
      source,
      'only model.*, adam.m.* and adam.v.* tensors of this model',
      `unexpected [${extra.join(', ')}]`,
    );
  assignChecked(model.params, tensors, 'model.');
  assignChecked(adam.m, tensors, 'adam.m.');
  assignChecked(adam.v, tensors, 'adam.v.');
  adam.step = step;
  return state;
}
