/**
 * Adam (Kingma & Ba, 2014), the update of torch.optim.Adam:
 *   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  p ← p − η_t · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * Written out instead of tf.train.adam for two reasons: the learning rate changes every step
 * (cosine annealing; tfjs optimizers have no schedule API), and a resumed run must continue
 * bit-for-bit — tf.train.adam recomputes β^t with pow() on restore, which rounds differently
 * from its running product. Here the bias corrections come from the step count in float64.
 * The update of one parameter is a kernel of the registry (ops/registry.ts): on host backends one pass over typed
 * arrays, on webgpu three elementwise WGSL programs (ops/kernels/webgpu/adam.ts), elsewhere ~12 tf ops.
 */
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { registerHostAndGeneric, registerKernel, resolveKernel } from '../ops/registry.js';
import { numberWhere, object, positive } from '../validate.js';
import { writableViews } from '../ops/kernels/cpu/hostMemory.js';
import { webgpuAdam, type AdamStep } from '../ops/kernels/webgpu/adam.js';

/** Updates p, m and v of one parameter from its gradient g. */
type AdamKernel = (p: Variable, g: Tensor, m: Variable, v: Variable, h: AdamStep) => void;

function genericAdam(p: Variable, g: Tensor, mv: Variable, vv: Variable, h: AdamStep): void {
  tf.tidy(() => {
    const m = mv.mul(h.beta1).add(g.mul(1 - h.beta1));
    const v = vv.mul(h.beta2).add(g.square().mul(1 - h.beta2));
    mv.assign(m);
    vv.assign(v);
    p.assign(p.sub(m.div(h.bc1).div(v.div(h.bc2).sqrt().add(h.epsilon)).mul(h.lr)));
  });
}

/**
 * One parameter's update in one pass over typed arrays, in torch's order (float64 arithmetic, float32 storage):
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − (η/(1−β₁ᵗ)) · m / (√v/√(1−β₂ᵗ) + ε).
 * p, m and v are written in place where the backend lets this process address a tensor's memory alone
 * (ops/kernels/cpu/hostMemory.ts), else assigned from new tensors.
 */
function hostAdam(p: Variable, g: Tensor, m: Variable, v: Variable, h: AdamStep): void {
  const { beta1: b1, beta2: b2, epsilon: eps } = h;
  const step = h.lr / h.bc1;
  const sq2 = Math.sqrt(h.bc2);
  const gs = g.dataSync() as Float32Array; // read before any view: a read may grow the wasm heap
  const views = writableViews([p, m, v]);
  const [ps, ms, vs] = views ?? [p, m, v].map((t) => new Float32Array(t.dataSync() as Float32Array));
  for (let i = 0; i < gs.length; i++) {
    const gi = gs[i];
    ms[i] = b1 * ms[i] + (1 - b1) * gi;
    vs[i] = b2 * vs[i] + (1 - b2) * gi * gi;
    ps[i] -= (step * ms[i]) / (Math.sqrt(vs[i]) / sq2 + eps);
  }
  if (!views) {
    tf.tidy(() => {
      p.assign(tf.tensor(ps, p.shape, 'float32'));
      m.assign(tf.tensor(ms, m.shape, 'float32'));
      v.assign(tf.tensor(vs, v.shape, 'float32'));
    });
  }
}

// generic: ~12 tf ops per parameter (any backend); host: one typed-array pass (cpu, wasm, tensorflow); webgpu: three
// WGSL programs (data stays on the device)
registerHostAndGeneric<AdamKernel>('adamUpdate', hostAdam, genericAdam);
registerKernel<AdamKernel>('adamUpdate', 'webgpu', webgpuAdam, { host: false });

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
    const h: AdamStep = {
      lr,
      bc1: 1 - this.beta1 ** this.step,
      bc2: 1 - this.beta2 ** this.step,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
    };
    const kernel = resolveKernel<AdamKernel>('adamUpdate').impl;
    for (const [name, p] of Object.entries(this.params)) {
      const g = grads[name];
      if (g) kernel(p, g, this.m[name], this.v[name], h);
    }
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
