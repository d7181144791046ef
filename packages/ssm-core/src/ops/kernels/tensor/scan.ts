/**
 * Selective scan from tf ops only (GPU path): a log-depth Hillis–Steele scan over time on
 * the [b, d, n, L] tensors a_t = exp(Δ̄_t A), b_t = B̄_t u_t, combining (a, b)∘(a', b') =
 * (a·a', a'·b + b'). ⌈log₂ L⌉ levels of elementwise ops; data never leaves the device;
 * gradients come from tfjs autodiff. O(b·d·n·L·log L) work, so it is the slow choice on CPU.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { broadcastParam } from '../../core/layout.js';
import type { ScanDims, SelectiveScanArgs } from '../../core/types.js';

/**
 * softplus(x) = max(x, 0) + log1p(e^{−|x|}): overflow-free, and equal in float32 to torch's
 * thresholded softplus (for x > 20 the second term is < 2.1e−9, below x's rounding).
 */
export const softplusTorch = (x: Tensor): Tensor => tf.relu(x).add(tf.log1p(tf.exp(tf.abs(x).neg())));

/** `f(x)` as a constant for autodiff (tfjs has no gradient for comparisons such as Less). */
const constantOf = (f: (x: Tensor) => Tensor) =>
  tf.customGrad(((x: Tensor) => ({ value: f(x), gradFunc: () => tf.zerosLike(x) })) as unknown as Parameters<
    typeof tf.customGrad
  >[0]);
const isSmall = constantOf((x) => x.abs().less(1e-2));

/** Δ·(e^{x} − 1)/x with x = ΔA, i.e. (e^{ΔA} − 1)/A: a 5-term series near 0, exp elsewhere. */
function zohCoefTensor(dt4: Tensor, x: Tensor, A4: Tensor): Tensor {
  const small = isSmall(x) as Tensor;
  const series = dt4.mul(
    tf
      .scalar(1)
      .add(x.mul(tf.scalar(1 / 2).add(x.mul(tf.scalar(1 / 6).add(x.mul(tf.scalar(1 / 24).add(x.div(120)))))))),
  );
  const Asafe = tf.where(small, tf.onesLike(x), broadcastParam(A4, x.shape));
  return tf.where(small, series, tf.exp(x).sub(1).div(Asafe));
}

/** Inclusive scan h_t = a_t h_{t−1} + b_t along the last axis of [b, d, n, L] tensors. */
export function hillisSteeleScan(a: Tensor, b: Tensor): Tensor {
  const L = a.shape[a.rank - 1];
  const pads = (k: number): [number, number][] => a.shape.map((_, i) => (i === a.rank - 1 ? [k, 0] : [0, 0]));
  const head = (x: Tensor, k: number) =>
    x.slice(
      x.shape.map(() => 0),
      x.shape.map((s, i) => (i === x.rank - 1 ? L - k : s)),
    );
  for (let k = 1; k < L; k *= 2) {
    b = b.add(a.mul(tf.pad(head(b, k), pads(k), 0)));
    if (2 * k < L) a = a.mul(tf.pad(head(a, k), pads(k), 1));
  }
  return b;
}

/**
 * GPU memory the tensor scan asks for at dims `s`, for the refusal before launch: every level of
 * {@link hillisSteeleScan} materialises about seven [b, d, n, L] tensors (slices, pads, products, sums of a and b)
 * that live until the enclosing tidy ends, and a gradient tape keeps them and their gradients for the backward:
 * (17·⌈log₂ L⌉ + 8) float32 tensors of b·d·n·L. This matches the peaks measured with tfjs-backend-webgpu on an
 * H200 for forward+backward: 965 MiB at [16,64,16,128] (formula 1016 MiB), 10.8 GiB at [16,64,16,1024]
 * (11.1 GiB), and the 172 GiB the device refused at [256,64,16,1024] (178 GiB).
 * @returns total bytes and the largest single buffer (one [b, d, n, L] float32 tensor).
 */
export function tensorScanBytes(s: Pick<ScanDims, 'batch' | 'dInner' | 'dState' | 'L'>): {
  bytes: number;
  largest: number;
} {
  const full = 4 * s.batch * s.dInner * s.dState * s.L;
  const levels = Math.ceil(Math.log2(Math.max(s.L, 1)));
  return { bytes: (17 * levels + 8) * full, largest: full };
}

export function tensorScan(s: ScanDims, x: SelectiveScanArgs): { out: Tensor; lastState: Tensor } {
  const { batch: b, dInner: D, dState: N, L } = s;
  return tf.tidy(() => {
    const ax = s.deltaAlong;
    let dt = x.delta;
    if (x.deltaBias)
      dt = dt.add(x.deltaBias.reshape(ax === 'channel' ? [1, D, 1] : ax === 'state' ? [1, N, 1] : [1, D, N, 1]));
    if (s.softplus) dt = softplusTorch(dt);
    const dt4 = ax === 'channel' ? dt.reshape([b, D, 1, L]) : ax === 'state' ? dt.reshape([b, 1, N, L]) : dt;
    const A4 = x.A.reshape([1, D, N, 1]);
    const dtA = tf.broadcastTo(dt4.mul(A4), [b, D, N, L]);
    const bc4 = (t: Tensor, fixed: boolean) => (fixed ? t.reshape([1, D, N, 1]) : t.reshape([b, 1, N, L]));
    const Bu = bc4(x.B, s.bFixed).mul(x.u.reshape([b, D, 1, L]));
    const coef = s.disc === 'euler' ? dt4 : s.disc === 'zoh' ? zohCoefTensor(dt4, dtA, A4) : tf.scalar(1);
    const h = hillisSteeleScan(tf.exp(dtA), tf.broadcastTo(coef.mul(Bu), [b, D, N, L])); // Eq. 14f for all t
    let y = h.mul(bc4(x.C, s.cFixed)).sum(2); // [b, D, L], y_t = h_t C_t
    if (x.D) y = y.add(x.u.mul(x.D.reshape([1, D, 1])));
    if (x.z) y = y.mul(x.z.mul(tf.sigmoid(x.z)));
    const lastState = h.slice([0, 0, 0, L - 1], [b, D, N, 1]).reshape([b, D, N]);
    return { out: y, lastState };
  });
}
