/**
 * What every ssm-core model shares: named float32 parameters created from ParamSpecs with a
 * seeded Rng (backend-independent), set by hand with checks, counted, and saved/loaded as
 * safetensors (all-or-nothing). Subclasses add `kind` and `forward`.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, fmtShape, shapeError, valueError } from '../errors.js';
import type { ParamSpec } from '../nn/params.js';
import { Rng } from '../random.js';
import type { SequenceModel, TokenInput } from './types.js';
import { checkForwardMemory, checkParamMemory } from './memory.js';
import { loadParamsStrict, paramsToSafetensors, shapesEqual } from './weights.js';

export abstract class ParamModel<
  C extends { vocabSize: number; numClasses: number; seed: number },
> implements SequenceModel {
  abstract readonly kind: string;
  readonly params: Record<string, tf.Variable> = {};

  constructor(
    readonly config: C,
    specs: ParamSpec[],
  ) {
    checkParamMemory(specs, config); // before any weight is allocated
    const rng = new Rng(config.seed);
    for (const s of specs) {
      this.params[s.name] = tf.tidy(() => tf.variable(tf.tensor(s.init(rng), s.shape, 'float32'), true)); // tidy frees the initial value
    }
  }

  abstract forward(tokens: TokenInput): Tensor;

  /** Refuse a forward pass on tokens [b, L] whose activations would exceed the memory budget (see ./memory.ts). */
  protected readonly checkInputSize = (b: number, L: number): void => checkForwardMemory(this.kind, this.config, b, L);

  paramNames(): string[] {
    return Object.keys(this.params);
  }

  getParam(name: string): tf.Variable {
    const v = this.params[name];
    if (!v) throw configError('name', `one of ${this.paramNames().join(', ')}`, JSON.stringify(name));
    return v;
  }

  /** Overwrite a parameter by hand (the analytic constructions do this). NaN is refused; ±∞ allowed (A_log = −∞ ⇒ Λ = 0). */
  setParam(name: string, value: Tensor | ArrayLike<number> | number[][] | number[][][]): void {
    const v = this.getParam(name);
    const t = value instanceof tf.Tensor ? value.cast('float32') : tf.tensor(value as number[], undefined, 'float32');
    try {
      if (
        t.size !== v.size ||
        ((value instanceof tf.Tensor || Array.isArray((value as number[][])[0])) && !shapesEqual(t.shape, v.shape))
      ) {
        throw shapeError(`params["${name}"]`, fmtShape(v.shape), fmtShape(t.shape));
      }
      const data = t.dataSync();
      for (let i = 0; i < data.length; i++)
        if (Number.isNaN(data[i])) throw valueError(`params["${name}"]`, 'no NaN', `NaN at flat index ${i}`);
      tf.tidy(() => v.assign(t.reshape(v.shape)));
    } finally {
      if (t !== value) t.dispose();
    }
  }

  /** Total number of scalar parameters. */
  numParams(): number {
    return Object.values(this.params).reduce((a, v) => a + v.size, 0);
  }

  /** Parameter counts per group (`group(name)` names the group of each parameter), plus `total`. */
  protected countBy<G extends string>(groups: readonly G[], group: (name: string) => G): Record<G | 'total', number> {
    const c = Object.fromEntries([...groups, 'total'].map((g) => [g, 0])) as Record<G | 'total', number>;
    for (const [name, v] of Object.entries(this.params)) {
      c[group(name)] += v.size;
      c.total += v.size;
    }
    return c;
  }

  dispose(): void {
    tf.dispose(Object.values(this.params));
  }

  /** All weights as safetensors bytes; the resolved config travels in `__metadata__.config`, the kind in `model`. */
  toSafetensors(extraMetadata: Record<string, string> = {}): Uint8Array {
    return paramsToSafetensors(this.params, {
      ...extraMetadata,
      model: this.kind,
      config: JSON.stringify(this.config),
    });
  }

  /**
   * Load weights saved by `toSafetensors` (or converted from PyTorch with the same names).
   * All-or-nothing: names, shapes and values (no NaN, no +∞; −∞ is kept, A_log = −∞ ⇒ Λ = 0) are checked before
   * any parameter changes.
   */
  loadSafetensors(bytes: Uint8Array, source = 'checkpoint'): void {
    loadParamsStrict(this.params, bytes, source);
  }
}

/** `model` with the weights in `bytes` loaded, or disposed and the error rethrown. */
export function withWeights<M extends SequenceModel>(model: M, bytes: Uint8Array, source: string): M {
  try {
    model.loadSafetensors(bytes, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}
