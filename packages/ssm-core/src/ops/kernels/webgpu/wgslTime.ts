/**
 * The time-parallel forward of the fused WGSL scan, after mamba_ssm's selective_scan_fwd_kernel: a workgroup per
 * row (b, d) with T invocations along time, each owning I consecutive steps of a chunk of T·I steps. For each state
 * n in turn, every invocation folds its I steps into one affine map h ↦ P·h + S (P = Π e^{Δ̄A}, S the inputs
 * carried through), a Hillis–Steele scan over the T maps in workgroup memory gives each invocation the state at
 * the start of its steps, and it replays them, adding h_t·C_t to its outputs y_t (Eq. 14f–14g); the state at
 * the chunk's end carries into the next chunk. Consecutive invocations read consecutive time steps of u, Δ, B
 * and C in the reference layout [b, ·, L], where the row- and state-parallel programs (./wgsl.ts) read one step
 * of many rows L floats apart (in the time-major layout it reads with a stride of d or n floats, and the
 * state-parallel program is the coalesced one there). b·d·T invocations; 2·log₂T barriers per state and chunk.
 * Same output as those programs: out at 0 and, when the plan keeps them, the chunk states at S_OFF.
 * Its twin for the gradients, {@link backwardTimeSource}, lays out the work the same way (flag
 * WEBGPU_SCAN_BACKWARD = 'time').
 */
import { shapeError } from '../../../errors.js';
import {
  aRead,
  coefExpr,
  deltaBar,
  adjointStep,
  HELPERS,
  scanIndex,
  type BackwardLayout,
  type ScanPlan,
} from './wgsl.js';

/** Invocations along time T and steps per invocation I of {@link forwardTimeSource} for sequence length L. */
export const timeTiling = (L: number) => tiling(L, 8);

/** T: the smallest of 32, 64, 128 with T·maxItems ≥ L (else 128); I: ⌈L / T⌉ steps per invocation, ≤ maxItems. */
function tiling(L: number, maxItems: number): { T: number; I: number } {
  let T = 32;
  while (T < 128 && T * maxItems < L) T *= 2;
  return { T, I: Math.max(1, Math.min(maxItems, Math.ceil(L / T))) };
}

