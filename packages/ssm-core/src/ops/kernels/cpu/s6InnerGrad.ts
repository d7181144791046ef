/**
 * S6 inner op (Eq. 14c–14g) on the host as ONE differentiable tfjs op, in the manner of mamba_ssm's
 * `mamba_inner_fn`: the forward runs over typed arrays — x_proj and dt_proj products, B_t and C_t read straight out
 * of x_proj's rows, the scan (with dt_proj's bias, softplus and the D skip) by the WebAssembly SIMD kernel where it
 * applies, else by the JS kernel (fusedScan.ts's hostScanForward) — and the backward is analytic: the scan's backward
 * from the same kernel, then the products' gradients
 *
 *   ∂x_dbl = [∂Δ_low | ∂B | ∂C],  ∂Δ_low = ∂Δ_raw W_dt,  ∂W_dt = ∂Δ_rawᵀ Δ_low,  ∂b_dt = Σ ∂Δ_raw
 *   ∂x = ∂u + ∂x_dbl W_x,  ∂W_x = ∂x_dblᵀ x,  ∂A_log = ∂A ⊙ A  (A = −exp(A_log)).
 *
 * Shapes (m = b·L rows in the model's time-major layout): x [m, d], x_dbl [m, R + 2N]. The WebAssembly scan takes
 * u, Δ_raw [b, L, d] and x_dbl's rows as they are (wasmScan.ts's wasmScanForwardTimeMajor: the module transposes u,
 * Δ_raw, y and the gradients, and the backward reuses the forward's set-up); the JS scan takes the reference layout
 * u, Δ_raw [b, d, L], B, C [b, N, L].
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { isRecording } from '../../../policy.js';
import type { S6InnerArgs, ScanArrays, ScanDims } from '../../core/types.js';
import { assertFinite } from '../../core/validate.js';
import { hostScanBackward, hostScanForward } from './fusedScan.js';
import { innerScanDims } from './layout.js';
import { weightPlan } from './sparseLinear.js';
import { hostScanPath, type TimeMajorScan, wasmScanBackwardTimeMajor, wasmScanForwardTimeMajor } from './wasmScan.js';

/** [b, L, X] → [b, X, L] (the model's layout → the scan's). */
export function channelsFirst(src: Float32Array, b: number, L: number, X: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < b; i++) {
    const o = i * L * X;
    for (let c = 0; c < X; c++) {
      const oc = o + c * L;
      for (let t = 0, si = o + c; t < L; t++, si += X) out[oc + t] = src[si];
    }
  }
  return out;
}

/** [b, X, L] → [b, L, X] (the scan's layout → the model's). */
export function timeFirst(src: Float32Array, b: number, L: number, X: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < b; i++) {
    const o = i * L * X;
    for (let c = 0; c < X; c++) {
      const oc = o + c * L;
      for (let t = 0, di = o + c; t < L; t++, di += X) out[di] = src[oc + t];
    }
  }
  return out;
}

/** Δ_low [m, R]: the first R columns of x_dbl [m, W]. */
function lowColumns(xdbl: Float32Array, m: number, W: number, R: number): Float32Array {
  const out = new Float32Array(m * R);
  for (let i = 0; i < m; i++) for (let r = 0; r < R; r++) out[i * R + r] = xdbl[i * W + r];
  return out;
}

/**
 * From ∂(W_dt Δ_low) [m, d]: ∂Δ_low = ∂Δ_raw W_dt into columns 0 … R of gxdbl [m, W], and the tensor
 * ∂W_dt = ∂Δ_rawᵀ Δ_low [d, R], both by the backend's matMul.
 */
function dtProjBackward(
  gdm: Float32Array,
  low: Float32Array,
  Wdt: Float32Array,
  m: number,
  W: number,
  R: number,
  d: number,
  gxdbl: Float32Array,
): Tensor {
  const [gLowT, gWdt] = tf.tidy(() => {
    const g = tf.tensor2d(gdm, [m, d]);
    return [tf.matMul(g, tf.tensor2d(Wdt, [d, R])), tf.matMul(g, tf.tensor2d(low, [m, R]), true, false)];
  });
  const gLow = gLowT.dataSync() as Float32Array;
  gLowT.dispose();
  for (let i = 0; i < m; i++) for (let r = 0; r < R; r++) gxdbl[i * W + r] = gLow[i * R + r];
  return gWdt;
}

/** Columns off … off + n of rows [b, L, stride] set from src [b, n, L] (the inverse of columnsToScan). */
function fillColumns(
  dst: Float32Array,
  src: Float32Array,
  b: number,
  L: number,
  stride: number,
  off: number,
  n: number,
) {
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < n; k++) {
      const o = (i * n + k) * L;
      for (let t = 0, di = i * L * stride + off + k; t < L; t++, di += stride) dst[di] = src[o + t];
    }
  }
}

