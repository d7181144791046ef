/**
 * The Mamba inner op (conv 14b, S6 14c–14g, gate) on the host as ONE differentiable tfjs op, as mamba_ssm's
 * `mamba_inner_fn`: the forward is the conv over typed arrays (causalConv1dGrad.ts), the S6 computation on its
 * output (s6InnerGrad.ts's s6Core: products, the WebAssembly scan) and the gate g = σ_g(x W_gᵀ + b_g); the
 * backward is analytic,
 *
 *   ∂y = ∂out ⊙ g,  ∂p_g = ∂out ⊙ y ⊙ σ_g'(p_g),  ∂W_g = ∂p_gᵀ x,  ∂b_g = Σ ∂p_g,
 *   ∂x = conv backward of S6's ∂x̂ + ∂p_g W_g.
 *
 *   x [b, L, d] (block input) → out [b, L, d]
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { isRecording } from '../../../policy.js';
import type { MambaInnerArgs } from '../../core/types.js';
import { assertFinite } from '../../core/validate.js';
import { activation, convBackward, convForward, times } from './causalConv1dGrad.js';
import { s6Core } from './s6InnerGrad.js';

/** A·B of host data [n, k]·[k, p] by the backend's matMul. */
function product(A: Float32Array, n: number, k: number, B: Float32Array, p: number): Float32Array {
  const t = tf.tidy(() => tf.matMul(tf.tensor2d(A, [n, k]), tf.tensor2d(B, [k, p])));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** a ⊙ b ⊙ c. */
function times3(a: Float32Array, b: Float32Array, c: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i] * c[i];
  return out;
}

/** ∂p_gᵀ [d, m] and the column sums Σ_i ∂p_g[i, ·] [d] of ∂p_g [m, d]. */
function transposeAndSum(gpg: Float32Array, m: number, d: number): { gpgT: Float32Array; gbg: Float64Array } {
  const gpgT = new Float32Array(d * m);
  const gbg = new Float64Array(d);
  for (let i = 0; i < m; i++) {
    for (let ch = 0; ch < d; ch++) {
      gpgT[ch * m + i] = gpg[i * d + ch];
      gbg[ch] += gpg[i * d + ch];
    }
  }
  return { gpgT, gbg };
}

/** The Mamba inner op's host kernel with its analytic gradient; `R`, `N` as validated by the op. */
export function mambaInnerFused(a: MambaInnerArgs, R: number, N: number): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const m = b * L;
  const k = a.convWeight.shape[1] as number;
  const dims: [number, number, number, number] = [b, L, d, k];
  const opt = (t?: Tensor) => (t ? [t] : []);
  const inputs = [
    a.x,
    a.xProjWeight,
    a.dtProjWeight,
    a.dtProjBias,
    a.ALog,
    ...opt(a.D),
    a.convWeight,
    ...opt(a.convBias),
    a.gateWeight,
    ...opt(a.gateBias),
  ];
  const recording = isRecording();
  const op = tf.customGrad(((...xs: unknown[]) => {
    void xs;
    const xv = a.x.dataSync() as Float32Array;
    const cw = a.convWeight.dataSync() as Float32Array;
    const cb = a.convBias?.dataSync() as Float32Array | undefined;
    const Wg = a.gateWeight.dataSync() as Float32Array; // [out, in]
    const bg = a.gateBias?.dataSync() as Float32Array | undefined;
    assertFinite(xv, 'x', [b, L, d]);
    assertFinite(cw, 'convWeight', [d, k]);
    if (cb) assertFinite(cb, 'convBias', [d]);
    assertFinite(Wg, 'gateWeight', [d, d]);
    if (bg) assertFinite(bg, 'gateBias', [d]);
    const pre = convForward(xv, cw, cb, dims, 'identity').pre; // the conv before σ (14b)
    const conv = activation(pre, a.convActivation); // x̂ = σ(pre), and σ'(pre)
    const core = s6Core(a, conv.y, 'conv(x)', R, N, recording); // y (14c–14g)
    const WgT = new Float32Array(d * d);
    for (let o = 0; o < d; o++) for (let j = 0; j < d; j++) WgT[j * d + o] = Wg[o * d + j];
    const pg = product(xv, m, d, WgT, d); // x W_gᵀ, then + b_g
    if (bg) for (let i = 0; i < m; i++) for (let c = 0; c < d; c++) pg[i * d + c] += bg[c];
    const gate = activation(pg, a.gateActivation); // g = σ_g(p_g), and σ_g'(p_g)
    const out = times(core.y, gate.y);
    const gradFunc = (dy: Tensor) => {
      const gOut = dy.dataSync() as Float32Array;
      const gy = times(gOut, gate.y);
      const gpg = times3(gOut, core.y, gate.grad);
      const s6 = core.backward(gy);
      const gpre = times(s6.gu, conv.grad); // ∂pre = ∂x̂ ⊙ σ'(pre)
      const c = convBackward(gpre, pre, xv, cw, dims, 'identity');
      const viaGate = product(gpg, m, d, Wg, d); // ∂p_g W_g
      const gx = c.gx;
      for (let i = 0; i < gx.length; i++) gx[i] += viaGate[i];
      const { gpgT, gbg } = transposeAndSum(gpg, m, d);
      return [
        tf.tensor3d(gx, [b, L, d]),
        ...s6.grads,
        tf.tensor2d(c.gW, [d, k]),
        ...(cb ? [tf.tensor1d(c.gb)] : []),
        tf.matMul(tf.tensor2d(gpgT, [d, m]), tf.tensor2d(xv, [m, d])), // ∂W_g = ∂p_gᵀ x
        ...(bg ? [tf.tensor1d(Float32Array.from(gbg))] : []),
      ];
    };
    return { value: tf.tensor3d(out, [b, L, d]), gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs) as Tensor;
}
