/**
 * `linear` on tfjs-backend-webgpu (its 'webgpu' kernel): y = x Wᵀ + b as one fused matMul program (W read
 * transposed in place, the bias added in the same program), and a backward of two matMuls and one column sum:
 *   ∂x = dy W,   ∂W = dyᵀ x,   ∂b = Σ_rows dy.
 * The generic kernel's explicit transposes (kept there for tfjs-wasm, whose matMul is slow with transpose flags)
 * would each be a program of their own here.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { grid, runProgram } from './program.js';

/** Invocations per workgroup of the column sum. */
const WG = 64;

/** Σ_r x[r, c] of a 2-D x [rows, cols]: one workgroup per column, a tree sum in workgroup memory. */
export function columnSum(x: Tensor): Tensor {
  const [rows, cols] = x.shape as [number, number];
  return runProgram(
    'ssmColumnSum',
    {
      outputShape: [cols],
      shaderKey: 'ssmColumnSum',
      dispatchLayout: { x: [0], y: [0] }, // main() takes no index: each workgroup finds its column
      dispatch: grid(cols),
      variableNames: ['x'],
      workgroupSize: [WG, 1, 1],
      uniforms: 'nRows : i32, nCols : i32,',
      getUserCode: () => `
var<workgroup> part : array<f32, ${WG}>;
fn main() {
  let col = i32(workgroupId.x + workgroupId.y * numWorkgroups.x);
  let t = i32(localId.x);
  var acc = 0.0;
  if (col < uniforms.nCols) {
    for (var r = t; r < uniforms.nRows; r += ${WG}) { acc += x[r * uniforms.nCols + col]; }
  }
  part[t] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}; s > 0; s = s / 2) {
    if (t < s) { part[t] += part[t + s]; }
    workgroupBarrier();
  }
  if (t == 0 && col < uniforms.nCols) { result[col] = part[0]; }
}
`,
    },
    [x],
    [
      { type: 'int32', data: [rows] },
      { type: 'int32', data: [cols] },
    ],
  );
}

/** x [M, in], W [out, in], b [out] or undefined → x Wᵀ + b [M, out], with the backward above. */
export function linear2d(x: Tensor, W: Tensor, b?: Tensor): Tensor {
  const op = tf.customGrad(((...args: unknown[]) => {
    const save = args[args.length - 1] as (ts: Tensor[]) => void;
    const [xs, Ws, bs] = args.slice(0, -1) as [Tensor, Tensor, Tensor | undefined];
    save([xs, Ws]);
    return {
      value: tf.fused.matMul({ a: xs, b: Ws, transposeB: true, bias: bs }),
      gradFunc: (dy: Tensor, [xv, Wv]: Tensor[]) => {
        const grads = [tf.matMul(dy, Wv), tf.matMul(dy, xv, true, false)];
        return b ? [...grads, columnSum(dy)] : grads;
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (b ? op(x, W, b) : op(x, W)) as Tensor;
}

/** The 'webgpu' kernel of `linear`: x [..., in], W [out, in], b [out] → [..., out]. */
export function webgpuLinear(x: Tensor, W: Tensor, b?: Tensor): Tensor {
  const [out, inp] = W.shape;
  return linear2d(x.reshape([-1, inp]), W, b).reshape([...x.shape.slice(0, -1), out]);
}
