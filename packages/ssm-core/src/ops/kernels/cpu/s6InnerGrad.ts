/**
 * S6 inner op (Eq. 14c–14g) on the host as ONE differentiable tfjs op, in the manner of mamba_ssm's
 * `mamba_inner_fn`: the forward runs over typed arrays — x_proj and dt_proj products, B_t and C_t read straight out
 * of x_proj's rows, the scan (with dt_proj's bias, softplus and the D skip) by the WebAssembly SIMD kernel where it
 * applies (fusedScan.ts's hostScanForward) — and the backward is analytic: the scan's backward from the same kernel,
 * then the products' gradients
 *
 *   ∂x_dbl = [∂Δ_low | ∂B | ∂C],  ∂Δ_low = ∂Δ_raw W_dt,  ∂W_dt = ∂Δ_rawᵀ Δ_low,  ∂b_dt = Σ ∂Δ_raw
 *   ∂x = ∂u + ∂x_dbl W_x,  ∂W_x = ∂x_dblᵀ x,  ∂A_log = ∂A ⊙ A  (A = −exp(A_log)).
 *
 * Shapes (m = b·L rows in the model's time-major layout): x [m, d], x_dbl [m, R + 2N]; the scan runs in the
 * reference layout u, Δ_raw [b, d, L], B, C [b, N, L].
 */
import type { Tensor } from '@tensorflow/tfjs';
import { tf } from '../../../backend.js';
import { isRecording } from '../../../policy.js';
import type { S6InnerArgs, ScanArrays, ScanDims } from '../../core/types.js';
import { assertFinite } from '../../core/validate.js';
import { hostScanBackward, hostScanForward } from './fusedScan.js';

/** out[i, w] = Σ_c x[i, c] · W[w, c]  (x [m, k], W [n, k] → [m, n]). */
export function matMulABt(x: Float32Array, W: Float32Array, m: number, k: number, n: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const xo = i * k;
    for (let w = 0; w < n; w++) {
      const wo = w * k;
      let acc = 0;
      for (let c = 0; c < k; c++) acc += x[xo + c] * W[wo + c];
      out[i * n + w] = acc;
    }
  }
  return out;
}

/** [b, L, X] → [b, X, L] (and back with `inverse`). */
export function swapTimeChannels(
  src: Float32Array,
  b: number,
  L: number,
  X: number,
  inverse = false,
  out = new Float32Array(src.length),
): Float32Array {
  for (let i = 0; i < b; i++) {
    const o = i * L * X;
    for (let t = 0; t < L; t++) {
      for (let c = 0; c < X; c++) {
        if (inverse) out[o + t * X + c] = src[o + c * L + t];
        else out[o + c * L + t] = src[o + t * X + c];
      }
    }
  }
  return out;
}

/** Columns off … off + n of rows [b, L, stride] as [b, n, L] (B_t or C_t for the scan). */
function columnsToScan(xdbl: Float32Array, b: number, L: number, stride: number, off: number, n: number): Float32Array {
  const out = new Float32Array(b * n * L);
  for (let i = 0; i < b; i++) {
    for (let t = 0; t < L; t++) {
      const row = (i * L + t) * stride + off;
      for (let k = 0; k < n; k++) out[(i * n + k) * L + t] = xdbl[row + k];
    }
  }
  return out;
}