/** WGSL of the time-parallel forward (dispatch: one workgroup of T invocations per row b·d, on a 2-D grid). */
export function forwardTimeSource(p: ScanPlan): string {
  const { s, S_OFF } = p;
  const { batch, dInner: DI, dState: N, L } = s;
  const { T, I } = timeTiling(L);
  const ix = scanIndex(p, false);
  const chan = s.deltaAlong === 'channel';
  return `${HELPERS}
var<workgroup> scP : array<f32, ${T}>;
var<workgroup> scS : array<f32, ${T}>;
var<workgroup> carry : array<f32, ${N}>;
fn main() {
  let i = i32(localId.x);
  let rowRaw = i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x);
  let valid = rowRaw < ${batch * DI}; // no early return: every invocation reaches every barrier
  let row = min(rowRaw, ${batch * DI - 1});
  let b = row / ${DI};
  let d = row % ${DI};
  let dc = d;
  let Dd = ${s.hasD ? `prm[${p.D_OFF} + d]` : '0.0'};
  for (var n = i; n < ${N}; n += ${T}) { carry[n] = 0.0; }
  workgroupBarrier();
  for (var t0 = 0; t0 < uniforms.ssL; t0 += ${T * I}) {
    let tb = t0 + i * ${I};
    var uv : array<f32, ${I}>;
    var yv : array<f32, ${I}>;
    ${chan ? `var dv : array<f32, ${I}>;` : ''}
    for (var k = 0; k < ${I}; k++) {
      let t = min(tb + k, uniforms.ssL - 1);
      uv[k] = u[${ix.row('b', 'd', 't')}];
      yv[k] = 0.0;
      ${chan ? `${deltaBar(p, ix, '0', 'dlc')}\n      dv[k] = dlc;` : ''}
    }
    for (var n = 0; n < uniforms.ssN; n++) {
      let a = ${aRead(p, 'd', 'n')};
      var dAv : array<f32, ${I}>;
      var buv : array<f32, ${I}>;
      var P = 1.0;
      var S = 0.0;
      for (var k = 0; k < ${I}; k++) {
        let t = tb + k;
        var dA = 1.0;
        var bu = 0.0;
        if (t < uniforms.ssL) {
          ${chan ? 'let dlv = dv[k];' : deltaBar(p, ix, 'n', 'dlv')}
          dA = exp(dlv * a);
          bu = ${coefExpr(p, 'dlv', 'a')} * ${ix.B('b', 'd', 'n', 't')} * uv[k];
        }
        dAv[k] = dA;
        buv[k] = bu;
        S = dA * S + bu;
        P = dA * P;
      }
      // inclusive scan of the maps (P, S) over the workgroup: (earlier ∘ this) = (P·P', P·S' + S)
      scP[i] = P;
      scS[i] = S;
      workgroupBarrier();
      for (var off = 1; off < ${T}; off = off << 1u) {
        var pP = 1.0;
        var pS = 0.0;
        if (i >= off) {
          pP = scP[i - off];
          pS = scS[i - off];
        }
        workgroupBarrier();
        S = P * pS + S;
        P = P * pP;
        scP[i] = P;
        scS[i] = S;
        workgroupBarrier();
      }
      let cin = carry[n];
      var h = cin;
      if (i > 0) { h = scP[i - 1] * cin + scS[i - 1]; }
      for (var k = 0; k < ${I}; k++) {
        let t = tb + k;
        if (t < uniforms.ssL) {
          h = dAv[k] * h + buv[k];
          yv[k] += h * ${ix.C('b', 'd', 'n', 't')};
          ${
            p.states
              ? `if (valid && ((t + 1) % uniforms.ssK == 0 || t == uniforms.ssL - 1)) {
            let c = t / uniforms.ssK;
            result[${S_OFF} + ${ix.state('b', 'd', 'c', 'n')}] = h;
          }`
              : ''
          }
        }
      }
      workgroupBarrier(); // every invocation has read carry[n] and the scan
      if (i == ${T - 1}) { carry[n] = P * cin + S; }
    }
    for (var k = 0; k < ${I}; k++) {
      let t = tb + k;
      if (valid && t < uniforms.ssL) {
        var y = yv[k] + Dd * uv[k];
        let io = ${ix.row('b', 'd', 't')};
        ${s.hasZ ? 'let zt = z[io];\n        y = y * zt / (1.0 + exp(-zt));' : ''}
        result[io] = y;
      }
    }
    workgroupBarrier(); // carry[] complete before the next chunk reads it
  }
}
`;
}

/** Invocations along time T and steps per invocation I of {@link backwardTimeSource}; its chunk length is K = T·I. */
export const timeBackwardTiling = (L: number) => tiling(L, 4);

/**
 * Rows (b, d) of one batch row that one workgroup of {@link backwardTimeSource} runs one after another: n clamped to
 * [4, 16], at most d. With R ≥ n (n ≤ 16) each partial-sum region [b, ⌈d / R⌉, n, L] is at most the size of u.
 */
export const timeBackwardRows = (s: Pick<ScanPlan['s'], 'dInner' | 'dState'>) =>
  Math.min(s.dInner, Math.max(4, Math.min(16, s.dState)));

/** Sums over t of {@link backwardTimeSource} per state: ∂A, and ∂B, ∂C when fixed ([d, n]). */
const timeSums = (s: ScanPlan['s']) => 1 + (s.bFixed ? 1 : 0) + (s.cFixed ? 1 : 0);

/**
 * Workgroup words of {@link backwardTimeSource} with T invocations: the scan (2·T), red (sums × T), the adjoint carry
 * (n) and the workgroup's row count.
 */
export function timeBackwardWorkgroupFloats(s: ScanPlan['s'], T: number): number {
  return (2 + timeSums(s)) * T + s.dState + 1;
}