/** [rows, cols] → [cols, rows]. */
function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < rows; i++) for (let j = 0, si = i * cols; j < cols; j++, si++) out[j * rows + i] = src[si];
  return out;
}

/** a += b elementwise. */
function addInto(a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}

/** Every entry of `a` finite (the common case, checked fast; assertFinite names the first bad one otherwise). */
function finite32(a: Float32Array): boolean {
  let z = 0;
  for (let i = 0; i < a.length; i++) z += a[i] * 0; // NaN as soon as one entry is NaN or ±∞
  return z === 0;
}

/** Columns off … off + n of rows [b, L, stride] as [b, n, L] (B_t or C_t for the scan). */
function columnsToScan(xdbl: Float32Array, b: number, L: number, stride: number, off: number, n: number): Float32Array {
  const out = new Float32Array(b * n * L);
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < n; k++) {
      const o = (i * n + k) * L;
      for (let t = 0, si = i * L * stride + off + k; t < L; t++, si += stride) out[o + t] = xdbl[si];
    }
  }
  return out;
}

/**
 * A·B of host data by the backend's own matMul (XNNPACK's SIMD kernels on wasm), in the untransposed form that
 * runs there without a transpose: x_proj and its two gradients cost less there than in a scalar loop.
 */
function product(A: Float32Array, aShape: [number, number], B: Float32Array, bShape: [number, number]): Float32Array {
  const t = tf.tidy(() => tf.matMul(tf.tensor2d(A, aShape), tf.tensor2d(B, bShape)));
  const v = t.dataSync() as Float32Array;
  t.dispose();
  return v;
}

/** The scan dims of the S6 inner op on x [b, L, d] (reference layout). */
function s6Dims(a: S6InnerArgs, N: number): ScanDims {
  const [b, L, d] = a.x.shape as [number, number, number];
  return innerScanDims(b, d, N, L, a.D !== undefined, a.bDiscretization ?? 'euler');
}

/**
 * Does this op serve an inference call better than the time-major pass of s6Inner.ts? Yes for dense weights when
 * the WebAssembly scan runs; no for what that pass exploits — a mostly-zero x_proj (sparseLinear.ts), dt_proj ≡ 0
 * (Δ constant per channel) or A_log = −∞ (Λ = 0, decay-free rows): the analytic constructions.
 */
export function s6FusedServesInference(a: S6InnerArgs, N: number): boolean {
  if (hostScanPath(s6Dims(a, N), false, true) !== 'wasm-simd') return false;
  if (weightPlan(a.xProjWeight).plan || weightPlan(a.dtProjWeight).allZero) return false;
  const ALog = a.ALog.dataSync();
  for (let i = 0; i < ALog.length; i++) if (ALog[i] === -Infinity) return false;
  return true;
}

/** The S6 computation on host data (forward done) and its backward. */
export interface S6Core {
  /** y [b, L, d] (model layout). */
  y: Float32Array;
  /**
   * Gradients from ∂y [b, L, d]: ∂u [b, L, d] as host data (the input's, x_proj's term included) and the tensors
   * ∂W_x, ∂W_dt, ∂b_dt, ∂A_log (and ∂D with D).
   */
  backward(gy: Float32Array): { gu: Float32Array; grads: Tensor[] };
}

/**
 * Forward of Eq. 14c–14g on host data u [b, L, d] (x̂, named `uName` in errors) with the op's parameters `a`
 * (a.x only gives the shape); `recording` keeps what the backward needs when the JS scan runs.
 */
