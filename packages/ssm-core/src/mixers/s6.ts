/**
 * S6 — the Mamba mixer (Tab. 2 left column, Eq. 14c–14g), parameterised as mamba_ssm's
 * `Mamba` module with expand = 1: x_proj → (Δ low-rank, B_t, C_t), dt_proj → Δ, A = −exp(A_log).
 *
 *   Δ_t = softplus(W_dt (W_x x̂_t)_{:R} + b_dt) ∈ R^d       (14c, rank-R as in mamba_ssm)
 *   B_t = (W_x x̂_t)_{R:R+N},  C_t = (W_x x̂_t)_{R+N:}   ∈ R^N (14d, 14e)
 *   h_t = e^{Δ_t ⊗ A} ⊙ h_{t−1} + (Δ_t ⊙ x̂_t) ⊗ B_t          (14f)
 *   y_t = h_t C_t + D ⊙ x̂_t                                (14g, plus mamba_ssm's D skip)
 */
import type { Tensor } from '@tensorflow/tfjs';
import { tf } from '../backend.js';
import { linear, toChannelsFirst, toTimeFirst } from '../nn/layers.js';
import { init, linearSpecs, type ParamSpec } from '../nn/params.js';
import { selectiveScan } from '../scan/selectiveScan.js';
import { softplusTorch } from '../scan/tensorScan.js';
import { hostScanApplies, s6HostForward } from './s6Host.js';
import type { Mixer, MixerContext, MixerInternals } from './types.js';

export const s6: Mixer = {
  kind: 's6',
  ownsConv: false,
  specs({ d, N, dtRank: R, skip }: MixerContext): ParamSpec[] {
    return [
      { name: 'A_log', shape: [d, N], init: init.aLogS4DReal(d, N) },
      ...linearSpecs('x_proj', R + 2 * N, d, false),
      { name: 'dt_proj.weight', shape: [d, R], init: (rng) => rng.fill(d * R, (r) => r.range(-1 / Math.sqrt(R), 1 / Math.sqrt(R))) },
      { name: 'dt_proj.bias', shape: [d], init: init.dtBias([d]) },
      ...(skip ? [{ name: 'D', shape: [d], init: init.constant([d], 1) }] : []),
    ];
  },
  forward(p, xhat, _x, ctx, withInternals) {
    if (!withInternals && hostScanApplies(ctx)) return { y: s6HostForward(p, xhat, ctx), internals: {} }; // same math, fewer copies
    const { d, N, dtRank: R } = ctx;
    const [b, L] = xhat.shape;
    const xdbl = linear(xhat, p('x_proj.weight')); // [b, L, R + 2N]
    const dtLow = xdbl.slice([0, 0, 0], [b, L, R]);
    const B = xdbl.slice([0, 0, R], [b, L, N]);
    const C = xdbl.slice([0, 0, R + N], [b, L, N]);
    const delta = linear(dtLow, p('dt_proj.weight')); // [b, L, d], bias added inside the scan
    const A = tf.exp(p('A_log')).neg();
    const r = selectiveScan({
      u: toChannelsFirst(xhat), delta: toChannelsFirst(delta), A, B: toChannelsFirst(B), C: toChannelsFirst(C),
      D: ctx.skip ? p('D') : undefined, deltaBias: p('dt_proj.bias'), deltaSoftplus: true,
      bDiscretization: ctx.disc, impl: ctx.impl, returnLastState: withInternals,
    });
    const internals: MixerInternals = {};
    if (withInternals) {
      const dt = softplusTorch(delta.add(p('dt_proj.bias'))); // [b, L, d]
      Object.assign(internals, { delta: dt, B, C, decay: tf.exp(dt.reshape([b, L, d, 1]).mul(A)), lastState: r.lastState });
    }
    return { y: toTimeFirst(r.out), internals };
  },
};
