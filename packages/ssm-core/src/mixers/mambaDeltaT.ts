/**
 * Mamba-Δ⊤ (Eq. 15): Δ varies along the state dimension N instead of the channels d.
 *   Δ_t = softplus(W_Δ x̂_t + b_Δ) ∈ R^N ,  B_t, C_t = W_x x̂_t ∈ R^N
 *   h_t = e^{A ⊙ (1_d ⊗ Δ_t)} ⊙ h_{t−1} + x̂_t ⊗ B_t                      (15; B discretisation
 *   y_t = h_t C_t + D ⊙ x̂_t                                                'identity' by default)
 * A full-rank Δ projection: Lem. 3's construction needs Δ to single out one state column.
 */
import { tf } from '../backend.js';
import { init, linearSpecs, type ParamSpec } from '../nn/params.js';
import { toChannelsFirst, toTimeFirst } from '../ops/core/layout.js';
import { softplusTorch } from '../ops/index.js';
import { linear } from '../ops/linear.js';
import { selectiveScan } from '../ops/selectiveScan.js';
import { applyConv1d, conv1dSpecs } from './conv.js';
import type { Mixer, MixerContext } from './types.js';

export const mambaDeltaT: Mixer = {
  kind: 'mambaDeltaT',
  specs(ctx: MixerContext): ParamSpec[] {
    const { d, N, skip } = ctx;
    return [
      ...conv1dSpecs(ctx),
      { name: 'A_log', shape: [d, N], init: init.aLogS4DReal(d, N) },
      ...linearSpecs('x_proj', 2 * N, d, false),
      { name: 'dt_proj.weight', shape: [N, d], init: init.uniformFanIn([N, d], d) },
      { name: 'dt_proj.bias', shape: [N], init: init.dtBias([N]) },
      ...(skip ? [{ name: 'D', shape: [d], init: init.constant([d], 1) }] : []),
    ];
  },
  forward(p, x, ctx, withInternals) {
    const { N } = ctx;
    const xhat = applyConv1d(p, x, ctx); // (14b)
    const [b, L] = xhat.shape;
    const BC = linear(xhat, p('x_proj.weight')); // [b, L, 2N]
    const B = BC.slice([0, 0, 0], [b, L, N]);
    const C = BC.slice([0, 0, N], [b, L, N]);
    const delta = linear(xhat, p('dt_proj.weight')); // [b, L, N]
    const A = tf.exp(p('A_log')).neg();
    const r = selectiveScan({
      u: toChannelsFirst(xhat),
      delta: toChannelsFirst(delta),
      deltaAlong: 'state',
      deltaBias: p('dt_proj.bias'),
      deltaSoftplus: true,
      A,
      B: toChannelsFirst(B),
      C: toChannelsFirst(C),
      D: ctx.skip ? p('D') : undefined,
      bDiscretization: ctx.disc,
      impl: ctx.impl,
      returnLastState: withInternals,
    });
    if (!withInternals) return { y: toTimeFirst(r.out), xhat, internals: {} };
    const dt = softplusTorch(delta.add(p('dt_proj.bias'))); // [b, L, N]
    return {
      y: toTimeFirst(r.out),
      xhat,
      internals: { delta: dt, B, C, decay: tf.exp(dt.reshape([b, L, 1, N]).mul(A)), lastState: r.lastState },
    };
  },
};