/**
 * Backward, time-parallel, after mamba_ssm's selective_scan_bwd_kernel: a workgroup of T invocations along time,
 * each owning I consecutive steps of a chunk of K = T·I steps (the plan's chunk length, so that the forward's stored
 * chunk states give each chunk's start state), runs R = {@link ScanPlan.R} rows (b, d) of one batch row one after
 * another, and each row's chunks from the last to the first. Per chunk:
 *  1. with the gate: for each state n the forward recomputed by the scan of {@link forwardTimeSource} (affine maps
 *     h ↦ P·h + S over the invocations, in workgroup memory), y_t = Σ_n h_t C_t + D u_t, then ∂z and the cotangent
 *     gy_t of y;
 *  2. for each state n: the forward recomputed again, then the reverse adjoint ḡ_t = e^{Δ̄_{t+1}A} ḡ_{t+1} + gy_t C_t
 *     as a scan of the maps w ↦ e^{Δ̄_t A}·w + e^{Δ̄_t A} gy_t C_t (w_t = e^{Δ̄_t A} ḡ_t) over the invocations in
 *     reverse order, carried across chunks per state in workgroup memory; each step's terms follow backwardSource.
 * Sums over n (∂u, ∂Δ per channel) stay in the invocation's registers; sums over t (∂A, fixed ∂B, ∂C; ∂D) are a
 * workgroup reduction, added by invocation 0 to the row's output; sums over d (input-dependent ∂B, ∂C; ∂Δ per state)
 * go to the partial sums of this workgroup (G = ⌈d / R⌉ of them, finished by ./scan.ts's ssmSumGroups): the first
 * row writes them, the later ones add to them, each address touched by one invocation only. Same output layout as
 * backwardSource. b·⌈d / R⌉ workgroups on a 2-D grid.
 */
