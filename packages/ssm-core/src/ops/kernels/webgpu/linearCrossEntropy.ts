/**
 * `linearCrossEntropy` on tfjs-backend-webgpu (its 'webgpu' kernel): the output layer as ./linear.ts's fused matMul,
 * then three WGSL programs for the loss and one for its gradient, instead of the generic kernel's ~30 tf ops
 * (log-softmax twice, one-hot, argmax, masks, sums):
 *   lceRows   one invocation per row r: max, first argmax, lse_r = max + log Σ exp(logits_r − max) →
 *             [nll_r·mask_r, hit_r·mask_r, mask_r, lse_r]  (nll_r = lse_r − logits_r[y_r])
 *   lceStats  one workgroup: Σ_r of the first three columns → stats [lossSum, correct, count]
 *   lceLoss   loss = lossSum / max(count, 1)
 *   lceGrad   ∂logits_rc = (exp(logits_rc − lse_r) − [c = y_r]) · mask_r · ∂loss / max(count, 1)
 * A row counts when y_r ≥ 0; a target ≥ C counts with loss 0, no hit and gradient 0, as in the generic kernel
 * (its one-hot row is all zeros). The targets stay on the device, so nothing here refuses them.
 * lceRows walks a row's C logits in one invocation (three passes), sized for the paper's vocabularies (|V| = 128);
 * a vocabulary of tens of thousands would want a workgroup per row.
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { linear2d } from './linear.js';
import { grid, runProgram, type Program } from './program.js';

const WG = 64;
/** Invocations of the one workgroup that sums the rows. */
const STATS_WG = 256;

const dims = (M: number, C: number) => [
  { type: 'int32' as const, data: [M] },
  { type: 'int32' as const, data: [C] },
];

function rowsProgram(M: number): Program {
  return {
    outputShape: [M * 4],
    shaderKey: 'lceRows',
    dispatchLayout: { x: [0] },
    dispatch: grid(Math.ceil(M / WG)),
    variableNames: ['logits', 'targets'],
    workgroupSize: [WG, 1, 1],
    uniforms: 'nRows : i32, nClasses : i32,',
    getUserCode: () => `
fn main(index : i32) {
  if (index >= uniforms.nRows) { return; }
  let C = uniforms.nClasses;
  let base = index * C;
  var mx = logits[base];
  var best = 0;
  for (var c = 1; c < C; c++) {
    let v = logits[base + c];
    if (v > mx) { mx = v; best = c; }
  }
  var s = 0.0;
  for (var c = 0; c < C; c++) { s += exp(logits[base + c] - mx); }
  let lse = mx + log(s);
  let y = targets[index];
  var nll = 0.0;
  var hit = 0.0;
  var counted = 0.0;
  if (y >= 0) {
    counted = 1.0;
    if (y < C) { nll = lse - logits[base + y]; }
    if (best == y) { hit = 1.0; }
  }
  result[index * 4] = nll;
  result[index * 4 + 1] = hit;
  result[index * 4 + 2] = counted;
  result[index * 4 + 3] = lse;
}
`,
  };
}

function statsProgram(): Program {
  return {
    outputShape: [3],
    shaderKey: 'lceStats',
    dispatchLayout: { x: [0], y: [0] }, // main() takes no index: one workgroup
    dispatch: [1, 1, 1],
    variableNames: ['rows'],
    workgroupSize: [STATS_WG, 1, 1],
    uniforms: 'nRows : i32,',
    getUserCode: () => `
var<workgroup> part : array<vec3<f32>, ${STATS_WG}>;
fn main() {
  let t = i32(localId.x);
  var acc = vec3<f32>(0.0, 0.0, 0.0);
  for (var r = t; r < uniforms.nRows; r += ${STATS_WG}) {
    acc += vec3<f32>(rows[r * 4], rows[r * 4 + 1], rows[r * 4 + 2]);
  }
  part[t] = acc;
  workgroupBarrier();
  for (var s = ${STATS_WG / 2}; s > 0; s = s / 2) {
    if (t < s) { part[t] += part[t + s]; }
    workgroupBarrier();
  }
  if (t == 0) {
    result[0] = part[0].x;
    result[1] = part[0].y;
    result[2] = part[0].z;
  }
}
`,
  };
}

function lossProgram(): Program {
  return {
    outputShape: [1],
    shaderKey: 'lceLoss',
    dispatchLayout: { x: [0] },
    dispatch: [1, 1, 1],
    variableNames: ['stats'],
    workgroupSize: [1, 1, 1],
    size: true,
    getUserCode: () => `
fn main(index : i32) {
  if (index < uniforms.size) { result[0] = stats[0] / max(stats[2], 1.0); }
}
`,
  };
}

function gradProgram(M: number, C: number): Program {
  return {
    outputShape: [M * C],
    shaderKey: 'lceGrad',
    dispatchLayout: { x: [0] },
    dispatch: grid(Math.ceil((M * C) / WG)),
    variableNames: ['logits', 'targets', 'rows', 'stats', 'dy'],
    workgroupSize: [WG, 1, 1],
    uniforms: 'nRows : i32, nClasses : i32,',
    getUserCode: () => `
fn main(index : i32) {
  let C = uniforms.nClasses;
  if (index >= uniforms.nRows * C) { return; }
  let r = index / C;
  let c = index - r * C;
  let y = targets[r];
  if (y < 0 || y >= C) {
    result[index] = 0.0;
    return;
  }
  var g = exp(logits[index] - rows[r * 4 + 3]);
  if (c == y) { g -= 1.0; }
  result[index] = g * (dy[0] / max(stats[2], 1.0));
}
`,
  };
}

/** The 'webgpu' kernel of `linearCrossEntropy` (validated arguments). */
export function webgpuLinearCrossEntropy(
  z: Tensor,
  W: Tensor,
  b: Tensor | undefined,
  targets: Tensor,
): { loss: Scalar; stats: Tensor } {
  const [C, d] = W.shape as [number, number];
  const M = targets.size;
  const logits = linear2d(z.reshape([M, d]), W, b); // [M, C], differentiable in z, W, b
  const y = targets.reshape([M]);
  // not differentiable, not on the tape: per-row terms and the batch's statistics
  const rows = runProgram('lceRows', rowsProgram(M), [logits, y], dims(M, C));
  const stats = runProgram('lceStats', statsProgram(), [rows], [{ type: 'int32', data: [M] }]);
  const op = tf.customGrad(((lg: Tensor, save: (ts: Tensor[]) => void) => {
    save([lg, y, rows, stats]);
    return {
      value: runProgram('lceLoss', lossProgram(), [stats], [], []),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        runProgram('lceGrad', gradProgram(M, C), [...saved, dy], dims(M, C), [M, C]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return { loss: op(logits) as Scalar, stats };
}
