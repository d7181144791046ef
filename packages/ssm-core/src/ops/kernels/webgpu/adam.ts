/**
 * Adam's update of one parameter on tfjs-backend-webgpu (the 'webgpu' kernel of `adamUpdate`, registered by
 * train/adam.ts): three elementwise WGSL programs run through the backend's `runWebGPUProgram`, each writing a
 * fresh output that the variable is then assigned, in torch's order and float32 arithmetic:
 *   m' = β₁m + (1−β₁)g;   v' = β₂v + (1−β₂)g²;   p' = p − (η/(1−β₁ᵗ)) · m' / (√v'/√(1−β₂ᵗ) + ε),
 * the third reading the stored m', v' (as the host kernel does). No buffer is written in place: a variable's buffer
 * may be shared with other tensors (tf.clone shares data ids).
 *
 * The step's constants are uniforms and the tensors are bound flat, so each program compiles to one pipeline for
 * every parameter shape and every step (two where a parameter needs the 2-D dispatch: more than 65535 workgroups).
 */
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { grid, runProgram, type Program } from './program.js';

/** One update's constants: learning rate, bias corrections 1 − βᵗ, β₁, β₂, ε. */
export interface AdamStep {
  lr: number;
  bc1: number;
  bc2: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Invocations per workgroup. */
const WG = 64;

/** The WGSL body of each program: `index` from tfjs's getGlobalIndex(), which folds a 2-D dispatch into one index. */
const SOURCES = {
  // inputs m, g; uniforms c0 = β₁, c1 = 1 − β₁
  adamMoment1: 'result[index] = uniforms.c0 * m[index] + uniforms.c1 * g[index];',
  // inputs v, g; uniforms c0 = β₂, c1 = 1 − β₂
  adamMoment2: 'let gi = g[index];\n    result[index] = uniforms.c0 * v[index] + uniforms.c1 * gi * gi;',
  // inputs p, m', v'; uniforms c0 = η/(1−β₁ᵗ), c1 = √(1−β₂ᵗ), c2 = ε
  adamParam: 'result[index] = p[index] - (uniforms.c0 * m[index]) / (sqrt(v[index]) / uniforms.c1 + uniforms.c2);',
} as const;
const NAMES = { adamMoment1: ['m', 'g'], adamMoment2: ['v', 'g'], adamParam: ['p', 'm', 'v'] } as const;

/**
 * Run elementwise program `name` over `inputs` (all of one size) with float uniforms `c`; the result has `inputs[0]`'s
 * shape. Every tensor is bound as a flat array (a TensorInfo of the same buffer, no tf op).
 */
function run(name: keyof typeof SOURCES, inputs: Tensor[], c: number[]): Tensor {
  const size = inputs[0].size;
  const program: Program = {
    outputShape: [size],
    shaderKey: name,
    dispatchLayout: { x: [0] },
    dispatch: grid(Math.ceil(size / WG)),
    variableNames: [...NAMES[name]],
    workgroupSize: [WG, 1, 1],
    size: true,
    uniforms: c.map((_, i) => `c${i} : f32,`).join(' '),
    getUserCode: () => `
fn main(index : i32) {
  if (index < uniforms.size) {
    ${SOURCES[name]}
  }
}
`,
  };
  const uniforms = c.map((v) => ({ type: 'float32' as const, data: [v] }));
  return runProgram(name, program, inputs, uniforms, inputs[0].shape);
}

/** One parameter's Adam update on the webgpu backend: three programs, p, m, v assigned fresh tensors. */
export function webgpuAdam(p: Variable, g: Tensor, m: Variable, v: Variable, h: AdamStep): void {
  tf.tidy(() => {
    const m1 = run('adamMoment1', [m, g], [h.beta1, 1 - h.beta1]);
    const v1 = run('adamMoment2', [v, g], [h.beta2, 1 - h.beta2]);
    const p1 = run('adamParam', [p, m1, v1], [h.lr / h.bc1, Math.sqrt(h.bc2), h.epsilon]);
    m.assign(m1);
    v.assign(v1);
    p.assign(p1);
  });
}
