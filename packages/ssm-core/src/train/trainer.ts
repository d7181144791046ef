/**
 * The trainer of App. D.1: Adam, cosine annealing from η to η_min, mini-batches, epochs,
 * early stopping (validation loss threshold, validation accuracy, wall-clock budget),
 * masked cross-entropy — with a progress bar, callbacks for notebooks, JSONL metrics, and a
 * checkpoint every epoch and on interrupt from which a resumed run continues bit-for-bit.
 *
 * Determinism: batch k of epoch e is rows perm_e[kB … (k+1)B) with perm_e a shuffle seeded by
 * (seed, e); everything else is a function of the weights and the Adam state, both checkpointed.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, fmtBytes } from '../errors.js';
import { gpuSync } from '../gpu.js';
import { checkMemory, fileReadCap } from '../policy.js';
import { trainingMemory } from '../models/memory.js';
import { readFileChecked, removeStaleTempFiles, writeFileAtomic } from '../io/file.js';
import type { SequenceModel } from '../models/types.js';
import { Rng } from '../random.js';
import type { TaskData } from '../tasks/types.js';
import { int, nonNegative, numberIn, object, positive, positiveInt } from '../validate.js';
import { Adam, checkAdamOptions, cosineLr, type AdamOptions } from './adam.js';
import {
  dataFingerprint,
  encodeCheckpointAsync,
  restoreCheckpoint,
  type EpochMetrics,
  type TrainerState,
} from './checkpoint.js';
import { lossAndAccuracy, lossAndAccuracyAsync, lossStatsTensor, maskedCrossEntropy, type LossStats } from './loss.js';
import { Progress, trainEta, type ProgressMode } from './progress.js';

export type { EpochMetrics, TrainerState } from './checkpoint.js';

/** Training options (App. D.1); errors name `trainConfig.<field>`. */
export interface TrainConfig {
  /** Epochs, an integer ≥ 1 (paper: 600). */
  epochs: number;
  /** Batch size B, an integer ≥ 1 (paper: 16); at most the number of training samples unless stepsPerEpoch is set. */
  batchSize: number;
  /** Initial learning rate η (paper: 0.03). */
  lr: number;
  /** Final learning rate of the cosine schedule, in [0, lr] (paper: 1e-6). */
  lrMin: number;
  /** Seed of the batch order (an integer). */
  seed: number;
  /** Steps per epoch (default ⌈train samples / batch size⌉; more wraps around the data). */
  stepsPerEpoch?: number;
  /** Stop when the validation loss falls below this (paper: 1e-6). */
  stopValLoss?: number;
  /** Stop when the validation accuracy reaches this. */
  stopValAccuracy?: number;
  /** Wall-clock budget in seconds (paper: 6 h), summed over resumed sessions. */
  maxSeconds?: number;
  /** Batch size of the validation passes (default 256). */
  evalBatchSize?: number;
  /** Adam's β₁, β₂, ε (torch's defaults). */
  adam?: AdamOptions;
}

/** Passed to `hooks.onStep` after every optimiser step. */
export interface StepInfo {
  /** 1-based epoch. */
  epoch: number;
  /** Steps taken so far (all epochs). */
  step: number;
  /** Steps taken in this epoch. */
  stepInEpoch: number;
  /** The batch's masked cross-entropy. */
  loss: number;
  /** Learning rate of this step. */
  lr: number;
}

/** Side channels of {@link train}: checkpoints, metrics file, progress, callbacks, interruption. */
export interface TrainHooks {
  /** Save here after every epoch and on interrupt; resume from it when `resume` is set and it exists. */
  checkpointPath?: string;
  /** Resume from `checkpointPath` when it exists (default false: start over). */
  resume?: boolean;
  /** Append one JSON line per epoch. */
  metricsPath?: string;
  /** How progress is printed: 'bar' (a live line), 'lines' (one line per epoch), 'off', or 'auto' (bar on a terminal). */
  progress?: ProgressMode;
  /** Label shown on the progress line. */
  label?: string;
  /** Called after every optimiser step. */
  onStep?: (s: StepInfo) => void;
  /** Called after every epoch, with its metrics (awaited). */
  onEpochEnd?: (m: EpochMetrics) => void | Promise<void>;
  /** Abort (e.g. on SIGINT): the trainer checkpoints the exact step and returns `stopReason: 'interrupted'`. */
  signal?: AbortSignal;
}

