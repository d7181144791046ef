/**
 * y = x Wᵀ + b on the host (wasm / cpu inference) for weights that are mostly exact zeros — the paper's
 * analytic constructions: Thm. 2's x_proj has 1.2 % nonzeros (B = C = W_k read the key channels), its
 * dt_proj none, its output layer reads 16 of 80 channels. Trained weights are dense and keep the
 * ordinary matMul. Two shortcuts, both skipping only terms W[o, i] · x[·, i] with W[o, i] = 0, which are
 * exactly 0 for finite x (callers check x; 0 · ∞ would be NaN):
 *   scatter  ≤ 1/16 of W nonzero (flag SPARSE_SCATTER_DENSITY): per row of x, each nonzero x[i] times the nonzeros of W's column i,
 *            summed per output in float64 in the order of i (the dot product's order; x = 0 adds nothing)
 *   columns  ≤ 1/2 of W's input columns used (flag SPARSE_COLUMN_SHARE): drop the unused columns of x and W, then the ordinary matMul
 *
 * Shapes: x [m, in] (row-major Float32Array), W [out, in] (torch layout), b [out] → y [m, out].
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { getFlag } from '../../../policy.js';

export type SparsePlan =
  | { kind: 'scatter'; out: number; inp: number; start: Int32Array; row: Int32Array; val: Float64Array } // W's columns (CSC)
  | { kind: 'columns'; out: number; inp: number; cols: Int32Array; wT: Float32Array }; // wT [k, out]: W's used columns, transposed

/** What one scan of a weight found: its shortcut (undefined: dense) and whether it is all zeros. */
export interface WeightPlan {
  plan: SparsePlan | undefined;
  allZero: boolean;
  /** The thresholds the plan was made with (a flag change re-plans). */
  density: number;
  share: number;
}

/**
 * Plans per weight value, keyed by the tensor's dataId: tfjs gives a Variable a new dataId on every `assign`
 * (tfjs-core Variable.assign: `this.dataId = newValue.dataId`), so a reassigned weight is planned again and an
 * unchanged one is scanned once, however many forwards read it.
 */
const plans = new WeakMap<object, WeightPlan>();

/** The cached {@link WeightPlan} of W [out, in] for its current value. */
export function weightPlan(W: Tensor): WeightPlan {
  const key = (W as unknown as { dataId: object }).dataId;
  const density = getFlag('SPARSE_SCATTER_DENSITY');
  const share = getFlag('SPARSE_COLUMN_SHARE');
  const hit = plans.get(key);
  if (hit && hit.density === density && hit.share === share) return hit;
  const w = W.dataSync() as Float32Array;
  const made = { ...planOf(w, W.shape as [number, number], density, share), density, share };
  plans.set(key, made);
  return made;
}

/** The shortcut W's zeros allow, or undefined when W is dense enough for the ordinary matMul (cached per value of W). */
export function sparsePlan(W: Tensor): SparsePlan | undefined {
  return weightPlan(W).plan;
}

function planOf(
  w: Float32Array,
  [out, inp]: [number, number],
  density: number,
  share: number,
): { plan: SparsePlan | undefined; allZero: boolean } {
  let nnz = 0;
  const used = new Uint8Array(inp);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inp; i++) {
      if (w[o * inp + i] !== 0) {
        nnz++;
        used[i] = 1;
      }
    }
  }
  const allZero = nnz === 0;
  if (nnz <= out * inp * density) return { plan: scatterPlan(w, out, inp, nnz), allZero };
  const cols = Int32Array.from(used.keys()).filter((i) => used[i] === 1);
  if (cols.length > inp * share) return { plan: undefined, allZero };
  const wT = new Float32Array(cols.length * out);
  cols.forEach((i, k) => {
    for (let o = 0; o < out; o++) wT[k * out + o] = w[o * inp + i];
  });
  return { plan: { kind: 'columns', out, inp, cols, wT }, allZero };
}

/** W's nonzeros column by column (CSC). */
function scatterPlan(w: Float32Array, out: number, inp: number, nnz: number): SparsePlan {
  const start = new Int32Array(inp + 1);
  const row = new Int32Array(nnz);
  const val = new Float64Array(nnz);
  let k = 0;
  for (let i = 0; i < inp; i++) {
    start[i] = k;
    for (let o = 0; o < out; o++) {
      if (w[o * inp + i] === 0) continue;
      row[k] = o;
      val[k++] = w[o * inp + i];
    }
  }
  start[inp] = k;
  return { kind: 'scatter', out, inp, start, row, val };
}

/** y = x Wᵀ + b [m, out] with the plan's shortcut; x must be finite (see the file comment). */
export function sparseLinear(plan: SparsePlan, xs: Float32Array, m: number, bias?: Float32Array): Tensor {
  if (plan.kind === 'scatter') return tf.tensor2d(scatterLinear(plan, xs, m, bias), [m, plan.out]);
  const { cols, inp, out, wT } = plan;
  const k = cols.length;
  const xc = new Float32Array(m * k); // x's used columns [m, k]
  for (let r = 0; r < m; r++) for (let j = 0; j < k; j++) xc[r * k + j] = xs[r * inp + cols[j]];
  return tf.tidy(() => {
    const prod = tf.matMul(tf.tensor2d(xc, [m, k]), tf.tensor2d(wT, [k, out]));
    return bias ? prod.add(tf.tensor1d(bias)) : prod;
  });
}

/** The scatter shortcut on host data: y [m, out]. */
export function scatterLinear(
  plan: Extract<SparsePlan, { kind: 'scatter' }>,
  xs: Float32Array,
  m: number,
  bias?: Float32Array,
): Float32Array {
  const { out, inp, start, row, val } = plan;
  const y = new Float32Array(m * out);
  const acc = new Float64Array(out);
  const touched = new Int32Array(out); // outputs that received a term in this row
  const seen = new Uint8Array(out);
  for (let r = 0; r < m; r++) {
    const xo = r * inp;
    const yo = r * out;
    let nt = 0;
    for (let i = 0; i < inp; i++) {
      const xv = xs[xo + i];
      if (xv === 0) continue;
      for (let k = start[i]; k < start[i + 1]; k++) {
        const o = row[k];
        if (seen[o] === 0) {
          seen[o] = 1;
          touched[nt++] = o;
          acc[o] = 0;
        }
        acc[o] += val[k] * xv;
      }
    }
    if (bias) y.set(bias, yo); // outputs without terms: y = b (or 0)
    for (let q = 0; q < nt; q++) {
      const o = touched[q];
      y[yo + o] = bias ? acc[o] + bias[o] : acc[o];
      seen[o] = 0;
    }
  }
  return y;
}
