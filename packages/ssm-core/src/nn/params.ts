/**
 * Named parameters: plain tf.Variables under mamba_ssm-style names ("mixer.A_log",
 * "mixer.x_proj.weight", ...), each with a shape and a seeded initialiser.
 */
import type { Rng } from '../random.js';

export interface ParamSpec {
  /** mamba_ssm's parameter name, e.g. 'mixer.A_log'. */
  name: string;
  /** Shape, torch layout (Linear weights [out, in]). */
  shape: number[];
  /** Values for a fresh model (row-major), drawn from the model's seeded Rng. */
  init: (rng: Rng) => Float32Array;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export const init = {
  /** torch nn.Linear / Conv1d default: U(−1/√fanIn, 1/√fanIn). */
  uniformFanIn: (shape: number[], fanIn: number) => (rng: Rng) => {
    const k = 1 / Math.sqrt(fanIn);
    return rng.fill(size(shape), (r) => r.range(-k, k));
  },
  normal:
    (shape: number[], std = 1) =>
    (rng: Rng) =>
      rng.fill(size(shape), (r) => std * r.normal()),
  constant: (shape: number[], v: number) => () => new Float32Array(size(shape)).fill(v),
  /** S4D-Real / mamba_ssm: A_log[d, n] = log(n + 1). */
  aLogS4DReal: (d: number, n: number) => () => {
    const out = new Float32Array(d * n);
    for (let i = 0; i < d; i++) for (let j = 0; j < n; j++) out[i * n + j] = Math.log(j + 1);
    return out;
  },
  /** mamba_ssm dt bias: softplus⁻¹(dt), dt = exp(U(log 1e−3, log 1e−1)) clamped at 1e−4. */
  dtBias:
    (shape: number[], dtMin = 1e-3, dtMax = 0.1) =>
    (rng: Rng) =>
      rng.fill(size(shape), (r) => {
        const dt = Math.max(1e-4, Math.exp(r.range(Math.log(dtMin), Math.log(dtMax))));
        return dt + Math.log(-Math.expm1(-dt));
      }),
};

export const linearSpecs = (name: string, out: number, inp: number, bias: boolean): ParamSpec[] => [
  { name: `${name}.weight`, shape: [out, inp], init: init.uniformFanIn([out, inp], inp) },
  ...(bias ? [{ name: `${name}.bias`, shape: [out], init: init.uniformFanIn([out], inp) }] : []),
];

export const convSpecs = (name: string, channels: number, k: number): ParamSpec[] => [
  { name: `${name}.weight`, shape: [channels, k], init: init.uniformFanIn([channels, k], k) },
  { name: `${name}.bias`, shape: [channels], init: init.uniformFanIn([channels], k) },
];
