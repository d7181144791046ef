/**
 * The causal depthwise conv of ../../causalConv1d.ts (Eq. 14b) on the host as ONE differentiable tfjs op: the
 * forward sums the k taps over typed arrays and keeps the pre-activation p and σ'(p) (the logistic function of silu and
 * sigmoid by the backend's kernel, vectorised on wasm); the backward is analytic,
 *
 *   ∂p = ∂y ⊙ σ'(p),  ∂W[c, j] = Σ_{b,t} ∂p[b, t, c] x[b, t − (k−1) + j, c],  ∂bias = Σ_{b,t} ∂p,
 *   ∂x[b, s, c] = Σ_j ∂p[b, s + (k−1) − j, c] W[c, j]   (terms past L dropped).
 *
 *   x [b, L, c], W [c, k], bias [c] → y [b, L, c]
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import type { Activation } from '../../core/types.js';
import { HOST_ACT } from './causalConv1d.js';

/** σ'(p) for each activation, as tfjs's gradients define it (relu: 1 for p > 0, else 0). */
export const HOST_ACT_GRAD: Record<Activation, (p: number) => number> = {
  silu: (p) => {
    const s = 1 / (1 + Math.exp(-p));
    return s * (1 + p * (1 - s));
  },
  relu: (p) => (p > 0 ? 1 : 0),
  sigmoid: (p) => {
    const s = 1 / (1 + Math.exp(-p));
    return s * (1 - s);
  },
  identity: () => 1,
};

/** Forward on host data: the pre-activation p and y = σ(p), both [b, L, c]. */
export function convForward(
  xv: Float32Array,
  w: Float32Array,
  bs: Float32Array | undefined,
  [b, L, c, k]: [number, number, number, number],
  act: Activation,
): { pre: Float32Array; y: Float32Array } {
  const f = HOST_ACT[act];
  const pre = new Float32Array(b * L * c);
  const y = new Float32Array(b * L * c);
  for (let r = 0, o = 0; r < b * L; r++, o += c) {
    const j0 = Math.max(0, k - 1 - (r % L)); // taps before t = 0 read the zero padding
    for (let ch = 0; ch < c; ch++) {
      let acc = bs ? bs[ch] : 0;
      for (let j = j0; j < k; j++) acc += w[ch * k + j] * xv[o + (j - (k - 1)) * c + ch];
      pre[o + ch] = acc;
      y[o + ch] = f(acc);
    }
  }
  return { pre, y };
}

/** Backward on host data: ∂x [b, L, c], ∂W [c, k], ∂bias [c] from ∂y and the forward's p. */
export function convBackward(
  g: Float32Array,
  pre: Float32Array,
  xv: Float32Array,
  w: Float32Array,
  [b, L, c, k]: [number, number, number, number],
  act: Activation,
): { gx: Float32Array; gW: Float32Array; gb: Float32Array } {
  const fp = HOST_ACT_GRAD[act];
  const gx = new Float32Array(xv.length);
  const gW = new Float64Array(c * k);
  const gb = new Float64Array(c);
  for (let r = 0, o = 0; r < b * L; r++, o += c) {
    const j0 = Math.max(0, k - 1 - (r % L));
    for (let ch = 0; ch < c; ch++) {
      const gv = g[o + ch] * fp(pre[o + ch]);
      if (gv === 0) continue;
      gb[ch] += gv;
      for (let j = j0; j < k; j++) {
        const xi = o + (j - (k - 1)) * c + ch;
        gW[ch * k + j] += gv * xv[xi];
        gx[xi] += gv * w[ch * k + j];
      }
    }
  }
  return { gx, gW: Float32Array.from(gW), gb: Float32Array.from(gb) };
}

/**
 * σ(p) and σ'(p) (as tfjs's gradients define it) for activation `act` over host data p; the logistic function s of
 * silu and sigmoid by the backend's kernel (vectorised on wasm): silu(p) = p·s, silu' = s·(1 + p·(1 − s)),
 * sigmoid' = s·(1 − s).
 */
export function activation(p: Float32Array, act: Activation): { y: Float32Array; grad: Float32Array } {
  const n = p.length;
  const y = new Float32Array(n);
  const grad = new Float32Array(n);
  if (act === 'identity') {
    y.set(p);
    grad.fill(1);
  } else if (act === 'relu') {
    for (let i = 0; i < n; i++) {
      y[i] = p[i] < 0 ? 0 : p[i];
      grad[i] = p[i] > 0 ? 1 : 0;
    }
  } else {
    const t = tf.tidy(() => tf.sigmoid(tf.tensor1d(p)));
    const sg = t.dataSync() as Float32Array;
    t.dispose();
    for (let i = 0; i < n; i++) {
      const s = sg[i];
      const v = p[i];
      y[i] = act === 'silu' ? v * s : s;
      grad[i] = act === 'silu' ? s * (1 + v * (1 - s)) : s * (1 - s);
    }
  }
  return { y, grad };
}

/** a ⊙ b. */
export function times(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * b[i];
  return out;
}

/** The conv's host kernel with its analytic gradient (arguments validated by the op). */
export function causalConv1dFused(x: Tensor, W: Tensor, bias: Tensor | undefined, act: Activation): Tensor {
  const [b, L, c] = x.shape as [number, number, number];
  const dims: [number, number, number, number] = [b, L, c, W.shape[1] as number];
  const inputs = bias ? [x, W, bias] : [x, W];
  const op = tf.customGrad(((...xs: unknown[]) => {
    void xs;
    const xv = x.dataSync() as Float32Array;
    const w = W.dataSync() as Float32Array;
    const { pre } = convForward(xv, w, bias?.dataSync() as Float32Array | undefined, dims, 'identity');
    const { y, grad } = activation(pre, act); // σ(pre) and σ'(pre)
    const gradFunc = (dy: Tensor) => {
      const gpre = times(dy.dataSync() as Float32Array, grad); // ∂pre = ∂y ⊙ σ'(pre)
      const r = convBackward(gpre, pre, xv, w, dims, 'identity');
      const grads: Tensor[] = [tf.tensor3d(r.gx, [b, L, c]), tf.tensor2d(r.gW, [c, dims[3]])];
      if (bias) grads.push(tf.tensor1d(r.gb));
      return grads;
    };
    return { value: tf.tensor3d(y, [b, L, c]), gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs) as Tensor;
}