/** The S6 inner op's host kernel with its analytic gradient; `R`, `N` as validated by the op. */
export function s6InnerFused(a: S6InnerArgs, R: number, N: number): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const W = R + 2 * N;
  const m = b * L;
  const inputs = [a.x, a.xProjWeight, a.dtProjWeight, a.dtProjBias, a.ALog, ...(a.D ? [a.D] : [])];
  const recording = isRecording();
  const s: ScanDims = {
    batch: b,
    dInner: d,
    dState: N,
    L,
    deltaAlong: 'channel',
    bFixed: false,
    cFixed: false,
    hasD: a.D !== undefined,
    hasZ: false,
    hasBias: true,
    softplus: true,
    disc: a.bDiscretization ?? 'euler',
  };
  const op = tf.customGrad(((...xs: unknown[]) => {
    void xs;
    const u = a.x.dataSync() as Float32Array; // [m, d]
    const Wx = a.xProjWeight.dataSync() as Float32Array; // [W, d]
    const Wdt = a.dtProjWeight.dataSync() as Float32Array; // [d, R]
    const ALog = a.ALog.dataSync() as Float32Array;
    const bias = a.dtProjBias.dataSync() as Float32Array;
    const D = a.D?.dataSync() as Float32Array | undefined;
    assertFinite(u, 'x', [b, L, d]);
    assertFinite(Wx, 'xProjWeight', [W, d]);
    assertFinite(Wdt, 'dtProjWeight', [d, R]);
    assertFinite(bias, 'dtProjBias', [d]);
    assertFinite(ALog, 'ALog', [d, N]);
    if (D) assertFinite(D, 'D', [d]);
    const xdbl = matMulABt(u, Wx, m, d, W); // [Δ_low | B_t | C_t]  (14c–14e)
    assertFinite(xdbl, 'x_proj(x)', [b, L, W]);
    const dtLow = new Float32Array(m * R);
    for (let i = 0; i < m; i++) for (let r = 0; r < R; r++) dtLow[i * R + r] = xdbl[i * W + r];
    const deltaRaw = matMulABt(dtLow, Wdt, m, R, d); // [m, d], W_dt Δ_low before its bias
    const A = Float32Array.from(ALog, (v) => -Math.exp(v));
    const x: ScanArrays = {
      u: swapTimeChannels(u, b, L, d),
      delta: swapTimeChannels(deltaRaw, b, L, d),
      A,
      B: columnsToScan(xdbl, b, L, W, R, N),
      C: columnsToScan(xdbl, b, L, W, R + N, N),
      D,
      deltaBias: bias,
    };
    const h = hostScanForward(s, x, recording);
    const value = tf.tensor3d(swapTimeChannels(h.f.out, b, L, d, true), [b, L, d]);
    const gradFunc = (dy: Tensor) => {
      const gOut = swapTimeChannels(dy.dataSync() as Float32Array, b, L, d);
      const g = hostScanBackward(s, x, h, gOut);
      const gDelta = swapTimeChannels(g.delta, b, L, d, true); // [m, d], ∂ of W_dt Δ_low
      const gu = swapTimeChannels(g.u, b, L, d, true); // [m, d]
      const gxdbl = new Float32Array(m * W);
      const gWdt = new Float64Array(d * R);
      for (let i = 0; i < m; i++) {
        const go = i * d;
        for (let r = 0; r < R; r++) {
          const xr = xdbl[i * W + r];
          let acc = 0;
          for (let c = 0; c < d; c++) {
            const gd = gDelta[go + c];
            acc += gd * Wdt[c * R + r];
            gWdt[c * R + r] += gd * xr;
          }
          gxdbl[i * W + r] = acc;
        }
      }
      for (let i = 0; i < b; i++) {
        for (let t = 0; t < L; t++) {
          const row = (i * L + t) * W;
          for (let n = 0; n < N; n++) {
            gxdbl[row + R + n] = g.B[(i * N + n) * L + t];
            gxdbl[row + R + N + n] = g.C[(i * N + n) * L + t];
          }
        }
      }
      const gx = gu; // ∂x = ∂u + ∂x_dbl W_x
      const gWx = new Float64Array(W * d); // ∂W_x = ∂x_dblᵀ x
      const acc = new Float64Array(d);
      for (let i = 0; i < m; i++) {
        const xo = i * d;
        acc.fill(0);
        for (let w = 0; w < W; w++) {
          const gw = gxdbl[i * W + w];
          if (gw === 0) continue;
          const wo = w * d;
          for (let c = 0; c < d; c++) {
            acc[c] += gw * Wx[wo + c];
            gWx[wo + c] += gw * u[xo + c];
          }
        }
        for (let c = 0; c < d; c++) gx[xo + c] += acc[c];
      }
      const gALog = Float32Array.from(g.A, (v, k) => v * A[k]);
      const grads = [
        tf.tensor3d(gx, [b, L, d]),
        tf.tensor2d(Float32Array.from(gWx), [W, d]),
        tf.tensor2d(Float32Array.from(gWdt), [d, R]),
        tf.tensor1d(g.deltaBias!),
        tf.tensor2d(gALog, [d, N]),
      ];
      if (D) grads.push(tf.tensor1d(g.D!));
      return grads;
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs) as Tensor;
}
