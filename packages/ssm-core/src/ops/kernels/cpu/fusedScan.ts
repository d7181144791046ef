/**
 * The fused selective scan as a differentiable tfjs op (host kernel of `selectiveScan` on CPU / wasm /
 * tfjs-node): reads the tensors' data, runs the WebAssembly SIMD kernel (wasmScan.ts) where it applies, else the
 * typed-array forward (scanForward.ts), and wires the analytic backward (the same kernel's, else scanBackward.ts) in
 * through tf.customGrad.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { isRecording } from '../../../policy.js';
import type { ScanArrays, ScanDims, SelectiveScanArgs, SelectiveScanResult } from '../../core/types.js';
import { checkScanFinite, readScanArrays, SCAN_KEYS } from '../../core/validate.js';
import { fusedBackward } from './scanBackward.js';
import { type FusedForward, type FusedGrads, fusedForward } from './scanForward.js';
import { hostScanPath, hostScanRuns, wasmScanBackward, wasmScanForward } from './wasmScan.js';

/** [b,d,L] out and [b,d,n] state packed per (b,d) row into one [b,d,L+n] tensor (customGrad has one output). */
function pack(s: ScanDims, out: Float32Array, last: Float32Array): Float32Array {
  const { L, dState: N } = s;
  const rows = s.batch * s.dInner;
  const p = new Float32Array(rows * (L + N));
  for (let r = 0; r < rows; r++) {
    p.set(out.subarray(r * L, r * L + L), r * (L + N));
    p.set(last.subarray(r * N, r * N + N), r * (L + N) + L);
  }
  return p;
}

function unpack(s: ScanDims, p: Float32Array): { out: Float32Array; last: Float32Array } {
  const { L, dState: N } = s;
  const rows = s.batch * s.dInner;
  const out = new Float32Array(rows * L);
  const last = new Float32Array(rows * N);
  for (let r = 0; r < rows; r++) {
    out.set(p.subarray(r * (L + N), r * (L + N) + L), r * L);
    last.set(p.subarray(r * (L + N) + L, (r + 1) * (L + N)), r * N);
  }
  return { out, last };
}

/** A host scan's forward result and which kernel made it (the backward must use the same one). */
export interface HostScan {
  wasm: boolean;
  f: Pick<FusedForward, 'out' | 'lastState'>;
}

/**
 * Forward pass of the scan of dims `s` (reference layout) on the host: the WebAssembly SIMD kernel where it applies
 * ({@link hostScanPath}), else the typed-array kernel, keeping what {@link hostScanBackward} needs when `recording`.
 */
export function hostScanForward(s: ScanDims, x: ScanArrays, recording: boolean): HostScan {
  if (hostScanPath(s, recording) === 'wasm-simd') return { wasm: true, f: wasmScanForward(s, x) };
  hostScanRuns.js.forward++;
  return { wasm: false, f: fusedForward(s, x, recording) };
}

/** Gradients of every scan input given `gOut` [b, d, L] and `gLast` [b, d, n] (or none), by the forward's kernel. */
export function hostScanBackward(
  s: ScanDims,
  x: ScanArrays,
  h: HostScan,
  gOut: Float32Array,
  gLast?: Float32Array,
): FusedGrads {
  if (h.wasm) return wasmScanBackward(s, x, gOut, gLast);
  hostScanRuns.js.backward++;
  return fusedBackward(s, x, h.f as FusedForward, gOut, gLast);
}

/** The scan of validated `args` (dimensions `s`) on the host, with its analytic gradient. */
export function fusedScan(s: ScanDims, args: SelectiveScanArgs): SelectiveScanResult {
  const keys = SCAN_KEYS.filter((k) => args[k] !== undefined);
  const inputs = keys.map((k) => args[k] as Tensor);
  const recording = isRecording();
  const { batch: b, dInner: D, dState: N, L } = s;
  const withLast = Boolean(args.returnLastState);
  const op = tf.customGrad(((...xs: unknown[]) => {
    const x = readScanArrays(args);
    if (args.checkFinite !== false) checkScanFinite(x, args);
    const h = hostScanForward(s, x, recording);
    const f = h.f;
    const value = withLast ? tf.tensor3d(pack(s, f.out, f.lastState), [b, D, L + N]) : tf.tensor3d(f.out, [b, D, L]);
    const gradFunc = (dy: Tensor) => {
      const g = dy.dataSync() as Float32Array;
      const { out: gOut, last: gLast } = withLast ? unpack(s, g) : { out: g, last: undefined };
      const grads = hostScanBackward(s, x, h, gOut, gLast);
      return keys.map((k, i) => tf.tensor(grads[k]!, inputs[i].shape, 'float32'));
    };
    void xs;
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  if (!withLast) return { out: op(...inputs) as Tensor };
  return tf.tidy(() => {
    const packed = op(...inputs) as Tensor; // disposed with the tidy; slices carry the gradient
    return { out: packed.slice([0, 0, 0], [b, D, L]), lastState: packed.slice([0, 0, L], [b, D, N]) };
  });
}
