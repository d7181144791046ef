/**
 * Adam (Kingma & Ba, 2014), the update of torch.optim.Adam:
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  p ← p − η_t · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * Written out instead of tf.train.adam for two reasons: the learning rate changes every step
 * (cosine annealing; tfjs optimizers have no schedule API), and a resumed run must continue
 * bit-for-bit — tf.train.adam recomputes β^t with pow() on restore, which rounds differently
 * from its running product. Here the bias corrections come from the step count in float64.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { numberWhere, object, positive } from '../validate.js';

/** Adam's constants (torch.optim.Adam's defaults). */
export interface AdamOptions {
  /** β₁ ∈ [0, 1), decay of the first moment (default 0.9). */
  beta1?: number;
  /** β₂ ∈ [0, 1), decay of the second moment (default 0.999). */
  beta2?: number;
  /** ε > 0 added to √v̂ (default 1e-8). */
  epsilon?: number;
}

/** β₁, β₂ ∈ [0, 1) and ε > 0 where given; errors name `<name>.beta1` etc. */
export function checkAdamOptions(o: AdamOptions, name: string): void {
  object(o, name, 'an object {beta1?, beta2?, epsilon?}');
  const beta = (x: number) => x >= 0 && x < 1;
  if (o.beta1 !== undefined) numberWhere(o.beta1, `${name}.beta1`, beta, 'a number in [0, 1)');
  if (o.beta2 !== undefined) numberWhere(o.beta2, `${name}.beta2`, beta, 'a number in [0, 1)');
  if (o.epsilon !== undefined) positive(o.epsilon, `${name}.epsilon`);
}

/**
 * Adam over named tfjs variables, the update of torch.optim.Adam with the learning rate given per step.
 * Moments m, v are variables of the parameters' shapes, keyed by parameter name (checkpointed by the trainer).
 *
 * @example
 * ```ts
 * const adam = new Adam(model.params);
 * adam.apply(gradsByName, cosineLr(step, total, 0.03, 1e-6));
 * adam.dispose();
 * ```
 */
export class Adam {
  /** Decay of the first moment (default 0.9). */
  readonly beta1: number;
  /** Decay of the second moment (default 0.999). */
  readonly beta2: number;
  /** Added to √v̂ (default 1e-8). */
  readonly epsilon: number;
  /** Number of updates applied so far. */
  step = 0;
  /** First moments m, one per parameter name. */
  readonly m: Record<string, Variable> = {};
  /** Second moments v, one per parameter name. */
  readonly v: Record<string, Variable> = {};

  /** @throws ConfigError naming `options.beta1` / `options.beta2` / `options.epsilon`. */

  constructor(
    /** The parameters it updates, by name (owned by the caller). */
    readonly params: Record<string, Variable>,
    o: AdamOptions = {},
  ) {
    checkAdamOptions(o, 'options');
    this.beta1 = o.beta1 ?? 0.9;
    this.beta2 = o.beta2 ?? 0.999;
    this.epsilon = o.epsilon ?? 1e-8;
    for (const [name, p] of Object.entries(params)) {
      this.m[name] = tf.tidy(() => tf.variable(tf.zerosLike(p), false)); // tidy frees the initial value
      this.v[name] = tf.tidy(() => tf.variable(tf.zerosLike(p), false));
    }
  }

  /** Apply one update with learning rate `lr` from gradients keyed by parameter name. */
  apply(grads: Record<string, Tensor>, lr: number): void {
    this.step += 1;
    const bc1 = 1 - this.beta1 ** this.step;
    const bc2 = 1 - this.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(this.params)) {
        const g = grads[name];
        if (!g) continue;
        const m = this.m[name].mul(this.beta1).add(g.mul(1 - this.beta1));
        const v = this.v[name].mul(this.beta2).add(g.square().mul(1 - this.beta2));
        this.m[name].assign(m);
        this.v[name].assign(v);
        p.assign(p.sub(m.div(bc1).div(v.div(bc2).sqrt().add(this.epsilon)).mul(lr)));
      }
    });
  }

  /** Free the moment variables (the parameters belong to the caller). */
  dispose(): void {
    tf.dispose([...Object.values(this.m), ...Object.values(this.v)]);
  }
}

/**
 * Cosine annealing (SGDR without restarts) as in App. D.1: η_s = η_min + ½(η − η_min)(1 + cos(π·s/total)),
 * at step s ∈ [0, total] (s > total stays at η_min; total ≤ 0 gives η_min).
 */
export function cosineLr(s: number, total: number, lr: number, lrMin: number): number {
  const frac = total <= 0 ? 1 : Math.min(1, s / total);
  return lrMin + 0.5 * (lr - lrMin) * (1 + Math.cos(Math.PI * frac));
}
