/**
 * S4D inner op (Δ ≡ 1, fixed B [N] shared by the channels, C [d, N]) on the host as ONE differentiable tfjs op: the
 * forward is the scan over typed arrays with Δ a host array of ones, B broadcast over the channels in place of tensor
 * broadcasts: by the WebAssembly SIMD kernel where it applies, on the model's layout [b, L, d] (the module transposes;
 * wasmScan.ts's wasmScanForwardTimeMajor), else by the JS kernel (fusedScan.ts's hostScanForward); the backward is the
 * same kernel's, the WebAssembly one reusing the forward's set-up, then ∂B = Σ_d ∂B̃[d, ·] (B̃ the broadcast [d, N])
 * and ∂A_log = ∂A ⊙ A.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { isRecording } from '../../../policy.js';
import type { S4DInnerArgs, ScanArrays, ScanDims } from '../../core/types.js';
import { assertFinite } from '../../core/validate.js';
import { hostScanBackward, hostScanForward } from './fusedScan.js';
import { channelsFirst, timeFirst } from './s6InnerGrad.js';
import { hostScanPath, type TimeMajorScan, wasmScanBackwardTimeMajor, wasmScanForwardTimeMajor } from './wasmScan.js';

/** The S4D inner op's host kernel with its analytic gradient (arguments validated by the op). */
export function s4dInnerFused(a: S4DInnerArgs): Tensor {
  const [b, L, d] = a.x.shape as [number, number, number];
  const N = a.B.shape[0] as number;
  const inputs = [a.x, a.ALog, a.B, a.C, ...(a.D ? [a.D] : [])];
  const recording = isRecording();
  const s: ScanDims = {
    batch: b,
    dInner: d,
    dState: N,
    L,
    deltaAlong: 'channel',
    bFixed: true,
    cFixed: true,
    hasD: a.D !== undefined,
    hasZ: false,
    hasBias: false,
    softplus: false,
    disc: a.bDiscretization ?? 'euler',
  };
  const op = tf.customGrad(((...xs: unknown[]) => {
    void xs;
    const u = a.x.dataSync() as Float32Array;
    const ALog = a.ALog.dataSync() as Float32Array;
    const B = a.B.dataSync() as Float32Array;
    const C = a.C.dataSync() as Float32Array;
    const D = a.D?.dataSync() as Float32Array | undefined;
    assertFinite(u, 'x', [b, L, d]);
    assertFinite(
      Float32Array.from(ALog, (v) => (v === -Infinity ? 0 : v)),
      'ALog',
      [d, N],
    ); // A_log = −∞: Λ = 0
    assertFinite(B, 'B', [N]);
    assertFinite(C, 'C', [d, N]);
    if (D) assertFinite(D, 'D', [d]);
    const A = Float32Array.from(ALog, (v) => -Math.exp(v));
    const Bd = new Float32Array(d * N);
    for (let c = 0; c < d; c++) Bd.set(B, c * N);
    /** The gradients from the scan's: ∂B = Σ_d ∂B̃[d, ·], ∂A_log = ∂A ⊙ A. */
    const gradients = (
      gu: Float32Array,
      g: { A: Float32Array; B: Float32Array; C: Float32Array; D?: Float32Array },
    ) => {
      const gB = new Float64Array(N);
      for (let k = 0; k < d * N; k++) gB[k % N] += g.B[k];
      const grads: Tensor[] = [
        tf.tensor3d(gu, [b, L, d]),
        tf.tensor2d(
          Float32Array.from(g.A, (v, k) => v * A[k]),
          [d, N],
        ),
        tf.tensor1d(Float32Array.from(gB)),
        tf.tensor2d(g.C, [d, N]),
      ];
      if (D) grads.push(tf.tensor1d(g.D!));
      return grads;
    };
    if (hostScanPath(s, recording, true) === 'wasm-simd') {
      // The model's layout throughout: the module transposes, and the backward reuses the forward's set-up.
      const tm: TimeMajorScan = { u, deltaRaw: new Float32Array(b * L * d).fill(1), A, B: Bd, C, D };
      const f = wasmScanForwardTimeMajor(s, tm);
      const gradFunc = (dy: Tensor) => {
        const g = wasmScanBackwardTimeMajor(s, tm, f.kept, dy.dataSync() as Float32Array);
        return gradients(g.u, g);
      };
      return { value: tf.tensor3d(f.out, [b, L, d]), gradFunc };
    }
    const x: ScanArrays = {
      u: channelsFirst(u, b, L, d),
      delta: new Float32Array(b * d * L).fill(1),
      A,
      B: Bd,
      C,
      D,
    };
    const h = hostScanForward(s, x, recording);
    const value = tf.tensor3d(timeFirst(h.f.out, b, L, d), [b, L, d]);
    const gradFunc = (dy: Tensor) => {
      const g = hostScanBackward(s, x, h, channelsFirst(dy.dataSync() as Float32Array, b, L, d));
      return gradients(timeFirst(g.u, b, L, d), g);
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(...inputs) as Tensor;
}
