/**
 * Running a WGSL program of these kernels through tfjs-backend-webgpu's `runWebGPUProgram` (the backend's program
 * interface, webgpu_program.d.ts): a fresh float32 output, inputs bound by their buffers, uniforms after tfjs's own.
 * Used by every WGSL kernel here (the scan, Adam, the output layer's loss, the embedding).
 */
import type { Tensor, TensorInfo } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { checkGpuRequest } from '../../../gpu.js';

/** The part of tfjs-backend-webgpu's `WebGPUProgram` these kernels fill in. */
export interface Program {
  outputShape: number[];
  shaderKey: string;
  /** `{ x: [0] }`: main(index) gets the flat invocation index; `{ x: [0], y: [0] }`: main() takes none. */
  dispatchLayout: { x: number[]; y?: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  /** Declares `uniforms.size`, the output's element count. */
  size?: boolean;
  uniforms?: string;
  getUserCode: () => string;
}

export type Uniform = { type: 'float32' | 'int32'; data: number[] };

interface WebGPUBackendLike {
  device: { limits: { maxComputeWorkgroupsPerDimension: number } };
  runWebGPUProgram(program: Program, inputs: TensorInfo[], outputDtype: 'float32', uniforms?: Uniform[]): TensorInfo;
}

const backend = () => tf.backend() as unknown as WebGPUBackendLike;

/** One class per program name: tfjs-backend-webgpu's tf.time() reports each program by its constructor's name. */
const classes = new Map<string, object>();
export function named<T extends object>(name: string, program: T): T {
  let proto = classes.get(name);
  if (proto === undefined) {
    proto = ({ [name]: class {} } as Record<string, new () => object>)[name].prototype as object;
    classes.set(name, proto);
  }
  return Object.setPrototypeOf(program, proto) as T;
}

/**
 * `groups` workgroups on a grid of at most maxComputeWorkgroupsPerDimension per axis (a 2-D grid beyond it); tfjs's
 * getGlobalIndex() folds the grid back into one index.
 */
export function grid(groups: number): [number, number, number] {
  const gx = Math.max(1, Math.min(groups, backend().device.limits.maxComputeWorkgroupsPerDimension));
  return [gx, Math.ceil(groups / gx), 1];
}

/**
 * Run `program` (named `name` in profiles and errors) over `inputs`, each bound flat as a buffer of its own size;
 * the result is a new tensor of `shape` (default the program's output shape). Refused before launch, as a
 * GpuError naming `name`, where a buffer exceeds what the device binds or the output exceeds GPU_MEMORY_BUDGET
 * (checkGpuRequest, which also throws a fault an earlier op left behind).
 */
export function runProgram(
  name: string,
  program: Program,
  inputs: Tensor[],
  uniforms: Uniform[] = [],
  shape?: number[],
): Tensor {
  const outBytes = 4 * program.outputShape.reduce((a, b) => a * b, 1);
  checkGpuRequest(name, outBytes, Math.max(outBytes, ...inputs.map((t) => 4 * t.size)));
  const flat = inputs.map((t): TensorInfo => ({ dataId: t.dataId, shape: [t.size], dtype: t.dtype }));
  const out = backend().runWebGPUProgram(named(name, program), flat, 'float32', uniforms);
  return tf.engine().makeTensorFromTensorInfo({ ...out, shape: shape ?? out.shape });
}