export function backwardTimeSource(p: ScanPlan, lay: BackwardLayout): string {
  const { s, S_OFF, R, G } = p;
  const { batch, dInner: DI, L } = s;
  const { T, I } = timeBackwardTiling(L);
  if (p.K !== T * I) throw shapeError('backwardTimeSource plan.K', `T·I = ${T * I} (its tiling of L = ${L})`, `${p.K}`);
  const ix = scanIndex(p);
  const chan = s.deltaAlong === 'channel';
  const spGrad = (raw: string) => (s.softplus ? `ss_softplusGrad(${raw})` : '1.0');
  const nSums = timeSums(s);
  const fixedSlot = { B: 1, C: s.bFixed ? 2 : 1 };
  // the per-state sums over d: written by the workgroup's first row, added to by the others
  const partialPut = (off: number, v: string) => `{
            let at = ${off} + ${ix.partial('b', 'gx', 'n', 't')};
            if (first) { result[at] = ${v}; } else { result[at] = result[at] + ${v}; }
          }`;
  const step = adjointStep(p, 'w');
  // inclusive Hillis–Steele scan over the invocations at position `j` of the maps (P, S) in registers:
  // (earlier ∘ this) = (P·P', P·S' + S); ends with every invocation's inclusive map in (P, S) and in scP/scS
  const scan = (j: string) => `scP[${j}] = P;
      scS[${j}] = S;
      workgroupBarrier();
      for (var off = 1; off < nT; off = off << 1u) {
        var pP = 1.0;
        var pS = 0.0;
        if (${j} >= off) {
          pP = scP[${j} - off];
          pS = scS[${j} - off];
        }
        workgroupBarrier();
        S = P * pS + S;
        P = P * pP;
        scP[${j}] = P;
        scS[${j}] = S;
        workgroupBarrier();
      }`;
  // the chunk's forward for state n: dAv, bv (B_t), hv (h after each step), and hin (h before the first step)
  const recompute = `let a = ${aRead(p, 'dc', 'n')};
      let hstart = select(0.0, st[${S_OFF} + ${ix.state('b', 'dc', 'max(c - 1, 0)', 'n')}], c > 0);
      var dAv : array<f32, ${I}>;
      var buv : array<f32, ${I}>;
      var hv : array<f32, ${I}>;
      ${chan ? '' : `var dlsv : array<f32, ${I}>;\n      var dlsRaw : array<f32, ${I}>;`}
      var P = 1.0;
      var S = 0.0;
      for (var k = 0; k < ${I}; k++) {
        let t = tb + k;
        var dA = 1.0;
        var bu = 0.0;
        if (t < uniforms.ssL) {
          ${chan ? 'let dlv = dcv[k];' : `${deltaBar(p, ix, 'n', 'dlv')}\n          dlsv[k] = dlv;\n          dlsRaw[k] = dlvRaw;`}
          dA = exp(dlv * a);
          bu = ${coefExpr(p, 'dlv', 'a')} * ${ix.B('b', 'dc', 'n', 't')} * uv[k];
        }
        dAv[k] = dA;
        buv[k] = bu;
        S = dA * S + bu;
        P = dA * P;
      }
      ${scan('i')}
      var hin = hstart;
      if (i > 0) { hin = scP[i - 1] * hstart + scS[i - 1]; }
      var h = hin;
      for (var k = 0; k < ${I}; k++) {
        h = dAv[k] * h + buv[k];
        hv[k] = h;
      }
      workgroupBarrier(); // every invocation has read the scan`;
  const treeSum = (slots: number) => `for (var off = nT >> 1u; off > 0; off = off >> 1u) {
        if (i < off) {
          ${[...Array(slots).keys()].map((q) => `red[${q * T} + i] += red[${q * T} + i + off];`).join('\n          ')}
        }
        workgroupBarrier();
      }`;
  return `${HELPERS}
var<workgroup> scP : array<f32, ${T}>;
var<workgroup> scS : array<f32, ${T}>;
var<workgroup> red : array<f32, ${nSums * T}>;
var<workgroup> ghC : array<f32, ${s.dState}>;
var<workgroup> rowsW : i32;
fn main() {
  let i = i32(localId.x);
  let j = ${T - 1} - i; // position in the reverse scan
  // T as a uniform, the bound of the loops over the workgroup's invocations (K = T·I): a shader compiler that sees
  // constant trip counts unrolls them, with their barriers
  let nT = uniforms.ssK / ${I};
  let wg = i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x);
  let valid = wg < ${batch * G}; // the grid may hold more workgroups: those run no row
  let wgc = min(wg, ${batch * G - 1});
  let b = wgc / ${G};
  let gx = wgc % ${G};
  // the number of rows of this workgroup, made uniform for the analysis of WGSL (the builtin ids reach main() through
  // private variables, which it takes as non-uniform): barriers run inside the loop over them
  if (i == 0) { rowsW = select(0, min(${R}, ${DI} - gx * ${R}), valid); }
  let rows = workgroupUniformLoad(&rowsW);
  for (var r = 0; r < rows; r++) {
    let dc = gx * ${R} + r;
    let row = b * ${DI} + dc;
    let first = r == 0;
    let Dd = ${s.hasD ? `prm[${p.D_OFF} + dc]` : '0.0'};
    for (var n0 = 0; n0 < uniforms.ssN; n0 += ${T}) {
      let n = n0 + i;
      if (n < uniforms.ssN) { ghC[n] = dy[${S_OFF} + ${ix.state('b', 'dc', 'uniforms.ssNC - 1', 'n')}]; }
    }
    var gDpart = 0.0;
    workgroupBarrier();
    for (var c = uniforms.ssNC - 1; c >= 0; c--) {
    let tb = c * uniforms.ssK + i * ${I};
    var uv : array<f32, ${I}>;
    var gyv : array<f32, ${I}>;
    var guv : array<f32, ${I}>;
    ${chan ? `var dcv : array<f32, ${I}>;\n    var dcRaw : array<f32, ${I}>;\n    var gdcv : array<f32, ${I}>;` : ''}
    ${s.hasZ ? `var yv : array<f32, ${I}>;` : ''}
    for (var k = 0; k < ${I}; k++) {
      let t = min(tb + k, uniforms.ssL - 1);
      let io = ${ix.row('b', 'dc', 't')};
      uv[k] = u[io];
      gyv[k] = select(0.0, dy[io], tb + k < uniforms.ssL);
      guv[k] = 0.0;
      ${chan ? `${deltaBar(p, ix, '0', 'dlc')}\n      dcv[k] = dlc;\n      dcRaw[k] = dlcRaw;\n      gdcv[k] = 0.0;` : ''}
      ${s.hasZ ? 'yv[k] = 0.0;' : ''}
    }
    ${
      s.hasZ
        ? `for (var n = 0; n < uniforms.ssN; n++) {
      ${recompute}
      for (var k = 0; k < ${I}; k++) {
        let t = tb + k;
        if (t < uniforms.ssL) { yv[k] += hv[k] * ${ix.C('b', 'dc', 'n', 't')}; }
      }
    }
    for (var k = 0; k < ${I}; k++) {
      let t = tb + k;
      if (t < uniforms.ssL) {
        let io = ${ix.row('b', 'dc', 't')};
        let zt = z[io];
        let sg = 1.0 / (1.0 + exp(-zt));
        let yPre = yv[k] + Dd * uv[k];
        result[${lay.GZ} + io] = gyv[k] * yPre * sg * (1.0 + zt * (1.0 - sg));
        gyv[k] = gyv[k] * zt * sg;
      }
    }`
        : ''
    }
    for (var k = 0; k < ${I}; k++) { gDpart += gyv[k] * uv[k]; }
    for (var n = 0; n < uniforms.ssN; n++) {
      ${recompute}
      // the reverse maps of this invocation's steps, last step first: w ↦ dA·(w + gy·C)
      var cv : array<f32, ${I}>;
      P = 1.0;
      S = 0.0;
      for (var kk = 0; kk < ${I}; kk++) {
        let k = ${I - 1} - kk;
        let t = tb + k;
        var e = 0.0;
        if (t < uniforms.ssL) { cv[k] = ${ix.C('b', 'dc', 'n', 't')}; e = gyv[k] * cv[k]; }
        S = dAv[k] * (S + e);
        P = dAv[k] * P;
      }
      ${scan('j')}
      let cin = ghC[n];
      var w = cin;
      if (j > 0) { w = scP[j - 1] * cin + scS[j - 1]; }
      var ga = 0.0;
      ${s.bFixed ? 'var gbF = 0.0;' : ''}
      ${s.cFixed ? 'var gcF = 0.0;' : ''}
      for (var kk = 0; kk < ${I}; kk++) {
        let k = ${I - 1} - kk;
        let t = tb + k;
        if (t < uniforms.ssL) {
          let ut = uv[k];
          let gy = gyv[k];
          let dA = dAv[k];
          ${chan ? 'let dlv = dcv[k];' : 'let dlv = dlsv[k];'}
          let hn = hv[k];
          var hp = hin;
          if (k > 0) { hp = hv[max(k - 1, 0)]; }
          let Cv = cv[k];
          let Bv = ${ix.B('b', 'dc', 'n', 't')};
          ${step}
          w = ghn * dA;
          guv[k] += guc;
          ${
            chan
              ? 'gdcv[k] += gdl;'
              : s.deltaAlong === 'full'
                ? `result[${lay.GDL} + ${ix.delta('b', 'dc', 'n', 't')}] = gdl * ${spGrad('dlsRaw[k]')};`
                : partialPut(lay.GDL, `gdl * ${spGrad('dlsRaw[k]')}`)
          }
          ${s.bFixed ? 'gbF += gBc;' : partialPut(lay.GB, 'gBc')}
          ${s.cFixed ? 'gcF += gCc;' : partialPut(lay.GC, 'gCc')}
        }
      }
      red[i] = ga;
      ${s.bFixed ? `red[${fixedSlot.B * T} + i] = gbF;` : ''}
      ${s.cFixed ? `red[${fixedSlot.C * T} + i] = gcF;` : ''}
      workgroupBarrier(); // every invocation has read ghC[n] and the scan
      if (i == 0) { ghC[n] = P * cin + S; } // invocation 0 holds the map of the whole chunk
      ${treeSum(nSums)}
      if (i == 0) {
        let ra = ${lay.GA} + row * ${s.dState} + n;
        let later = c < uniforms.ssNC - 1;
        result[ra] = select(0.0, result[ra], later) + red[0]${p.aLog ? ' * a' : ''};
        ${s.bFixed ? `let rb = ${lay.GB} + row * ${s.dState} + n;\n        result[rb] = select(0.0, result[rb], later) + red[${fixedSlot.B * T}];` : ''}
        ${s.cFixed ? `let rc = ${lay.GC} + row * ${s.dState} + n;\n        result[rc] = select(0.0, result[rc], later) + red[${fixedSlot.C * T}];` : ''}
      }
      workgroupBarrier(); // red and the scan free for the next state
    }
    for (var k = 0; k < ${I}; k++) {
      let t = tb + k;
      if (t < uniforms.ssL) {
        let io = ${ix.row('b', 'dc', 't')};
        result[${lay.GU} + io] = guv[k] + gyv[k] * Dd;
        ${chan ? `result[${lay.GDL} + io] = gdcv[k] * ${spGrad('dcRaw[k]')};` : ''}
      }
    }
    }
    ${
      s.hasD
        ? `red[i] = gDpart;
    workgroupBarrier();
    ${treeSum(1)}
    if (i == 0) { result[${lay.GD} + row] = red[0]; }
    workgroupBarrier();`
        : ''
    }
  }
}
`;
}
