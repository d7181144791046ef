/**
 * `mambaInner` — the 1-layer block's mixer with its short causal conv and its gate as one op, in the manner of
 * mamba_ssm's `mamba_inner_fn` / `mamba_inner_ref` (without in_proj and out_proj), and its float64 twin
 * `mambaInnerRef`:
 *
 *   x̂ = σ_c(conv1d(x))                                      (14b)
 *   y = S6(x̂)                                               (14c–14g, as s6Inner)
 *   out = y ⊙ σ_g(x W_gᵀ + b_g)                              (the gate)
 *
 * Shapes in {@link MambaInnerArgs}. Kernels: generic = causalConv1d + s6Inner's composition + linear, activation
 * and product (differentiable, any backend); host = one differentiable op over typed arrays with an analytic
 * backward (kernels/cpu/mambaInner.ts), under a gradient tape where the flag HOST_GRAD_KERNELS allows; webgpu = conv,
 * s6Inner's webgpu kernel (the WGSL scan in the model's layout) and the gate, a silu gate fused into the scan.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, fmtShape, shapeError } from '../errors.js';
import { activate, causalConv1d, causalConv1dRef64 } from './causalConv1d.js';
import type { BDiscretization, MambaInnerArgs } from './core/types.js';
import { assertTensor, expectShape } from './core/validate.js';
import { HOST_ACT } from './kernels/cpu/causalConv1d.js';
import { mambaInnerFused } from './kernels/cpu/mambaInner.js';
import { linear } from './linear.js';
import { registerHostAndGeneric, registerKernel, scanKernel } from './registry.js';
import { checkS6, type S6InnerArrays, s6InnerRef64, s6InnerWebgpu, s6Parts } from './s6Inner.js';

type MambaKernel = (a: MambaInnerArgs, R: number, N: number) => Tensor;

function genericMambaInner(a: MambaInnerArgs, R: number, N: number): Tensor {
  const xhat = causalConv1d(a.x, a.convWeight, a.convBias, a.convActivation);
  const y = s6Parts({ ...a, x: xhat }, R, N, false).y;
  return y.mul(activate(linear(a.x, a.gateWeight, a.gateBias), a.gateActivation));
}

registerHostAndGeneric<MambaKernel>('mambaInner', mambaInnerFused, genericMambaInner, { gradFlagged: true });

function webgpuMambaInner(a: MambaInnerArgs, R: number): Tensor {
  const xhat = causalConv1d(a.x, a.convWeight, a.convBias, a.convActivation);
  const gate = linear(a.x, a.gateWeight, a.gateBias);
  if (a.gateActivation === 'silu') return s6InnerWebgpu({ ...a, x: xhat }, R, gate); // y ⊙ silu(z) in the scan
  return s6InnerWebgpu({ ...a, x: xhat }, R).mul(activate(gate, a.gateActivation));
}

registerKernel<MambaKernel>('mambaInner', 'webgpu', webgpuMambaInner, { host: false });

/** Validate once; returns the Δ rank R and state size N. */
function checkMamba(a: MambaInnerArgs): { R: number; N: number } {
  const r = checkS6(a);
  const d = a.x.shape[2] as number;
  assertTensor(a.convWeight, 'convWeight', [2]);
  if (a.convWeight.shape[0] !== d || (a.convWeight.shape[1] as number) < 1)
    throw shapeError('convWeight', `[d = ${d}, k ≥ 1]`, fmtShape(a.convWeight.shape));
  if (a.convBias !== undefined) {
    assertTensor(a.convBias, 'convBias', [1]);
    expectShape(a.convBias, 'convBias', [d], '[d]');
  }
  assertTensor(a.gateWeight, 'gateWeight', [2]);
  expectShape(a.gateWeight, 'gateWeight', [d, d], '[d, d]');
  if (a.gateBias !== undefined) {
    assertTensor(a.gateBias, 'gateBias', [1]);
    expectShape(a.gateBias, 'gateBias', [d], '[d]');
  }
  for (const k of ['convActivation', 'gateActivation'] as const) {
    if (!(a[k] in HOST_ACT)) throw configError(k, Object.keys(HOST_ACT).join(' | '), JSON.stringify(a[k]));
  }
  return r;
}

/** The gated, convolved S6 mixer output [b, L, d] from the block input x [b, L, d]; shapes in the file comment. */
export function mambaInner(args: MambaInnerArgs): Tensor {
  const { R, N } = checkMamba(args);
  const kernel = scanKernel<MambaKernel>('mambaInner', args.impl).impl;
  return tf.tidy(() => kernel(args, R, N));
}

/** The Mamba inner op's arrays (any float precision), shaped as {@link MambaInnerArgs}. */
export interface MambaInnerArrays extends S6InnerArrays {
  convWeight: ArrayLike<number>;
  convBias?: ArrayLike<number>;
  gateWeight: ArrayLike<number>;
  gateBias?: ArrayLike<number>;
}

/** Reference twin of {@link mambaInner}: conv, recurrence and gate line by line in float64. Not differentiable. */
export function mambaInnerRef(args: MambaInnerArgs): Tensor {
  const { R, N } = checkMamba(args);
  const [b, L, d] = args.x.shape as [number, number, number];
  const r = (t: Tensor) => Float64Array.from(t.dataSync());
  const arrays: MambaInnerArrays = {
    x: r(args.x),
    xProjWeight: r(args.xProjWeight),
    dtProjWeight: r(args.dtProjWeight),
    dtProjBias: r(args.dtProjBias),
    ALog: r(args.ALog),
    D: args.D && r(args.D),
    convWeight: r(args.convWeight),
    convBias: args.convBias && r(args.convBias),
    gateWeight: r(args.gateWeight),
    gateBias: args.gateBias && r(args.gateBias),
  };
  const y = mambaInnerRef64({ b, L, d, R, N, k: args.convWeight.shape[1] as number }, arrays, args);
  return tf.tensor3d(Float32Array.from(y), [b, L, d]);
}

/** {@link mambaInnerRef} on arrays: out [b, L, d] in float64 (the twin finite differences are taken of). */
export function mambaInnerRef64(
  dims: { b: number; L: number; d: number; R: number; N: number; k: number },
  arrays: MambaInnerArrays,
  o: {
    convActivation: MambaInnerArgs['convActivation'];
    gateActivation: MambaInnerArgs['gateActivation'];
    bDiscretization?: BDiscretization;
  },
): Float64Array {
  const { b, L, d, k } = dims;
  const xhat = causalConv1dRef64([b, L, d, k], arrays.x, arrays.convWeight, arrays.convBias, o.convActivation);
  const y = s6InnerRef64(dims, { ...arrays, x: xhat }, o.bDiscretization ?? 'euler');
  const sg = HOST_ACT[o.gateActivation];
  const { x, gateWeight: Wg, gateBias: bg } = arrays;
  for (let i = 0; i < b * L; i++) {
    for (let c = 0; c < d; c++) {
      let acc = bg ? bg[c] : 0;
      for (let j = 0; j < d; j++) acc += Wg[c * d + j] * x[i * d + j];
      y[i * d + c] *= sg(acc);
    }
  }
  return y;
}
