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
 */
import { aRead, coefExpr, deltaBar, HELPERS, scanIndex, type ScanPlan } from './wgsl.js';

/** Invocations along time T and steps per invocation I of {@link forwardTimeSource} for sequence length L. */
export function timeTiling(L: number): { T: number; I: number } {
  const MAX_ITEMS = 8;
  let T = 32;
  while (T < 128 && T * MAX_ITEMS < L) T *= 2;
  return { T, I: Math.max(1, Math.min(MAX_ITEMS, Math.ceil(L / T))) };
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
