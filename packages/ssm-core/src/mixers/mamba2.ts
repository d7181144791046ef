/**
 * Mamba-2 mixer, single head (Tab. 2 right column): scalar decay λ, scalar Δ_t, and three
 * independent short convolutions for x, B and C (Eq. 14b, 14d, 14e).
 *
 *   x̂_t = σ(conv_x(W_x x)[t]) ∈ R^d ,  B_t = σ(conv_B(W_B x)[t]) ∈ R^N ,  C_t = σ(conv_C(W_C x)[t]) ∈ R^N
 *   Δ_t = softplus(w_Δ·x_t + b_Δ) ∈ R                                        (14c: from x, not x̂)
 *   h_t = e^{Δ_t a} h_{t−1} + (Δ_t x̂_t) ⊗ B_t ,  a = −exp(A_log)            (14f)
 *   y_t = h_t C_t + D x̂_t                                                    (14g)
 * With the conv off, x̂, B, C are the plain projections (no σ).
 */
import { tf } from '../backend.js';
import { causalConv1d, linear, toChannelsFirst, toTimeFirst } from '../nn/layers.js';
import { convSpecs, init, linearSpecs, type ParamSpec } from '../nn/params.js';
import { selectiveScan } from '../scan/selectiveScan.js';
import { softplusTorch } from '../scan/tensorScan.js';
import { mamba2HostForward } from './mamba2Host.js';
import { hostScanApplies } from './s6Host.js';
import type { Mixer, MixerContext } from './types.js';

export const mamba2: Mixer = {
  kind: 'mamba2',
  ownsConv: true,
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
  forward(p, _xhat, x, ctx, withInternals) {
    const { d, N, conv } = ctx;
    const [b, L] = x.shape;
    const branch = (name: string) => {
      const z = linear(x, p(`in_proj_${name}.weight`));
      return conv ? causalConv1d(z, p(`conv_${name}.weight`), p(`conv_${name}.bias`), conv.activation) : z;
    };
    const xu = branch('x'); // [b, L, d]
    const B = branch('B'); // [b, L, N]
    const C = branch('C');
    const dtRaw = linear(x, p('dt_proj.weight')); // [b, L, 1]
    if (!withInternals && hostScanApplies(ctx)) return { y: mamba2HostForward(p, xu, B, C, dtRaw, ctx), internals: {} }; // same math, fewer copies
    const a = tf.exp(p('A_log')).neg(); // [1]
    const r = selectiveScan({
      u: toChannelsFirst(xu),
      delta: toChannelsFirst(tf.broadcastTo(dtRaw, [b, L, d])),
      deltaBias: tf.broadcastTo(p('dt_bias'), [d]),
      deltaSoftplus: true,
      A: tf.broadcastTo(a.reshape([1, 1]), [d, N]),
      B: toChannelsFirst(B),
      C: toChannelsFirst(C),
      D: ctx.skip ? tf.broadcastTo(p('D'), [d]) : undefined,
      bDiscretization: ctx.disc, impl: ctx.impl, returnLastState: withInternals,
    });
    if (!withInternals) return { y: toTimeFirst(r.out), internals: {} };
    const dt = softplusTorch(dtRaw.add(p('dt_bias'))).reshape([b, L]);
    return { y: toTimeFirst(r.out), internals: { delta: dt, B, C, decay: tf.exp(dt.mul(a)), lastState: r.lastState } };
  },
};
