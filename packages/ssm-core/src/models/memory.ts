/**
 * Memory estimates of models, forward passes and training steps, computed from configs alone so that a size
 * too large for the budget (policy.ts: MEMORY_BUDGET) is refused before anything is allocated.
 *
 * The estimates are lower bounds: they count only tensors a pass certainly holds at once — per position of the
 * b·L positions, the embedding x and the block output y [d], the logits [numClasses], the conv output and the
 * gate [d] when present, the attention row [heads·L] of the Transformer, and in training (a gradient tape
 * records) the SSM states [d·N] the backward needs. Peaks measured with tf.profile on wasm were 1.6–7× these.
 */
import { fmtShape } from '../errors.js';
import type { ParamSpec } from '../nn/params.js';
import { checkMemory, isRecording } from '../policy.js';

const F32 = 4;

/** Scalar parameters of `specs`. */
export const specsParamCount = (specs: readonly ParamSpec[]): number =>
  specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);

/** The size fields a forward estimate reads from a resolved config (Mamba's or the Transformer's). */
interface SizeFields {
  dModel?: number;
  numClasses?: number;
  dState?: number;
  numHeads?: number;
  conv?: unknown;
  gate?: unknown;
}

/**
 * Floats a forward pass of a `kind` model with (resolved) `config` holds per position of a length-`L` input, at
 * least; `training`: with a gradient tape recording. Unknown kinds count the logits only.
 */
export function floatsPerPosition(kind: string, config: object, L: number, training: boolean): number {
  const c = config as SizeFields;
  const d = c.dModel ?? 0;
  const C = c.numClasses ?? 0;
  if (kind === 'mamba') return 2 * d + C + (c.conv ? d : 0) + (c.gate ? d : 0) + (training ? d * (c.dState ?? 0) : 0);
  if (kind === 'transformer') return 2 * d + C + (c.numHeads ?? 1) * L * (training ? 2 : 1);
  return C;
}

/** Bytes of a forward pass on a [b, L] input (a lower bound; see the module comment). */
export function forwardBytes(kind: string, config: object, b: number, L: number, training: boolean): number {
  return F32 * b * L * floatsPerPosition(kind, config, L, training);
}

/**
 * Refuse a forward pass on tokens [b, L] whose activations would exceed the memory budget: a MemoryError naming
 * `tokens` with its shape. Training (a recording tape) counts what the backward keeps.
 */
export function checkForwardMemory(kind: string, config: object, b: number, L: number): void {
  const training = isRecording();
  checkMemory(forwardBytes(kind, config, b, L, training), 'tokens', `shape ${fmtShape([b, L])}`, {
    what: `the ${training ? 'training ' : ''}forward pass of this ${kind} model`,
    tensors: true,
    hint: 'pass fewer rows or shorter sequences',
  });
}

/**
 * Refuse building a model whose parameters would exceed the memory budget: a MemoryError naming `argument`
 * (default `config`) with the config's sizes and the largest parameter.
 */
export function checkParamMemory(specs: readonly ParamSpec[], config: object, argument = 'config'): void {
  const count = specsParamCount(specs);
  if (!(count > 0)) return;
  const largest = specs.reduce((a, s) => (specsParamCount([s]) > specsParamCount([a]) ? s : a));
  const sizes = Object.entries(config)
    .filter(([k, v]) => typeof v === 'number' && k !== 'seed')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  checkMemory(F32 * count, argument, `{${sizes}}`, {
    what: `its ${count} float32 parameters (largest: ${largest.name} ${fmtShape(largest.shape)})`,
    tensors: true,
  });
}

/** A lower bound of what training a model needs at once, in bytes, by part. */
export interface TrainingMemory {
  /** The weights. */
  params: number;
  /** Their gradients and Adam's two moments. */
  optimizer: number;
  /** The larger of a training step's activations (batchSize rows) and a validation pass's (evalBatchSize rows). */
  activations: number;
  /** Whether `activations` is the training step's (else the validation pass's). */
  activationsFrom: 'batch' | 'eval';
  /** params + optimizer + activations. */
  total: number;
}

/** {@link TrainingMemory} of a model of `kind` and resolved `config` with `paramCount` parameters on length-T rows. */
export function trainingMemory(
  kind: string,
  config: object,
  paramCount: number,
  T: number,
  batchSize: number,
  evalBatchSize = 256,
): TrainingMemory {
  const params = F32 * paramCount;
  const optimizer = 3 * params;
  const step = forwardBytes(kind, config, batchSize, T, true);
  const evalPass = forwardBytes(kind, config, evalBatchSize, T, false);
  const activations = Math.max(step, evalPass);
  return {
    params,
    optimizer,
    activations,
    activationsFrom: step >= evalPass ? 'batch' : 'eval',
    total: params + optimizer + activations,
  };
}
