/**
 * `linear` — y = x Wᵀ + b with torch's Linear layout, and its reference twin `linearRef`.
 *   x [..., in], W [out, in], b [out] → y [..., out]
 * Kernels: generic = one untransposed matMul (differentiable, any backend); host (inference only) = the same
 * product skipping W's exact zeros when W is mostly zero (the analytic constructions; kernels/cpu/sparseLinear.ts,
 * planned once per value of W), else the generic kernel; webgpu = one fused matMul reading W transposed, with the bias
 * (kernels/webgpu/linear.ts).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { fmtShape, shapeError } from '../errors.js';
import { allFinite } from '../validate.js';
import { assertTensor } from './core/validate.js';
import { sparseLinear, sparsePlan } from './kernels/cpu/sparseLinear.js';
import { webgpuLinear } from './kernels/webgpu/linear.js';
import { registerHostAndGeneric, registerKernel, resolveKernel } from './registry.js';

type LinearKernel = (x: Tensor, W: Tensor, b?: Tensor) => Tensor;

/**
 * 2-D a·b whose forward and backward only use untransposed matMuls (explicit transposes
 * instead): tfjs-wasm's matMul is 10–30× slower with transposeA/transposeB set, and the
 * built-in matMul gradient uses exactly those flags.  a [m, k], b [k, n] → [m, n].
 */
export function matMul2d(a: Tensor, b: Tensor): Tensor {
  const op = tf.customGrad(((x: Tensor, y: Tensor, save: (ts: Tensor[]) => void) => {
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: Tensor, [xs, ys]: Tensor[]) => [tf.matMul(dy, ys.transpose()), tf.matMul(xs.transpose(), dy)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as Tensor;
}

function genericLinear(x: Tensor, W: Tensor, b?: Tensor): Tensor {
  const [out, inp] = W.shape;
  const lead = x.shape.slice(0, -1);
  const y = matMul2d(x.reshape([-1, inp]), W.transpose());
  return (b ? y.add(b) : y).reshape([...lead, out]);
}

function hostLinear(x: Tensor, W: Tensor, b?: Tensor): Tensor {
  const plan = sparsePlan(W); // mostly-zero W: skip its zeros
  if (plan) {
    const [out, inp] = W.shape;
    const xs = x.dataSync() as Float32Array;
    if (allFinite(xs))
      return tf.tidy(() =>
        sparseLinear(plan, xs, xs.length / inp, b?.dataSync() as Float32Array | undefined).reshape([
          ...x.shape.slice(0, -1),
          out,
        ]),
      );
  }
  return genericLinear(x, W, b);
}

registerHostAndGeneric<LinearKernel>('linear', hostLinear, genericLinear, { inferenceOnly: true });
registerKernel<LinearKernel>('linear', 'webgpu', webgpuLinear, { host: false });

function checkLinear(x: Tensor, W: Tensor, b?: Tensor): void {
  assertTensor(x, 'x');
  assertTensor(W, 'W', [2]);
  if (x.rank < 1 || x.shape[x.rank - 1] !== W.shape[1])
    throw shapeError('x', `[..., in = ${W.shape[1]}] (W [out, in])`, fmtShape(x.shape));
  if (b !== undefined) {
    assertTensor(b, 'b', [1]);
    if (b.shape[0] !== W.shape[0]) throw shapeError('b', `[out = ${W.shape[0]}]`, fmtShape(b.shape));
  }
}

/** y = x Wᵀ + b.  x [..., in], W [out, in] (torch layout), b [out] → [..., out]. */
export function linear(x: Tensor, W: Tensor, b?: Tensor): Tensor {
  checkLinear(x, W, b);
  const kernel = resolveKernel<LinearKernel>('linear').impl;
  return tf.tidy(() => kernel(x, W, b));
}

/** Reference twin of {@link linear}: the dot products in float64, float32 tensor out. Not differentiable. */
export function linearRef(x: Tensor, W: Tensor, b?: Tensor): Tensor {
  checkLinear(x, W, b);
  const [out, inp] = W.shape;
  const xs = x.dataSync();
  const w = W.dataSync();
  const bs = b?.dataSync();
  const m = xs.length / inp;
  const y = new Float32Array(m * out);
  for (let r = 0; r < m; r++) {
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let i = 0; i < inp; i++) acc += w[o * inp + i] * xs[r * inp + i];
      y[r * out + o] = acc + (bs ? bs[o] : 0);
    }
  }
  return tf.tensor(y, [...x.shape.slice(0, -1), out], 'float32');
}
