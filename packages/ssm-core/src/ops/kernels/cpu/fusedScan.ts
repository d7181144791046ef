/**
 * The fused selective scan as a differentiable tfjs op (host kernel of `selectiveScan` on CPU / wasm /
 * tfjs-node): reads the tensors' data, runs the WebAssembly SIMD kernel (wasmScan.ts) where it applies, else the
 * typed-array forward (scanForward.ts), and wires the analytic backward (the same kernel's, else scanBackward.ts) in
 * through tf.customGrad.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { isRecording } from '../../../policy.js';
import type { ScanDims, SelectiveScanArgs, SelectiveScanResult } from '../../core/types.js';
import { checkScanFinite, readScanArrays, SCAN_KEYS } from '../../core/validate.js';
import { fusedBackward } from './scanBackward.js';
import { type FusedForward, fusedForward } from './scanForward.js';
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
    const wasm = hostScanPath(s, recording) === 'wasm-simd';
    let f: Pick<FusedForward, 'out' | 'lastState'>;
    if (wasm) f = wasmScanForward(s, x);
    else {
      f = fusedForward(s, x, recording);
      hostScanRuns.js.forward++;
    }
    const value = withLast ? tf.tensor3d(pack(s, f.out, f.lastState), [b, D, L + N]) : tf.tensor3d(f.out, [b, D, L]);
    const gradFunc = (dy: Tensor) => {
      const g = dy.dataSync() as Float32Array;
      const { out: gOut, last: gLast } = withLast ? unpack(s, g) : { out: g, last: undefined };
      if (!wasm) hostScanRuns.js.backward++;
      const grads = wasm ? wasmScanBackward(s, x, gOut, gLast) : fusedBackward(s, x, f as FusedForward, gOut, gLast);
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
