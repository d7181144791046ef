/**
 * Proposition 1 (App. A.2, Eq. 24): a 1-layer Mamba with λ = 0 and B = 1, fed all-ones,
 * outputs absolute time h_t = Σ_{s ≤ t} 1 = t — so the time PE of Thm 1 can be produced by a
 * preceding layer instead of being given.
 *
 * Notation: vocabulary {0}, embedding e(0) = 1 (d = 1), N = 1, no conv, no gate, no skip.
 *   A_log = −∞ ⇒ A = −e^{A_log} = 0 (λ = 0);  x_proj rows (dtLow, B, C) = (0, 1, 1);
 *   dt_proj = 0 with bias softplus⁻¹(1) = ln(e − 1) ⇒ Δ_t = 1 (so Euler's B̄ = Δ·B = 1 too).
 *   h_t = e^{Δ·0} h_{t−1} + B̄·1  ⇒  h_t = t;   y_t = C_t h_t = t.
 */
import { MambaModel } from '../models/mamba.js';
import { tf } from '../backend.js';
import { softplusInverse } from '../math.js';
import { B_DISCRETIZATIONS, type BDiscretization } from '../ops/core/types.js';
import { int, oneOf } from '../validate.js';

/** Prop. 1's readout: h_t = t read off a real 1-layer model. */
export interface AbsoluteTime {
  /** t = 1..L */
  t: number[];
  /** h_t read from the model's mixer output y_t = C_t h_t (C ≡ 1). */
  h: number[];
  /** The last hidden state h_L from the model's internals. */
  lastState: number;
  /** The B discretisation the model ran with (all give B̄ = 1 here, since Δ = 1). */
  discretization: BDiscretization;
}

/**
 * Prop. 1 (Eq. 24): run the hand-set 1-layer MambaModel (λ = 0, B = C = 1, Δ = 1) on L all-ones inputs.
 * @param L - sequence length, an integer in [1, 65536].
 * @returns h_t for t = 1..L, equal to t (exactly in float32 up to 2^24).
 * @throws ConfigError naming `L` or `discretization`.
 * @example
 * ```ts
 * theory.recoverAbsoluteTime(5).h; // [1, 2, 3, 4, 5]
 * ```
 */
export function recoverAbsoluteTime(L: number, discretization: BDiscretization = 'euler'): AbsoluteTime {
  int(L, 'L', 1, 1 << 16);
  oneOf(discretization, 'discretization', B_DISCRETIZATIONS);
  const model = new MambaModel({
    vocabSize: 1,
    dModel: 1,
    dState: 1,
    mixer: 's6',
    conv: false,
    gate: false,
    skip: false,
    dtRank: 1,
    discretization,
  });
  try {
    model.setParam('embedding.weight', [1]);
    model.setParam('mixer.A_log', [-Infinity]); // λ = 0
    model.setParam('mixer.x_proj.weight', [0, 1, 1]); // dtLow = 0, B_t = x_t = 1, C_t = 1
    model.setParam('mixer.dt_proj.weight', [0]);
    model.setParam('mixer.dt_proj.bias', [softplusInverse(1)]); // Δ = softplus(ln(e − 1)) = 1
    const r = model.forwardWithInternals([new Array(L).fill(0)]);
    const y = Array.from(r.y.dataSync());
    const last = r.mixer.lastState!.dataSync()[0];
    tf.dispose(r as unknown as tf.TensorContainer);
    return { t: y.map((_, i) => i + 1), h: y, lastState: last, discretization };
  } finally {
    model.dispose();
  }
}
