/**
 * S6 — the Mamba mixer (Tab. 2 left column, Eq. 14b–14g), parameterised as mamba_ssm's
 * `Mamba` module with expand = 1: conv1d → x̂, x_proj → (Δ low-rank, B_t, C_t), dt_proj → Δ, A = −exp(A_log).
 *
 *   x̂_t = σ(conv1d(x)[t])                                   (14b, x̂ = x with the conv off)
 *   Δ_t = softplus(W_dt (W_x x̂_t)_{:R} + b_dt) ∈ R^d       (14c, rank-R as in mamba_ssm)
 *   B_t = (W_x x̂_t)_{R:R+N},  C_t = (W_x x̂_t)_{R+N:}   ∈ R^N (14d, 14e)
 *   h_t = e^{Δ_t ⊗ A} ⊙ h_{t−1} + (Δ_t ⊙ x̂_t) ⊗ B_t          (14f)
 *   y_t = h_t C_t + D ⊙ x̂_t                                (14g, plus mamba_ssm's D skip)
 *
 * Everything after the conv is the op `s6Inner` (../ops/s6Inner.ts); with internals the mixer runs its
 * generic composition and keeps Δ, B, C and the decays.
 */
import { tf } from '../backend.js';
import { init, linearSpecs, type ParamSpec } from '../nn/params.js';
import type { S6InnerArgs } from '../ops/core/types.js';
import { softplusTorch } from '../ops/index.js';
import { s6Inner, s6Parts } from '../ops/s6Inner.js';
import { applyConv1d, conv1dSpecs } from './conv.js';
import type { Mixer, MixerContext, MixerInternals } from './types.js';

export const s6: Mixer = {
  kind: 's6',
  specs(ctx: MixerContext): ParamSpec[] {
    const { d, N, dtRank: R, skip } = ctx;
    return [
      ...conv1dSpecs(ctx),
      { name: 'A_log', shape: [d, N], init: init.aLogS4DReal(d, N) },
      ...linearSpecs('x_proj', R + 2 * N, d, false),
      {
        name: 'dt_proj.weight',
        shape: [d, R],
        init: (rng) => rng.fill(d * R, (r) => r.range(-1 / Math.sqrt(R), 1 / Math.sqrt(R))),
      },
      { name: 'dt_proj.bias', shape: [d], init: init.dtBias([d]) },
      ...(skip ? [{ name: 'D', shape: [d], init: init.constant([d], 1) }] : []),
    ];
  },
  forward(p, x, ctx, withInternals) {
    const xhat = applyConv1d(p, x, ctx); // (14b)
    const args: S6InnerArgs = {
      x: xhat,
      xProjWeight: p('x_proj.weight'),
      dtProjWeight: p('dt_proj.weight'),
      dtProjBias: p('dt_proj.bias'),
      ALog: p('A_log'),
      D: ctx.skip ? p('D') : undefined,
      bDiscretization: ctx.disc,
      impl: ctx.impl,
    };
    if (!withInternals) return { y: s6Inner(args), xhat, internals: {} };
    const { d, N, dtRank: R } = ctx;
    const [b, L] = xhat.shape;
    const r = s6Parts(args, R, N, true);
    const dt = softplusTorch(r.deltaRaw.add(p('dt_proj.bias'))); // [b, L, d]
    const internals: MixerInternals = {
      delta: dt,
      B: r.B,
      C: r.C,
      decay: tf.exp(dt.reshape([b, L, d, 1]).mul(r.A)),
      lastState: r.lastState,
    };
    return { y: r.y, xhat, internals };
  },
};
