/**
 * S4D (Tab. 2, Δ^{S4D} = 1, fixed B and C): the LTI special case of S6.
 *   h_t = e^{A} ⊙ h_{t−1} + x̂_t ⊗ B ,   y_t = h_t C + D ⊙ x̂_t      (Eq. 6 / 14f with Δ ≡ 1)
 * Parameters: A_log [d, N] (A = −exp(A_log)), B [N] shared by all channels (as B^{S4D} ∈ R^N
 * in Tab. 2), C [d, N] per channel, D [d]. This lands the Tab. 1 / Tab. A.1 parameter counts.
 * Everything after the conv is the op `s4dInner` (../ops/s4dInner.ts); with internals the mixer runs its generic
 * composition and keeps the last state.
 */
import { tf } from '../backend.js';
import { init, type ParamSpec } from '../nn/params.js';
import type { S4DInnerArgs } from '../ops/core/types.js';
import { s4dInner, s4dParts } from '../ops/s4dInner.js';
import { applyConv1d, conv1dSpecs } from './conv.js';
import type { Mixer, MixerContext } from './types.js';

export const s4d: Mixer = {
  kind: 's4d',
  specs(ctx: MixerContext): ParamSpec[] {
    const { d, N, skip } = ctx;
    return [
      ...conv1dSpecs(ctx),
      { name: 'A_log', shape: [d, N], init: init.aLogS4DReal(d, N) },
      { name: 'B', shape: [N], init: init.constant([N], 1) },
      { name: 'C', shape: [d, N], init: init.normal([d, N], 1 / Math.sqrt(N)) },
      ...(skip ? [{ name: 'D', shape: [d], init: init.constant([d], 1) }] : []),
    ];
  },
  forward(p, x, ctx, withInternals) {
    const xhat = applyConv1d(p, x, ctx); // (14b)
    const args: S4DInnerArgs = {
      x: xhat,
      ALog: p('A_log'),
      B: p('B'),
      C: p('C'),
      D: ctx.skip ? p('D') : undefined,
      bDiscretization: ctx.disc,
      impl: ctx.impl,
    };
    if (!withInternals) return { y: s4dInner(args), xhat, internals: {} };
    const r = s4dParts(args, true);
    // clones: the caller disposes internals, and these must not be the parameters themselves
    const internals = { B: p('B').clone(), C: p('C').clone(), decay: tf.exp(r.A), lastState: r.lastState };
    return { y: r.y, xhat, internals };
  },
};
