/**
 * `selectiveScan` — the selective scan with the contract of mamba_ssm's `selective_scan_ref`
 * (see ./types.ts for shapes), differentiable in every tensor argument, with two
 * implementations tested equal to the float64 reference:
 *   'fused'  typed-array kernel + analytic backward via tf.customGrad (CPU, wasm, tfjs-node)
 *   'tensor' log-depth scan of tf ops (GPU backends; never downloads data)
 */
import type { Tensor } from '@tensorflow/tfjs';
import { isRecording, preferredScanImpl, tf } from '../backend.js';
import { fusedBackward, fusedForward, type FusedGrads } from './fusedKernel.js';
import { readScanArrays } from './reference.js';
import { tensorScan } from './tensorScan.js';
import type { ScanArrays, ScanDims, SelectiveScanArgs, SelectiveScanResult } from './types.js';
import { assertFinite, validateScanArgs } from './validate.js';

type Key = keyof FusedGrads;
const KEYS: Key[] = ['u', 'delta', 'A', 'B', 'C', 'D', 'z', 'deltaBias'];

export function selectiveScan(args: SelectiveScanArgs): SelectiveScanResult {
  const s = validateScanArgs(args);
  const impl = !args.impl || args.impl === 'auto' ? preferredScanImpl() : args.impl;
  if (impl === 'tensor') {
    if (args.checkFinite) checkFinite(readScanArrays(args), args);
    const r = tensorScan(s, args);
    if (args.returnLastState) return r;
    r.lastState.dispose();
    return { out: r.out };
  }
  return fusedScan(s, args);
}

function checkFinite(x: ScanArrays, args: SelectiveScanArgs): void {
  for (const k of KEYS) {
    const t = args[k];
    if (t) assertFinite(x[k]!, k, t.shape);
  }
}

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

function fusedScan(s: ScanDims, args: SelectiveScanArgs): SelectiveScanResult {
  const keys = KEYS.filter((k) => args[k] !== undefined);
  const inputs = keys.map((k) => args[k] as Tensor);
  const recording = isRecording();
  const { batch: b, dInner: D, dState: N, L } = s;
  const withLast = Boolean(args.returnLastState);
  const op = tf.customGrad(((...xs: unknown[]) => {
    const x = readScanArrays(args);
    if (args.checkFinite !== false) checkFinite(x, args);
    const f = fusedForward(s, x, recording);
    const value = withLast ? tf.tensor3d(pack(s, f.out, f.lastState), [b, D, L + N]) : tf.tensor3d(f.out, [b, D, L]);
    const gradFunc = (dy: Tensor) => {
      const g = dy.dataSync() as Float32Array;
      const { out: gOut, last: gLast } = withLast ? unpack(s, g) : { out: g, last: undefined };
      const grads = fusedBackward(s, x, f, gOut, gLast);
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