export function s6Core(
  a: S6InnerArgs,
  u: Float32Array,
  uName: string,
  R: number,
  N: number,
  recording: boolean,
): S6Core {
  const [b, L, d] = a.x.shape as [number, number, number];
  const W = R + 2 * N;
  const m = b * L;
  const s = s6Dims(a, N);
  const Wx = a.xProjWeight.dataSync() as Float32Array; // [W, d]
  const Wdt = a.dtProjWeight.dataSync() as Float32Array; // [d, R]
  const ALog = a.ALog.dataSync() as Float32Array;
  const bias = a.dtProjBias.dataSync() as Float32Array;
  const D = a.D?.dataSync() as Float32Array | undefined;
  if (!finite32(u)) assertFinite(u, uName, [b, L, d]);
  assertFinite(Wx, 'xProjWeight', [W, d]);
  assertFinite(Wdt, 'dtProjWeight', [d, R]);
  assertFinite(bias, 'dtProjBias', [d]);
  assertFinite(
    Float32Array.from(ALog, (v) => (v === -Infinity ? 0 : v)),
    'ALog',
    [d, N],
  ); // A_log = −∞: Λ = 0
  if (D) assertFinite(D, 'D', [d]);
  const WxT = new Float32Array(d * W); // W_xᵀ [d, W]
  for (let w = 0; w < W; w++) for (let c = 0; c < d; c++) WxT[c * W + w] = Wx[w * d + c];
  const xdbl = product(u, [m, d], WxT, [d, W]); // [m, W] = [Δ_low | B_t | C_t]  (14c–14e)
  if (!finite32(xdbl)) assertFinite(xdbl, 'x_proj(x)', [b, L, W]);
  const WdtT = new Float32Array(R * d); // W_dtᵀ [R, d]
  for (let c = 0; c < d; c++) for (let r = 0; r < R; r++) WdtT[r * d + c] = Wdt[c * R + r];
  const low = lowColumns(xdbl, m, W, R);
  const dtm = product(low, [m, R], WdtT, [R, d]); // [m, d]: W_dt Δ_low before its bias
  const A = Float32Array.from(ALog, (v) => -Math.exp(v));
  /** ∂x_dbl [m, W] with ∂Δ_low from ∂Δ_raw [m, d] (∂B_t, ∂C_t filled in); returns the products' gradients. */
  const products = (gxdbl: Float32Array, gdm: Float32Array, gu: Float32Array, gA: Float32Array) => {
    const gWdt = dtProjBackward(gdm, low, Wdt, m, W, R, d, gxdbl); // fills ∂Δ_low
    const viaProj = product(gxdbl, [m, W], Wx, [W, d]); // ∂x_dbl W_x
    addInto(gu, viaProj);
    const grads: Tensor[] = [
      tf.matMul(tf.tensor2d(transpose(gxdbl, m, W), [W, m]), tf.tensor2d(u, [m, d])), // ∂W_x = ∂x_dblᵀ u
      gWdt,
    ];
    for (let k = 0; k < gA.length; k++) gA[k] *= A[k];
    return grads;
  };
  if (hostScanPath(s, recording, true) === 'wasm-simd') {
    // The model's layout throughout: the module transposes, and the backward reuses the forward's set-up.
    const x: TimeMajorScan = { u, deltaRaw: dtm, xdbl, W, bOff: R, cOff: R + N, A, D, deltaBias: bias };
    const f = wasmScanForwardTimeMajor(s, x);
    const backward = (gy: Float32Array) => {
      const gxdbl = new Float32Array(m * W);
      const g = wasmScanBackwardTimeMajor(s, x, f.kept, gy, gxdbl);
      const grads = products(gxdbl, g.delta, g.u, g.A);
      grads.push(tf.tensor1d(g.deltaBias!), tf.tensor2d(g.A, [d, N]));
      if (D) grads.push(tf.tensor1d(g.D!));
      return { gu: g.u, grads };
    };
    return { y: f.out, backward };
  }
  const x: ScanArrays = {
    u: channelsFirst(u, b, L, d),
    delta: channelsFirst(dtm, b, L, d),
    A,
    B: columnsToScan(xdbl, b, L, W, R, N),
    C: columnsToScan(xdbl, b, L, W, R + N, N),
    D,
    deltaBias: bias,
  };
  const h = hostScanForward(s, x, recording);
  const backward = (gy: Float32Array) => {
    const g = hostScanBackward(s, x, h, channelsFirst(gy, b, L, d));
    const gxdbl = new Float32Array(m * W); // ∂x_dbl [m, W]
    fillColumns(gxdbl, g.B, b, L, W, R, N);
    fillColumns(gxdbl, g.C, b, L, W, R + N, N);
    const gu = timeFirst(g.u, b, L, d);
    const gA = Float32Array.from(g.A);
    const grads = products(gxdbl, timeFirst(g.delta, b, L, d), gu, gA);
    grads.push(tf.tensor1d(g.deltaBias!), tf.tensor2d(gA, [d, N]));
    if (D) grads.push(tf.tensor1d(g.D!));
    return { gu, grads };
  };
  return { y: timeFirst(h.f.out, b, L, d), backward };
}

/** The S6 inner op's host kernel with its analytic gradient; `R`, `N` as validated by the op. */
export function s6InnerFused(a: S6InnerArgs, R: number, N: number): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const inputs = [a.x, a.xProjWeight, a.dtProjWeight, a.dtProjBias, a.ALog, ...(a.D ? [a.D] : [])];
  const recording = isRecording();
  const op = tf.customGrad(((...xs: unknown[]) => {
    void xs;
    const core = s6Core(a, a.x.dataSync() as Float32Array, 'x', R, N, recording);
    const gradFunc = (dy: Tensor) => {
      const { gu, grads } = core.backward(dy.dataSync() as Float32Array);
      return [tf.tensor3d(gu, [b, L, d]), ...grads];
    };
    return { value: tf.tensor3d(core.y, [b, L, d]), gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs) as Tensor;
}
