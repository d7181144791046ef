/**
 * Linear attention as the Λ = I special case of the SSM (Sec. 3: "Λ_t ≡ I"), without a
 * feature map or normaliser: keys B_t = W_k x̂_t, queries C_t = W_q x̂_t, values x̂_t.
 *   h_t = h_{t−1} + x̂_t ⊗ B_t ,   y_t = h_t C_t = Σ_{s ≤ t} (C_t·B_s) x̂_s
 */
import { tf } from '../backend.js';
import { linearSpecs, type ParamSpec } from '../nn/params.js';
import { toChannelsFirst, toTimeFirst } from '../ops/core/layout.js';
import { linear } from '../ops/linear.js';
import { selectiveScan } from '../ops/selectiveScan.js';
import { applyConv1d, conv1dSpecs } from './conv.js';
import type { Mixer, MixerContext } from './types.js';

export const linearAttention: Mixer = {
  kind: 'linearAttention',
  specs(ctx: MixerContext): ParamSpec[] {
    return [...conv1dSpecs(ctx), ...linearSpecs('x_proj', 2 * ctx.N, ctx.d, false)];
  },
  forward(p, x, ctx, withInternals) {
    const { d, N } = ctx;
    const xhat = applyConv1d(p, x, ctx); // (14b)
    const [b, L] = xhat.shape;
    const BC = linear(xhat, p('x_proj.weight'));
    const B = BC.slice([0, 0, 0], [b, L, N]);
    const C = BC.slice([0, 0, N], [b, L, N]);
    const r = selectiveScan({
      u: toChannelsFirst(xhat),
      delta: tf.ones([b, d, L]),
      A: tf.zeros([d, N]),
      B: toChannelsFirst(B),
      C: toChannelsFirst(C),
      bDiscretization: 'identity',
      impl: ctx.impl,
      returnLastState: withInternals,
    });
    return { y: toTimeFirst(r.out), xhat, internals: withInternals ? { B, C, lastState: r.lastState } : {} };
  },
};