/** Why training ended: all epochs, a stop threshold (stopValLoss / stopValAccuracy), maxSeconds, or the abort signal. */
export type StopReason = 'epochs' | 'valLoss' | 'valAccuracy' | 'time' | 'interrupted';

/** What {@link train} returns. */
export interface TrainResult {
  /**
   * Why training stopped: every epoch ran ('epochs'), the validation loss or accuracy target was met ('valLoss',
   * 'valAccuracy'), the time budget ran out ('time'), or it was aborted ('interrupted').
   */
  stopReason: StopReason;
  /** Completed epochs. */
  epochs: number;
  /** Steps taken (all sessions). */
  steps: number;
  /** Wall-clock seconds (all sessions). */
  seconds: number;
  /** One entry per completed epoch. */
  history: EpochMetrics[];
  /** The last entry of `history`. */
  final?: EpochMetrics;
  /** Where a resumed run picked up (epoch, step), if it did. */
  resumedFrom?: { epoch: number; step: number };
}

/** Masked loss and accuracy of a model on a dataset. */
export interface EvalResult {
  /** Mean cross-entropy over the counted positions (NaN if none). */
  loss: number;
  /** correct / count (NaN if none). */
  accuracy: number;
  /** Positions whose argmax equals the target. */
  correct: number;
  /** Positions with a target (not IGNORE). */
  count: number;
}

/** Every TrainConfig rule, errors naming `trainConfig.<field>`. */
function checkConfig(c: TrainConfig, train: TaskData): void {
  object(c, 'trainConfig', 'an object {epochs, batchSize, lr, lrMin, seed, ...}');
  positiveInt(c.epochs, 'trainConfig.epochs');
  positiveInt(c.batchSize, 'trainConfig.batchSize');
  positive(c.lr, 'trainConfig.lr');
  numberIn(c.lrMin, 'trainConfig.lrMin', 0, c.lr, `a number in [0, lr=${c.lr}]`);
  int(c.seed, 'trainConfig.seed');
  if (c.stepsPerEpoch !== undefined) positiveInt(c.stepsPerEpoch, 'trainConfig.stepsPerEpoch');
  if (c.stopValLoss !== undefined) nonNegative(c.stopValLoss, 'trainConfig.stopValLoss');
  if (c.stopValAccuracy !== undefined) numberIn(c.stopValAccuracy, 'trainConfig.stopValAccuracy', 0, 1);
  if (c.maxSeconds !== undefined) nonNegative(c.maxSeconds, 'trainConfig.maxSeconds');
  if (c.evalBatchSize !== undefined) positiveInt(c.evalBatchSize, 'trainConfig.evalBatchSize');
  if (c.adam !== undefined) checkAdamOptions(c.adam, 'trainConfig.adam');
  if (c.batchSize > train.numSamples && c.stepsPerEpoch === undefined) {
    throw configError(
      'trainConfig.batchSize',
      `≤ the ${train.numSamples} training samples (or set stepsPerEpoch)`,
      String(c.batchSize),
    );
  }
}

/** A dataset the model can read: ids below its vocabSize, exactly its numClasses (errors name `<name>.<field>`). */
function checkData(model: SequenceModel, d: TaskData, name: string): void {
  object(d, name, 'a TaskData {inputs, targets, numSamples, T, vocabSize, numClasses, meta}');
  if (d.vocabSize > model.config.vocabSize) {
    throw configError(`${name}.vocabSize`, `≤ the model's vocabSize ${model.config.vocabSize}`, String(d.vocabSize));
  }
  if (d.numClasses !== model.config.numClasses) {
    throw configError(`${name}.numClasses`, `the model's numClasses ${model.config.numClasses}`, String(d.numClasses));
  }
}

/**
 * Refuse a run whose weights, gradients, Adam moments and largest pass (a training step of batchSize rows or a
 * validation pass of evalBatchSize rows) would exceed the memory budget: a MemoryError naming the batch size
 * that sizes the largest pass.
 */
function checkTrainingMemory(model: SequenceModel, data: { train: TaskData; val: TaskData }, c: TrainConfig): void {
  const T = Math.max(data.train.T, data.val.T);
  const evalB = Math.min(c.evalBatchSize ?? 256, data.val.numSamples);
  const m = trainingMemory(model.kind, model.config, model.numParams(), T, c.batchSize, evalB);
  const field = m.activationsFrom === 'batch' ? 'batchSize' : 'evalBatchSize';
  checkMemory(m.total, `trainConfig.${field}`, String(m.activationsFrom === 'batch' ? c.batchSize : evalB), {
    what: `training (weights, gradients and Adam state ${fmtBytes(m.params + m.optimizer)}, the largest pass on T = ${T} ${fmtBytes(m.activations)})`,
    tensors: true,
  });
}

