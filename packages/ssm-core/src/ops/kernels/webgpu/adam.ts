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
import type { Tensor, TensorInfo, Variable } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';

/** One update's constants: learning rate, bias corrections 1 − βᵗ, β₁, β₂, ε. */
export interface AdamStep {
  lr: number;
  bc1: number;
  bc2: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** The part of tfjs-backend-webgpu's `WebGPUProgram` these programs fill in (webgpu_program.d.ts). */
interface Program {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms: string;
  getUserCode: () => string;
}

interface WebGPUBackendLike {
  device: { limits: { maxComputeWorkgroupsPerDimension: number } };
  runWebGPUProgram(
    program: Program,
    inputs: TensorInfo[],
    outputDtype: 'float32',
    uniforms: { type: 'float32'; data: number[] }[],
  ): TensorInfo;
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

/** One class per program name: tfjs-backend-webgpu's tf.time() reports each program by its constructor's name. */
const classes = new Map<string, object>();
function named<T extends object>(name: string, program: T): T {
  let proto = classes.get(name);
  if (proto === undefined) {
    proto = ({ [name]: class {} } as Record<string, new () => object>)[name].prototype as object;
    classes.set(name, proto);
  }
  return Object.setPrototypeOf(program, proto) as T;
}

/**
 * Run elementwise program `name` over `inputs` (all of one size) with float uniforms `c`; the result has `inputs[0]`'s
 * shape. Every tensor is bound as a flat array (a TensorInfo of the same buffer, no tf op).
 */
function run(name: keyof typeof SOURCES, inputs: Tensor[], c: number[]): Tensor {
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const size = inputs[0].size;
  const groups = Math.ceil(size / WG);
  // ≤ maxComputeWorkgroupsPerDimension workgroups per axis: larger parameters take a 2-D grid
  const gx = Math.max(1, Math.min(groups, backend.device.limits.maxComputeWorkgroupsPerDimension));
  const prog: Program = named(name, {
    outputShape: [size],
    shaderKey: name,
    dispatchLayout: { x: [0] },
    dispatch: [gx, Math.ceil(groups / gx), 1],
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
  });
  const uniforms = c.map((v) => ({ type: 'float32' as const, data: [v] }));
  const flat = inputs.map((t): TensorInfo => ({ dataId: t.dataId, shape: [size], dtype: t.dtype }));
  const out = backend.runWebGPUProgram(prog, flat, 'float32', uniforms);
  return tf.engine().makeTensorFromTensorInfo({ ...out, shape: inputs[0].shape });
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
