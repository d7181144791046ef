/**
 * Mamba-2 mixer, single head (Tab. 2 right column): scalar decay λ, scalar Δ_t, and three
 * independent short convolutions for x, B and C (Eq. 14b, 14d, 14e).
 *
 *   x̂_t = σ(conv_x(W_x x)[t]) ∈ R^d ,  B_t = σ(conv_B(W_B x)[t]) ∈ R^N ,  C_t = σ(conv_C(W_C x)[t]) ∈ R^N
 *   Δ_t = softplus(w_Δ·x_t + b_Δ) ∈ R                                        (14c: from x, not x̂)
 *   h_t = e^{Δ_t a} h_{t−1} + (Δ_t x̂_t) ⊗ B_t ,  a = −exp(A_log)            (14f)
 *   y_t = h_t C_t + D x̂_t                                                    (14g)
 * With the conv off, x̂, B, C are the plain projections (no σ). Everything after the convs is the op
 * `mamba2Inner` (../ops/mamba2Inner.ts).
 */
import { tf } from '../backend.js';
import { convSpecs, init, linearSpecs, type ParamSpec } from '../nn/params.js';
import { causalConv1d } from '../ops/causalConv1d.js';
import type { Mamba2InnerArgs } from '../ops/core/types.js';
import { softplusTorch } from '../ops/index.js';
import { linear } from '../ops/linear.js';
import { mamba2Inner, mamba2Parts } from '../ops/mamba2Inner.js';
import type { Mixer, MixerContext } from './types.js';

export const mamba2: Mixer = {
  kind: 'mamba2',
  specs({ d, N, skip, conv }: MixerContext): ParamSpec[] {
    const k = conv ? conv.kernelSize : 0;
    return [
      ...linearSpecs('in_proj_x', d, d, false),
      ...linearSpecs('in_proj_B', N, d, false),
      ...linearSpecs('in_proj_C', N, d, false),
      ...(conv ? [...convSpecs('conv_x', d, k), ...convSpecs('conv_B', N, k), ...convSpecs('conv_C', N, k)] : []),
      ...linearSpecs('dt_proj', 1, d, false),
      { name: 'dt_bias', shape: [1], init: init.dtBias([1]) },
      { name: 'A_log', shape: [1], init: (rng) => Float32Array.of(Math.log(rng.range(1, 16))) },
      ...(skip ? [{ name: 'D', shape: [1], init: init.constant([1], 1) }] : []),
    ];
  },
  forward(p, x, ctx, withInternals) {
    const { conv } = ctx;
    const [b, L] = x.shape;
    const branch = (name: string) => {
      const z = linear(x, p(`in_proj_${name}.weight`));
      return conv ? causalConv1d(z, p(`conv_${name}.weight`), p(`conv_${name}.bias`), conv.activation) : z;
    };
    const args: Mamba2InnerArgs = {
      x: branch('x'), // [b, L, d]
      B: branch('B'), // [b, L, N]
      C: branch('C'),
      dt: linear(x, p('dt_proj.weight')), // [b, L, 1]
      dtBias: p('dt_bias'),
      ALog: p('A_log'),
      D: ctx.skip ? p('D') : undefined,
      bDiscretization: ctx.disc,
      impl: ctx.impl,
    };
    if (!withInternals) return { y: mamba2Inner(args), xhat: x, internals: {} };
    const r = mamba2Parts(args, true);
    const dt = softplusTorch(args.dt.add(p('dt_bias'))).reshape([b, L]);
    const a = tf.exp(p('A_log')).neg(); // [1]
    return {
      y: r.y,
      xhat: x,
      internals: { delta: dt, B: args.B, C: args.C, decay: tf.exp(dt.mul(a)), lastState: r.lastState },
    };
  },
};