/** Rows `idx` of a dataset as int32 [b, T] tensors. */
function batchTensors(d: TaskData, idx: ArrayLike<number>): { x: Tensor; y: Tensor } {
  const x = new Int32Array(idx.length * d.T);
  const y = new Int32Array(idx.length * d.T);
  for (let i = 0; i < idx.length; i++) {
    x.set(d.inputs.subarray(idx[i] * d.T, (idx[i] + 1) * d.T), i * d.T);
    y.set(d.targets.subarray(idx[i] * d.T, (idx[i] + 1) * d.T), i * d.T);
  }
  return { x: tf.tensor2d(x, [idx.length, d.T], 'int32'), y: tf.tensor2d(y, [idx.length, d.T], 'int32') };
}

/** Fisher–Yates shuffle of 0..n−1 seeded by (seed, epoch). */
function epochOrder(n: number, seed: number, epoch: number): Int32Array {
  const rng = new Rng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/**
 * Loss and accuracy of `model` on every counted position of `data` (targets ≠ IGNORE), in batches.
 * @param data - TaskData, inputs/targets [S, T].
 * @param batchSize - rows per forward pass (default 256).
 * @example
 * ```ts
 * const { accuracy } = evaluate(model, tasks.keepNth({ n: 5, vocabSize: 16, T: 32, numSamples: 512, seed: 9 }));
 * ```
 */
export function evaluate(model: SequenceModel, data: TaskData, batchSize = 256): EvalResult {
  const total: LossStats = { lossSum: 0, correct: 0, count: 0 };
  for (const idx of evalBatches(data, batchSize)) {
    const { x, y } = batchTensors(data, idx);
    const logits = model.forward(x);
    const r = lossAndAccuracy(logits, y);
    tf.dispose([x, y, logits]);
    addStats(total, r);
  }
  return evalResult(total);
}

/**
 * {@link evaluate} reading each batch's statistics with `await data()`, the form GPU backends need (webgpu
 * in Node has no synchronous read-back); the same numbers on every backend.
 */
export async function evaluateAsync(model: SequenceModel, data: TaskData, batchSize = 256): Promise<EvalResult> {
  const total: LossStats = { lossSum: 0, correct: 0, count: 0 };
  for (const idx of evalBatches(data, batchSize)) {
    const { x, y } = batchTensors(data, idx);
    try {
      const logits = model.forward(x);
      try {
        addStats(total, await lossAndAccuracyAsync(logits, y));
      } finally {
        logits.dispose();
      }
    } finally {
      tf.dispose([x, y]);
    }
  }
  await gpuSync('evaluate');
  return evalResult(total);
}

/** Row indices of `data` in order, `batchSize` at a time (the last batch may be shorter). */
function* evalBatches(data: TaskData, batchSize: number): Generator<Int32Array> {
  for (let s = 0; s < data.numSamples; s += batchSize) {
    yield Int32Array.from({ length: Math.min(batchSize, data.numSamples - s) }, (_, i) => s + i);
  }
}

function addStats(total: LossStats, r: LossStats): void {
  total.lossSum += r.lossSum;
  total.correct += r.correct;
  total.count += r.count;
}

const evalResult = ({ lossSum, correct, count }: LossStats): EvalResult => ({
  loss: count ? lossSum / count : NaN,
  accuracy: count ? correct / count : NaN,
  correct,
  count,
});

const yieldToEventLoop = () => new Promise<void>((r) => setTimeout(r, 0));

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFileChecked(path, { ...fileReadCap(), what: 'trainer checkpoint' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Train `model` in place with the recipe of App. D.1: Adam, cosine annealing from η = lr to η_min = lrMin,
 * mini-batches of B rows per step (shuffled per epoch from `config.seed`), masked cross-entropy, early
 * stopping on validation loss / accuracy / wall-clock time. With `hooks.checkpointPath` it checkpoints
 * every epoch and on abort; with `hooks.resume` it continues such a checkpoint bit-for-bit.
 *
 * @param data - train and val TaskData; their vocabSize ≤ the model's, numClasses = the model's.
 * @throws ConfigError naming `trainConfig.<field>` or `data.train.<field>`; CheckpointError when a checkpoint
 *   to resume from belongs to another model, config or data.
 * @example
 * ```ts
 * const data = {
 *   train: tasks.keepNth({ n: 5, vocabSize: 16, T: 32, numSamples: 2048, seed: 1 }),
 *   val: tasks.keepNth({ n: 5, vocabSize: 16, T: 32, numSamples: 256, seed: 2 }),
 * };
 * const r = await train(model, data, { epochs: 10, batchSize: 32, lr: 0.03, lrMin: 1e-6, seed: 0, stopValAccuracy: 1 });
 * r.stopReason; // 'valAccuracy' once every validation position is right
 * ```
 */
export async function train(
  model: SequenceModel,
  data: { train: TaskData; val: TaskData },
  config: TrainConfig,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  object(data, 'data', 'an object {train, val} of TaskData');
  checkData(model, data.train, 'data.train');
  checkData(model, data.val, 'data.val');
  checkConfig(config, data.train);
  checkTrainingMemory(model, data, config);
  const B = config.batchSize;
  const stepsPerEpoch = config.stepsPerEpoch ?? Math.ceil(data.train.numSamples / B);
  const totalSteps = config.epochs * stepsPerEpoch;
  const adam = new Adam(model.params, config.adam);
  const fingerprint = { train: dataFingerprint(data.train), val: dataFingerprint(data.val) };
  const progress = new Progress(hooks.progress ?? 'auto');
  const label = hooks.label ?? model.kind;
  let state: TrainerState = {
    epoch: 0,
    stepInEpoch: 0,
    globalStep: 0,
    elapsedSeconds: 0,
    history: [],
    partial: { lossSum: 0, correct: 0, count: 0 },
  };
  let resumedFrom: TrainResult['resumedFrom'];
  try {
    // a process killed while writing left a temporary copy beside the file: free its space before anything else
    for (const p of [hooks.checkpointPath, hooks.metricsPath]) if (p) await removeStaleTempFiles(p).catch(() => []);
    if (hooks.resume && hooks.checkpointPath) {
      const bytes = await readIfExists(hooks.checkpointPath);
      if (bytes) {
        state = restoreCheckpoint(bytes, hooks.checkpointPath, model, adam, config, fingerprint, {
          epochs: config.epochs,
          stepsPerEpoch,
        });
        resumedFrom = { epoch: state.epoch, step: state.globalStep };
        progress.line(
          `${label}: resumed from ${hooks.checkpointPath} at epoch ${state.epoch}, step ${state.globalStep}`,
        );
        if (hooks.metricsPath)
          await writeFileAtomic(
            hooks.metricsPath,
            new TextEncoder().encode(state.history.map((h) => JSON.stringify(h) + '\n').join('')),
          );
      }
    }
    if (state.finished) return result(state.finished as StopReason);
    if (hooks.metricsPath && !resumedFrom) await writeFileAtomic(hooks.metricsPath, new Uint8Array());

    const started = Date.now() - state.elapsedSeconds * 1000;
    const elapsed = () => (Date.now() - started) / 1000;
    const save = async () => {
      state.elapsedSeconds = elapsed();
      if (hooks.checkpointPath)
        await writeFileAtomic(
          hooks.checkpointPath,
          await encodeCheckpointAsync(model, adam, state, config, fingerprint),
        );
    };
    const names = Object.keys(model.params);
    const vars = names.map((n) => model.params[n]);
    const nameOf = new Map(vars.map((v, i) => [v.name, names[i]]));

    while (state.epoch < config.epochs) {
      const order = epochOrder(data.train.numSamples, config.seed, state.epoch);
      while (state.stepInEpoch < stepsPerEpoch) {
        const k = state.stepInEpoch;
        const idx = Int32Array.from({ length: B }, (_, i) => order[(k * B + i) % order.length]);
        const lr = cosineLr(state.globalStep, totalSteps, config.lr, config.lrMin);
        const { x, y } = batchTensors(data.train, idx);
        let logits: Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          logits = tf.keep(model.forward(x));
          return maskedCrossEntropy(logits, y);
        }, vars);
        // loss, lossSum, correct, count: the step's one read-back (the progress display and the finiteness check)
        const packed = tf.tidy(() => tf.concat([value.reshape([1]), lossStatsTensor(logits!, y)]));
        const byName: Record<string, Tensor> = {};
        for (const [vn, g] of Object.entries(grads)) byName[nameOf.get(vn)!] = g;
        adam.apply(byName, lr);
        tf.dispose([x, y, logits!, value, ...Object.values(grads)]);
        let read: Float32Array;
        try {
          read = (await packed.data()) as Float32Array;
        } finally {
          packed.dispose();
        }
        await gpuSync('train step');
        const [loss, lossSum, correct, count] = read;
        const stats = { lossSum, correct, count };
        if (!Number.isFinite(loss)) {
          const got = `${config.lr} (loss became ${loss} at step ${state.globalStep})`;
          throw configError('trainConfig.lr', 'a learning rate that keeps the loss finite', got);
        }
        state.partial.lossSum += stats.lossSum;
        state.partial.correct += stats.correct;
        state.partial.count += stats.count;
        state.stepInEpoch += 1;
        state.globalStep += 1;
        hooks.onStep?.({ epoch: state.epoch + 1, step: state.globalStep, stepInEpoch: state.stepInEpoch, loss, lr });
        const perStep = elapsed() / Math.max(1, state.globalStep - (resumedFrom?.step ?? 0));
        const eta = trainEta(perStep, totalSteps - state.globalStep, elapsed(), config.maxSeconds);
        progress.step({
          label,
          epoch: state.epoch + 1,
          epochs: config.epochs,
          stepInEpoch: state.stepInEpoch,
          stepsPerEpoch,
          loss: state.partial.lossSum / state.partial.count,
          accuracy: state.partial.correct / state.partial.count,
          lr,
          etaSeconds: eta.seconds,
          etaCapped: eta.capped,
        });
        await yieldToEventLoop(); // lets SIGINT handlers and UIs run
        if (hooks.signal?.aborted) {
          await save();
          const where = hooks.checkpointPath ? ` to ${hooks.checkpointPath}` : '';
          progress.line(
            `${label}: interrupted at epoch ${state.epoch + 1}, step ${state.globalStep}; checkpoint saved${where}`,
          );
          return result('interrupted');
        }
        if (config.maxSeconds !== undefined && elapsed() >= config.maxSeconds) break;
      }
      const outOfTime = state.stepInEpoch < stepsPerEpoch;
      const val = await evaluateAsync(model, data.val, config.evalBatchSize);
      const m: EpochMetrics = {
        epoch: state.epoch + 1,
        step: state.globalStep,
        lr: cosineLr(state.globalStep, totalSteps, config.lr, config.lrMin),
        trainLoss: state.partial.lossSum / state.partial.count,
        trainAccuracy: state.partial.correct / state.partial.count,
        valLoss: val.loss,
        valAccuracy: val.accuracy,
        seconds: elapsed(),
      };
      state.history.push(m);
      state.epoch += 1;
      state.stepInEpoch = 0;
      state.partial = { lossSum: 0, correct: 0, count: 0 };
      progress.line(
        `${label} epoch ${m.epoch}/${config.epochs}: train loss ${m.trainLoss.toFixed(4)} acc ${m.trainAccuracy.toFixed(3)}` +
          ` · val loss ${m.valLoss.toFixed(4)} acc ${m.valAccuracy.toFixed(3)} · ${m.seconds.toFixed(0)} s`,
      );
      let stop: StopReason | undefined;
      if (outOfTime || (config.maxSeconds !== undefined && elapsed() >= config.maxSeconds)) stop = 'time';
      else if (config.stopValLoss !== undefined && m.valLoss < config.stopValLoss) stop = 'valLoss';
      else if (config.stopValAccuracy !== undefined && m.valAccuracy >= config.stopValAccuracy) stop = 'valAccuracy';
      else if (state.epoch >= config.epochs) stop = 'epochs';
      if (stop) state.finished = stop;
      await save();
      if (hooks.metricsPath) {
        const fs = await import('node:fs/promises');
        await fs.appendFile(hooks.metricsPath, JSON.stringify(m) + '\n');
      }
      await hooks.onEpochEnd?.(m);
      if (stop) return result(stop);
    }
    return result('epochs');
  } finally {
    adam.dispose();
  }

  function result(stopReason: StopReason): TrainResult {
    return {
      stopReason,
      epochs: state.epoch,
      steps: state.globalStep,
      seconds: state.elapsedSeconds,
      history: state.history,
      final: state.history[state.history.length - 1],
      resumedFrom,
    };
  }
}
