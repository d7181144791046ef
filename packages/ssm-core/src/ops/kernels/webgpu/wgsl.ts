/**
 * WGSL sources of the fused selective scan (the 'webgpu' kernels of `selectiveScan`, ./scan.ts, and of the inner
 * ops s6Inner, mambaInner, mamba2Inner). Every size and layout choice is a compile-time constant of the shader, so
 * one pipeline serves one (shape, options, layout) pair; the shader key names them all.
 *
 * Buffers (all float32, flat), in one of two layouts ({@link ScanPlan.layout}, every index through
 * {@link scanIndex}):
 *                 'reference' (../../core/types.ts)         'timeMajor' (the model's [b, L, ·])
 *   u, z, out, dy [b, d, L]                                  [b, L, d]
 *   dl (delta)    [b, d, L] | [b, n, L] | [b, d, n, L]       [b, L, d] | [b, L, n] | [b, L, d, n]
 *                 (per channel | per state | full); Mamba-2's dt [b, L] in both
 *   B, C          [b, n, L] (input-dependent) or [d, n] (fixed)   [b, L, n] or [d, n]
 *   prm           A [d, n] (or A_log: ScanPlan.aLog), then D [d] at D_OFF, then deltaBias at BIAS_OFF
 *                 ([d] | [n] | [d, n])
 * In the time-major layout the invocations of the state-parallel programs that run side by side at one step t,
 * (d, n) then (d + 1, n), …, read neighbouring addresses of u, delta, B and C, so a GPU coalesces those loads into
 * few memory transactions; in the reference layout neighbouring invocations are L floats apart.
 * Dawn allows 8 storage buffers per shader stage (the output included): the forward binds u, dl, B, C, prm and z
 * (B and C as their own buffers), the backward u, dl, bc (B then C, C at offset C_OFF), prm, z, the forward's
 * output and its cotangent: 7 + 1. When B and C are columns of one [b, L, W] tensor (S6's x_proj output,
 * ScanPlan.bcColumns), both passes bind that tensor once as bc.
 *
 * Forward output, one flat buffer: out at 0 and, when the plan keeps them ({@link ScanPlan.states}), the states at
 * chunk boundaries [NC, b, d, n] at S_OFF: entry c is h at t = min((c + 1)·K, L) − 1, so the last b·d·n floats are
 * the final state.
 */
import type { ScanDims } from '../../core/types.js';

/**
 * Compile-time facts of one scan program. The loop bounds over time (L, K, NC) are also passed as uniforms
 * (`ssL`, `ssK`, `ssNC`, {@link SCAN_UNIFORMS}): a shader compiler that sees constant trip counts unrolls the
 * loops over t, which costs seconds of compilation on CPU Vulkan drivers and nothing at run time.
 */
export interface ScanPlan {
  s: ScanDims;
  /** Chunk length of the states kept for the backward pass; NC = ⌈L / K⌉ chunks. */
  K: number;
  NC: number;
  /** Channels per workgroup of the row-parallel programs (one invocation per channel d of one batch row b). */
  WG: number;
  /** Workgroups along d of the backward program: ⌈d / WG⌉ (rows) or ⌈d / R⌉ (states, time). */
  G: number;
  /**
   * The backward program: 'rows' ({@link backwardSource}, one invocation per (b, d), n states in private arrays)
   * or 'states' ({@link backwardStatesSource}, one invocation per (b, d, n) with R rows × n states per workgroup)
   * or 'time' (./wgslTime.ts backwardTimeSource, a workgroup of invocations along time running R rows in turn).
   */
  bwd: 'rows' | 'states' | 'time';
  /** Rows per workgroup of the state-parallel backward (R·n invocations), or run in turn by the time-parallel one. */
  R: number;
  C_OFF: number;
  D_OFF: number;
  BIAS_OFF: number;
  /** Where the chunk states start in the forward output. */
  S_OFF: number;
  /**
   * Mamba-2's scalar decay: Δ is [b, L] (one value per step, shared by every channel and state) and deltaBias [1];
   * `s.deltaAlong` is then 'channel' (Δ̄ once per step) and ∂Δ is written per channel, summed over d afterwards.
   */
  deltaPerTime: boolean;
  /** Layout of every per-step buffer (u, z, out, delta, B, C and their gradients): see the file comment. */
  layout: ScanLayoutName;
  /** Whether the forward writes the chunk states after out (for the backward pass or the last state). */
  states: boolean;
  /**
   * prm holds A_log instead of A (the models' parameter, A = −exp(A_log)): the programs compute a = −exp(A_log) and
   * write ∂A_log = ∂a · a in place of ∂A, so no tf op runs for A on either pass.
   */
  aLog: boolean;
  /**
   * Time-major, input-dependent B and C only: B and C are the columns bOff … bOff + n and cOff … cOff + n of one
   * [b, L, W] tensor (S6's x_proj output x_dbl = [Δ_low | B | C]), bound once as bc in both passes and read in
   * place; the gradient of that tensor is assembled from the backward's partial sums of ∂B and ∂C (./scan.ts).
   */
  bcColumns?: BCColumns;
}

/** Where B and C sit in the rows of one time-major tensor [b, L, W]. */
export interface BCColumns {
  W: number;
  bOff: number;
  cOff: number;
}

/** 'reference': mamba_ssm's [b, ·, L]; 'timeMajor': the model's [b, L, ·]. */
export type ScanLayoutName = 'reference' | 'timeMajor';

/** The shared helpers: torch softplus (threshold 20), its derivative, expm1/log1p in float32, ZOH coefficient. */
/** The uniforms the scan programs declare (after the backend's own). */
export const SCAN_UNIFORMS = 'ssL : i32, ssK : i32, ssNC : i32, ssN : i32,';

export const HELPERS = `
fn ss_log1p(y : f32) -> f32 {
  let w = 1.0 + y;
  if (w == 1.0) { return y; }
  return log(w) * y / (w - 1.0);
}
fn ss_softplus(x : f32) -> f32 {
  if (x > 20.0) { return x; }
  return max(x, 0.0) + ss_log1p(exp(-abs(x)));
}
fn ss_softplusGrad(x : f32) -> f32 {
  if (x > 20.0) { return 1.0; }
  return 1.0 / (1.0 + exp(-x));
}
fn ss_expm1(x : f32) -> f32 {
  if (x > 20.0) { return exp(x) - 1.0; }
  let w = exp(x);
  if (w == 1.0) { return x; }
  let wm1 = w - 1.0;
  if (wm1 == -1.0) { return -1.0; }
  return wm1 * x / log(w);
}
// (e^{Δa} − 1)/a, equal to Δ at a = 0 (series near 0).
fn ss_zoh(dt : f32, a : f32) -> f32 {
  let x = dt * a;
  if (abs(x) < 1e-4) { return dt * (1.0 + x * (0.5 + x / 6.0)); }
  return ss_expm1(x) / a;
}
// ∂/∂a of ss_zoh: Δ²·(x eˣ − (eˣ − 1))/x² with x = Δa; its Taylor series Σ_k (k+1) x^k/(k+2)! below |x| = 0.1.
fn ss_zohGradA(dt : f32, a : f32) -> f32 {
  let x = dt * a;
  if (abs(x) < 0.1) {
    return dt * dt * (0.5 + x * (1.0 / 3.0 + x * (0.125 + x * (1.0 / 30.0 + x * (1.0 / 144.0 + x / 840.0)))));
  }
  let e = exp(x);
  return dt * dt * (e * (x - 1.0) + 1.0) / (x * x);
}
`;

/**
 * WGSL expressions of the flat index of each argument, for batch `b`, channel `d`, state `n`, time `t` (WGSL
 * expressions too), in the plan's layout; no program computes an index of a per-step buffer any other way.
 *   row      u, z, out, dy's out part, ∂u, ∂z, Δ and ∂Δ per channel (Mamba-2: ∂Δ before its sum over d)
 *   delta    dl, and the full ∂Δ
 *   bias     deltaBias inside prm
 *   B, C     B, C (in the packed bc buffer when `packed`, else each its own; columns of bc: ScanPlan.bcColumns)
 *   partial  the per-workgroup partial sums g of the gradients reduced over d (input-dependent ∂B, ∂C; ∂Δ per
 *            state): [b, G, n, L] | [b, G, L, n], so that the final sum over g reads them in the layout of the
 *            gradient it produces, with consecutive invocations on consecutive addresses
 *   state    the chunk states [NC, b, d, n] (both layouts)
 */
export function scanIndex(p: ScanPlan, packed = true) {
  const { s, G } = p;
  const { batch: BT, dInner: DI, dState: N, L } = s;
  const tm = p.layout === 'timeMajor';
  const row = (b: string, d: string, t: string) =>
    tm ? `((${b}) * ${L} + ${t}) * ${DI} + ${d}` : `((${b}) * ${DI} + ${d}) * ${L} + ${t}`;
  const perState = (b: string, n: string, t: string) =>
    tm ? `((${b}) * ${L} + ${t}) * ${N} + ${n}` : `((${b}) * ${N} + ${n}) * ${L} + ${t}`;
  const delta = p.deltaPerTime
    ? (b: string, _d: string, _n: string, t: string) => `(${b}) * ${L} + ${t}`
    : s.deltaAlong === 'channel'
      ? (b: string, d: string, _n: string, t: string) => row(b, d, t)
      : s.deltaAlong === 'state'
        ? (b: string, _d: string, n: string, t: string) => perState(b, n, t)
        : tm
          ? (b: string, d: string, n: string, t: string) => `(((${b}) * ${L} + ${t}) * ${DI} + ${d}) * ${N} + ${n}`
          : (b: string, d: string, n: string, t: string) => `(((${b}) * ${DI} + ${d}) * ${N} + ${n}) * ${L} + ${t}`;
  const bias = p.deltaPerTime
    ? (_d: string, _n: string) => `${p.BIAS_OFF}`
    : s.deltaAlong === 'channel'
      ? (d: string, _n: string) => `${p.BIAS_OFF} + ${d}`
      : s.deltaAlong === 'state'
        ? (_d: string, n: string) => `${p.BIAS_OFF} + ${n}`
        : (d: string, n: string) => `${p.BIAS_OFF} + (${d}) * ${N} + ${n}`;
  const cols = p.bcColumns;
  const bcRead = (fixed: boolean, buf: string, off: number) => (b: string, d: string, n: string, t: string) =>
    `${buf}[${off ? `${off} + ` : ''}${fixed ? `(${d}) * ${N} + ${n}` : perState(b, n, t)}]`;
  const colRead = (off: number) => (b: string, _d: string, n: string, t: string) =>
    `bc[((${b}) * ${L} + ${t}) * ${cols!.W} + ${off} + ${n}]`;
  const partial = (b: string, g: string, n: string, t: string) =>
    tm
      ? `(((${b}) * ${G} + ${g}) * ${L} + ${t}) * ${N} + ${n}`
      : `(((${b}) * ${G} + ${g}) * ${N} + ${n}) * ${L} + ${t}`;
  const state = (b: string, d: string, c: string, n: string) =>
    `(((${c}) * ${BT} + ${b}) * ${DI} + ${d}) * ${N} + ${n}`;
  return {
    row,
    delta,
    bias,
    /** The WGSL read of B_t[n] (or B[d, n] when fixed). */
    B: cols ? colRead(cols.bOff) : bcRead(s.bFixed, packed ? 'bc' : 'bb', 0),
    /** The WGSL read of C_t[n] (or C[d, n] when fixed). */
    C: cols ? colRead(cols.cOff) : bcRead(s.cFixed, packed ? 'bc' : 'cc', packed ? p.C_OFF : 0),
    partial,
    state,
  };
}

/** Δ̄ for (b, dc, n, t): delta (+ bias), softplus'd when asked; `raw` names the pre-softplus value. */
export function deltaBar(p: ScanPlan, ix: ReturnType<typeof scanIndex>, n: string, name: string): string {
  const { s } = p;
  const raw = `dl[${ix.delta('b', 'dc', n, 't')}]${s.hasBias ? ` + prm[${ix.bias('dc', n)}]` : ''}`;
  return `let ${name}Raw = ${raw};
      let ${name} = ${s.softplus ? `ss_softplus(${name}Raw)` : `${name}Raw`};`;
}

/** a = A[d, n], or −exp(A_log[d, n]) when the plan takes A_log ({@link ScanPlan.aLog}). */
export const aRead = (p: ScanPlan, d: string, n: string) =>
  p.aLog ? `-exp(prm[(${d}) * ${p.s.dState} + ${n}])` : `prm[(${d}) * ${p.s.dState} + ${n}]`;

export const coefExpr = (p: ScanPlan, dl: string, a: string) =>
  p.s.disc === 'euler' ? dl : p.s.disc === 'zoh' ? `ss_zoh(${dl}, ${a})` : '1.0';

/**
 * Forward: one invocation per (b, d) row; h_t = e^{Δ̄_t A} h_{t−1} + B̄_t u_t kept in a private array of n floats,
 * y_t = Σ_n h_t C_t + D u_t, out_t = y_t·silu(z_t) (Eq. 14f–14g); h written at every chunk boundary when the plan
 * keeps the states. In the time-major layout neighbouring invocations (d, d + 1) read u_t, Δ_t, z_t and write out_t
 * at neighbouring addresses.
 */
export function forwardSource(p: ScanPlan): string {
  const { s, WG, S_OFF } = p;
  const { dInner: DI, dState: N } = s;
  const ix = scanIndex(p, false);
  const chan = s.deltaAlong === 'channel';
  return `${HELPERS}
fn main() {
  let d = i32(workgroupId.x) * ${WG} + i32(localId.x);
  let b = i32(workgroupId.y);
  if (d >= ${DI}) { return; }
  let dc = d;
  var h : array<f32, ${N}>;
  var aRow : array<f32, ${N}>;
  for (var n = 0; n < ${N}; n++) {
    h[n] = 0.0;
    aRow[n] = ${aRead(p, 'd', 'n')};
  }
  let Dd = ${s.hasD ? `prm[${p.D_OFF} + d]` : '0.0'};
  for (var t = 0; t < uniforms.ssL; t++) {
    let io = ${ix.row('b', 'd', 't')};
    let ut = u[io];
    ${chan ? deltaBar(p, ix, '0', 'dlc') : ''}
    var y = 0.0;
    for (var n = 0; n < ${N}; n++) {
      ${chan ? 'let dlv = dlc;' : deltaBar(p, ix, 'n', 'dlv')}
      let a = aRow[n];
      let dA = exp(dlv * a);
      h[n] = dA * h[n] + ${coefExpr(p, 'dlv', 'a')} * ${ix.B('b', 'd', 'n', 't')} * ut;
      y += h[n] * ${ix.C('b', 'd', 'n', 't')};
    }
    y += Dd * ut;
    ${s.hasZ ? `let zt = z[io];\n    y = y * zt / (1.0 + exp(-zt));` : ''}
    result[io] = y;
    ${
      p.states
        ? `if ((t + 1) % uniforms.ssK == 0 || t == uniforms.ssL - 1) {
      let c = t / uniforms.ssK;
      for (var n = 0; n < ${N}; n++) { result[${S_OFF} + ${ix.state('b', 'd', 'c', 'n')}] = h[n]; }
    }`
        : ''
    }
  }
}
`;
}

/** Regions of the backward output buffer (offsets in floats) and the quantities reduced over d in a workgroup. */
export interface BackwardLayout {
  GU: number;
  GZ: number;
  GDL: number;
  GA: number;
  GD: number;
  GB: number;
  GC: number;
  size: number;
  /** Reduced over the workgroup's channels per (t, n): partial sums (scanIndex's `partial`: [b, G, n, L] | [b, G, L, n]). */
  reduced: ('B' | 'C' | 'dl')[];
}

export function backwardLayout(p: ScanPlan): BackwardLayout {
  const { s, G } = p;
  const { batch, dInner: DI, dState: N, L } = s;
  const rows = batch * DI;
  const partial = batch * G * N * L;
  let o = 0;
  const take = (n: number) => {
    const at = o;
    o += n;
    return at;
  };
  const GU = take(rows * L);
  const GZ = s.hasZ ? take(rows * L) : -1;
  const GDL = take(s.deltaAlong === 'channel' ? rows * L : s.deltaAlong === 'full' ? rows * N * L : partial);
  const GA = take(rows * N);
  const GD = s.hasD ? take(rows) : -1;
  const GB = take(s.bFixed ? rows * N : partial);
  const GC = take(s.cFixed ? rows * N : partial);
  const reduced: BackwardLayout['reduced'] = [];
  if (!s.bFixed) reduced.push('B');
  if (!s.cFixed) reduced.push('C');
  if (s.deltaAlong === 'state') reduced.push('dl');
  return { GU, GZ, GDL, GA, GD, GB, GC, size: o, reduced };
}

/**
 * The gate's backward at step t (out = y·silu(z), Eq. 14g): writes ∂z from y_t = Σ_k h_t[k] C_t[k] + D u_t and
 * turns `gy` (the cotangent of out) into that of y. `hAt(k)` is the WGSL expression of h_t[k], `k` the loop index.
 */
function gateBackward(p: ScanPlan, lay: BackwardLayout, hAt: (k: string) => string, k: string): string {
  const { dState: N } = p.s;
  const C = scanIndex(p).C('b', 'dc', k, 't');
  return `let zt = z[io];
      let sg = 1.0 / (1.0 + exp(-zt));
      var yPre = Dd * ut;
      for (var ${k} = 0; ${k} < ${N}; ${k}++) { yPre += ${hAt(k)} * ${C}; }
      if (valid) { result[${lay.GZ} + io] = gy * yPre * sg * (1.0 + zt * (1.0 - sg)); }
      gy = gy * zt * sg;`;
}

/**
 * Backward: the reverse-mode recurrence ḡ_t = e^{Δ̄_{t+1}A} ḡ_{t+1} + gy_t C_t (as mamba_ssm's
 * selective_scan_bwd_kernel), chunk by chunk from the end: each chunk's states are recomputed from the state
 * stored at its start (a private array of (K + 1)·n floats), then walked in reverse. Sums over t stay in the
 * invocation; sums over d of the per-state gradients (input-dependent B, C; Δ per state) go through workgroup
 * memory, one partial sum per workgroup, finished by ./scan.ts's ssmSumGroups over the G workgroups. In the
 * time-major layout neighbouring invocations (d, d + 1) read u_t, z_t, Δ_t, dy_t and write ∂u_t, ∂z_t, ∂Δ_t at
 * neighbouring addresses.
 */
export function backwardSource(p: ScanPlan, lay: BackwardLayout): string {
  const { s, K, NC, WG, S_OFF } = p;
  const { dInner: DI, dState: N } = s;
  const ix = scanIndex(p);
  const chan = s.deltaAlong === 'channel';
  const Q = lay.reduced.length;
  const slot = (q: 'B' | 'C' | 'dl') => lay.reduced.indexOf(q);
  const put = (q: 'B' | 'C' | 'dl', v: string) => `red[(${slot(q)} * ${N} + n) * ${WG} + lid] = ${v};`;
  const partialOff = (q: 'B' | 'C' | 'dl') => (q === 'B' ? lay.GB : q === 'C' ? lay.GC : lay.GDL);
  const gB = s.bFixed ? (v: string) => `gbF[n] += ${v};` : (v: string) => put('B', v);
  const gC = s.cFixed ? (v: string) => `gcF[n] += ${v};` : (v: string) => put('C', v);
  const spGrad = (raw: string) => (s.softplus ? `ss_softplusGrad(${raw})` : '1.0');
  return `${HELPERS}
${Q ? `var<workgroup> red : array<f32, ${Q * N * WG}>;` : ''}
fn main() {
  let lid = i32(localId.x);
  let d = i32(workgroupId.x) * ${WG} + lid;
  let b = i32(workgroupId.y);
  let valid = d < ${DI};
  let dc = min(d, ${DI - 1});
  let row = b * ${DI} + dc;
  let mask = select(0.0, 1.0, valid);
  var hs : array<f32, ${(K + 1) * N}>;
  var gh : array<f32, ${N}>;
  var gaRow : array<f32, ${N}>;
  var aRow : array<f32, ${N}>;
  ${s.bFixed ? `var gbF : array<f32, ${N}>;` : ''}
  ${s.cFixed ? `var gcF : array<f32, ${N}>;` : ''}
  for (var n = 0; n < ${N}; n++) {
    gh[n] = dy[${S_OFF} + ${ix.state('b', 'dc', `${NC - 1}`, 'n')}] * mask;
    gaRow[n] = 0.0;
    aRow[n] = ${aRead(p, 'dc', 'n')};
    ${s.bFixed ? 'gbF[n] = 0.0;' : ''}
    ${s.cFixed ? 'gcF[n] = 0.0;' : ''}
  }
  let Dd = ${s.hasD ? `prm[${p.D_OFF} + dc]` : '0.0'};
  var gDacc = 0.0;
  for (var c = uniforms.ssNC - 1; c >= 0; c--) {
    let t0 = c * uniforms.ssK;
    let t1 = min(t0 + uniforms.ssK, uniforms.ssL);
    for (var n = 0; n < ${N}; n++) {
      hs[n] = select(0.0, st[${S_OFF} + ${ix.state('b', 'dc', 'max(c - 1, 0)', 'n')}], c > 0);
    }
    for (var t = t0; t < t1; t++) {
      let ut = u[${ix.row('b', 'dc', 't')}];
      let i = t - t0;
      ${chan ? deltaBar(p, ix, '0', 'dlc') : ''}
      for (var n = 0; n < ${N}; n++) {
        ${chan ? 'let dlv = dlc;' : deltaBar(p, ix, 'n', 'dlv')}
        let a = aRow[n];
        hs[(i + 1) * ${N} + n] = exp(dlv * a) * hs[i * ${N} + n] + ${coefExpr(p, 'dlv', 'a')} * ${ix.B('b', 'dc', 'n', 't')} * ut;
      }
    }
    for (var t = t1 - 1; t >= t0; t--) {
      let i = t - t0;
      let io = ${ix.row('b', 'dc', 't')};
      let ut = u[io];
      var gy = dy[io] * mask;
      ${s.hasZ ? gateBackward(p, lay, (k) => `hs[(i + 1) * ${N} + ${k}]`, 'n') : ''}
      gDacc += gy * ut;
      var gut = gy * Dd;
      var gdlRow = 0.0;
      ${chan ? deltaBar(p, ix, '0', 'dlc') : ''}
      for (var n = 0; n < ${N}; n++) {
        ${chan ? 'let dlv = dlc;' : deltaBar(p, ix, 'n', 'dlv')}
        let a = aRow[n];
        let dA = exp(dlv * a);
        let hp = hs[i * ${N} + n];
        let hn = hs[(i + 1) * ${N} + n];
        let Cv = ${ix.C('b', 'dc', 'n', 't')};
        let Bv = ${ix.B('b', 'dc', 'n', 't')};
        ${gC('gy * hn')}
        let ghn = gh[n] + gy * Cv;
        let gdA = ghn * hp;
        var gdl = gdA * dA * a;
        var ga = gdA * dA * dlv;
        ${
          s.disc === 'euler'
            ? `gdl += ghn * Bv * ut;
        ${gB('ghn * dlv * ut')}
        gut += ghn * dlv * Bv;`
            : s.disc === 'zoh'
              ? `let phi = ss_zoh(dlv, a);
        gdl += ghn * Bv * ut * dA;
        ga += ghn * Bv * ut * ss_zohGradA(dlv, a);
        ${gB('ghn * phi * ut')}
        gut += ghn * phi * Bv;`
              : `${gB('ghn * ut')}
        gut += ghn * Bv;`
        }
        ${
          chan
            ? 'gdlRow += gdl;'
            : s.deltaAlong === 'full'
              ? `if (valid) { result[${lay.GDL} + ${ix.delta('b', 'dc', 'n', 't')}] = gdl * ${spGrad('dlvRaw')}; }`
              : put('dl', `gdl * ${spGrad('dlvRaw')}`)
        }
        gaRow[n] += ga;
        gh[n] = ghn * dA;
      }
      ${chan ? `if (valid) { result[${lay.GDL} + io] = gdlRow * ${spGrad('dlcRaw')}; }` : ''}
      if (valid) { result[${lay.GU} + io] = gut; }
      ${
        Q
          ? `workgroupBarrier();
      for (var k = lid; k < ${Q * N}; k += ${WG}) {
        var acc = 0.0;
        for (var j = 0; j < ${WG}; j++) { acc += red[k * ${WG} + j]; }
        let q = k / ${N};
        let n = k % ${N};
        let at = ${ix.partial('b', 'i32(workgroupId.x)', 'n', 't')};
        ${lay.reduced.map((q, qi) => `if (q == ${qi}) { result[${partialOff(q)} + at] = acc; }`).join('\n        ')}
      }
      workgroupBarrier();`
          : ''
      }
    }
  }
  if (valid) {
    for (var n = 0; n < ${N}; n++) {
      result[${lay.GA} + row * ${N} + n] = gaRow[n]${p.aLog ? ' * aRow[n]' : ''};
      ${s.bFixed ? `result[${lay.GB} + row * ${N} + n] = gbF[n];` : ''}
      ${s.cFixed ? `result[${lay.GC} + row * ${N} + n] = gcF[n];` : ''}
    }
    ${s.hasD ? `result[${lay.GD} + row] = gDacc;` : ''}
  }
}
`;
}

/** The red[] slots of {@link backwardStatesSource}: sums over n per row (u, and Δ per channel), over rows per state. */
export function statesSlots(p: ScanPlan): { rowSums: ('u' | 'dl')[]; stateSums: ('B' | 'C' | 'S')[] } {
  const { s } = p;
  const rowSums: ('u' | 'dl')[] = s.deltaAlong === 'channel' ? ['u', 'dl'] : ['u'];
  const stateSums: ('B' | 'C' | 'S')[] = [];
  if (!s.bFixed) stateSums.push('B');
  if (!s.cFixed) stateSums.push('C');
  if (s.deltaAlong === 'state') stateSums.push('S');
  return { rowSums, stateSums };
}

/** Workgroup floats of {@link backwardStatesSource} at chunk length K: red (slots × T), hs (K × T), gys (K × R). */
export function statesWorkgroupFloats(p: Pick<ScanPlan, 's' | 'R'>, K: number): number {
  const T = p.R * p.s.dState;
  const { rowSums, stateSums } = statesSlots(p as ScanPlan);
  return (rowSums.length + stateSums.length) * T + K * T + K * p.R;
}

/**
 * The discretisation's part of one step's backward for one state (after mamba_ssm's selective_scan_bwd_kernel),
 * with ghn = ∂h_t, Bv = B_t, ut = u_t, dlv = Δ̄_t, a = A, dA = e^{Δ̄_t A} in scope: adds B̄'s terms to `gdl` (∂Δ̄)
 * and `ga` (∂A), and defines gBc (∂B_t) and guc (this state's term of ∂u_t).
 */
export function discBackward(p: ScanPlan): string {
  const { disc } = p.s;
  return disc === 'euler'
    ? `gdl += ghn * Bv * ut;
      let gBc = ghn * dlv * ut;
      let guc = ghn * dlv * Bv;`
    : disc === 'zoh'
      ? `let phi = ss_zoh(dlv, a);
      gdl += ghn * Bv * ut * dA;
      ga += ghn * Bv * ut * ss_zohGradA(dlv, a);
      let gBc = ghn * phi * ut;
      let guc = ghn * phi * Bv;`
      : `let gBc = ghn * ut;
      let guc = ghn * Bv;`;
}

/**
 * One step of the reverse recurrence for one state, after mamba_ssm's selective_scan_bwd_kernel: with gy the output
 * cotangent, hn = h_t, hp = h_{t−1}, Cv = C_t and `carry` = e^{Δ̄_{t+1}A}·ḡ_{t+1} in scope, defines gCc (∂C_t),
 * ghn = ḡ_t = carry + gy·C_t, gdA and gdl (∂Δ̄), adds ∂A's term to `ga`, then the discretisation's terms
 * ({@link discBackward}). The caller carries ghn·dA to the step before.
 */
export function adjointStep(p: ScanPlan, carry: string): string {
  return `let gCc = gy * hn;
      let ghn = ${carry} + gy * Cv;
      let gdA = ghn * hp;
      var gdl = gdA * dA * a;
      ga += gdA * dA * dlv;
      ${discBackward(p)}`;
}

/**
 * Backward, state-parallel: one invocation per (b, d, n), a workgroup of R rows of one batch row b × n states, so
 * b·d·n invocations each keep their own h, adjoint ḡ and ∂A in registers. Chunk by chunk from the end:
 *  1. recompute h over the chunk from the stored state at its start, into workgroup memory hs [K, R·n];
 *  2. per row and step (R·n invocations over R rows × K steps): the gate (∂z from y_t = Σ_n h_t C_t + D u_t) and
 *     the output cotangent gy_t into gys [K, R], and Σ_t gy_t u_t for ∂D;
 *  3. walk the chunk in reverse: ḡ_t = e^{Δ̄_{t+1}A} ḡ_{t+1} + gy_t C_t (as mamba_ssm's selective_scan_bwd_kernel);
 *     each step's terms go to red[], and after a barrier the sums over n per row (∂u, ∂Δ per channel) and over the
 *     R rows per state (∂B, ∂C input-dependent, ∂Δ per state: partial sums, G = ⌈d / R⌉ of them, finished by
 *     ./scan.ts's ssmSumGroups) are written by one invocation each.
 * Same output layout as {@link backwardSource}. In the time-major layout the R·n invocations of a workgroup read
 * u_t, Δ_t (per channel: R consecutive floats; per state and full: consecutive too), B_t and C_t (n consecutive
 * floats) at neighbouring addresses at each step t, and write the n partial sums of step t side by side.
 */
export function backwardStatesSource(p: ScanPlan, lay: BackwardLayout): string {
  const { s, K, NC, R, S_OFF } = p;
  const { dInner: DI, dState: N } = s;
  const T = R * N;
  const ix = scanIndex(p);
  const chan = s.deltaAlong === 'channel';
  const { rowSums, stateSums } = statesSlots(p);
  const slot = (q: string) => (rowSums as string[]).concat(stateSums).indexOf(q);
  const Q = rowSums.length + stateSums.length;
  const spGrad = (raw: string) => (s.softplus ? `ss_softplusGrad(${raw})` : '1.0');
  const stateOff = (q: 'B' | 'C' | 'S') => (q === 'B' ? lay.GB : q === 'C' ? lay.GC : lay.GDL);
  // the row-sum tasks (R rows × rowSums) then the state-sum tasks (n states × stateSums), one invocation each
  const rowTask = (q: 'u' | 'dl') =>
    q === 'u'
      ? `result[${lay.GU} + ${ix.row('b', 'dd', 't')}] = acc${s.hasD ? ` + gys[i * ${R} + rr] * prm[${p.D_OFF} + dd]` : ''};`
      : `let dlcRaw = dl[${ix.delta('b', 'dd', '0', 't')}]${s.hasBias ? ` + prm[${ix.bias('dd', '0')}]` : ''};
          result[${lay.GDL} + ${ix.row('b', 'dd', 't')}] = acc * ${spGrad('dlcRaw')};`;
  return `${HELPERS}
var<workgroup> hs : array<f32, ${K * T}>;
var<workgroup> gys : array<f32, ${K * R}>;
var<workgroup> red : array<f32, ${Q * T}>;
fn main() {
  let lid = i32(localId.x);
  let r = lid / ${N};
  let n = lid % ${N};
  let gx = i32(workgroupId.x);
  let b = i32(workgroupId.y);
  let d = gx * ${R} + r;
  let valid = d < ${DI};
  let dc = min(d, ${DI - 1});
  let row = b * ${DI} + dc;
  let mask = select(0.0, 1.0, valid);
  let a = ${aRead(p, 'dc', 'n')};
  let Dd = ${s.hasD ? `prm[${p.D_OFF} + dc]` : '0.0'};
  var gh = dy[${S_OFF} + ${ix.state('b', 'dc', `${NC - 1}`, 'n')}] * mask;
  var ga = 0.0;
  var gbF = 0.0;
  var gcF = 0.0;
  var gDpart = 0.0;
  for (var c = uniforms.ssNC - 1; c >= 0; c--) {
    let t0 = c * uniforms.ssK;
    let len = min(uniforms.ssK, uniforms.ssL - t0);
    let hstart = select(0.0, st[${S_OFF} + ${ix.state('b', 'dc', 'max(c - 1, 0)', 'n')}], c > 0);
    var h = hstart;
    for (var i = 0; i < len; i++) {
      let t = t0 + i;
      let ut = u[${ix.row('b', 'dc', 't')}];
      ${deltaBar(p, ix, 'n', 'dlv')}
      h = exp(dlv * a) * h + ${coefExpr(p, 'dlv', 'a')} * ${ix.B('b', 'dc', 'n', 't')} * ut;
      hs[i * ${T} + lid] = h;
    }
    workgroupBarrier();
    for (var j = n; j < len; j += ${N}) {
      let t = t0 + j;
      let io = ${ix.row('b', 'dc', 't')};
      let ut = u[io];
      var gy = dy[io] * mask;
      ${s.hasZ ? gateBackward(p, lay, (k) => `hs[j * ${T} + r * ${N} + ${k}]`, 'k') : ''}
      gys[j * ${R} + r] = gy;
      gDpart += gy * ut;
    }
    workgroupBarrier();
    for (var i = len - 1; i >= 0; i--) {
      let t = t0 + i;
      let ut = u[${ix.row('b', 'dc', 't')}];
      let gy = gys[i * ${R} + r];
      let hn = hs[i * ${T} + lid];
      let hp = select(hstart, hs[max(i - 1, 0) * ${T} + lid], i > 0);
      ${deltaBar(p, ix, 'n', 'dlv')}
      let dA = exp(dlv * a);
      let Cv = ${ix.C('b', 'dc', 'n', 't')};
      let Bv = ${ix.B('b', 'dc', 'n', 't')};
      ${adjointStep(p, 'gh')}
      gh = ghn * dA;
      red[${slot('u')} * ${T} + lid] = guc;
      ${chan ? `red[${slot('dl')} * ${T} + lid] = gdl;` : ''}
      ${s.deltaAlong === 'full' ? `if (valid) { result[${lay.GDL} + ${ix.delta('b', 'dc', 'n', 't')}] = gdl * ${spGrad('dlvRaw')}; }` : ''}
      ${s.deltaAlong === 'state' ? `red[${slot('S')} * ${T} + lid] = gdl * ${spGrad('dlvRaw')};` : ''}
      ${s.bFixed ? 'gbF += gBc;' : `red[${slot('B')} * ${T} + lid] = gBc;`}
      ${s.cFixed ? 'gcF += gCc;' : `red[${slot('C')} * ${T} + lid] = gCc;`}
      workgroupBarrier();
      for (var k = lid; k < ${R * rowSums.length + N * stateSums.length}; k += ${T}) {
        if (k < ${R * rowSums.length}) {
          let rr = k / ${rowSums.length};
          let q = k % ${rowSums.length};
          let dd = gx * ${R} + rr;
          if (dd < ${DI}) {
            let rg = b * ${DI} + dd;
            var acc = 0.0;
            for (var m = 0; m < ${N}; m++) { acc += red[q * ${T} + rr * ${N} + m]; }
            ${rowSums.map((q, qi) => `if (q == ${qi}) { ${rowTask(q)} }`).join('\n            ')}
          }
        } else {
          let kk = k - ${R * rowSums.length};
          let nn = kk % ${N};
          let q = kk / ${N};
          var acc = 0.0;
          for (var m = 0; m < ${R}; m++) { acc += red[(${rowSums.length} + q) * ${T} + m * ${N} + nn]; }
          let at = ${ix.partial('b', 'gx', 'nn', 't')};
          ${stateSums.map((q, qi) => `if (q == ${qi}) { result[${stateOff(q)} + at] = acc; }`).join('\n          ')}
        }
      }
      workgroupBarrier();
    }
  }
  if (valid) {
    result[${lay.GA} + row * ${N} + n] = ga${p.aLog ? ' * a' : ''};
    ${s.bFixed ? `result[${lay.GB} + row * ${N} + n] = gbF;` : ''}
    ${s.cFixed ? `result[${lay.GC} + row * ${N} + n] = gcF;` : ''}
  }
  ${
    s.hasD
      ? `red[lid] = gDpart;
  workgroupBarrier();
  if (valid && n == 0) {
    var acc = 0.0;
    for (var m = 0; m < ${N}; m++) { acc += red[r * ${N} + m]; }
    result[${lay.GD} + row] = acc;
  }`
      : ''
  }
}
`;
}

/** Rows per workgroup of {@link forwardParallelSource}: R·n invocations and ≤ R·n·(n + 1) floats of workgroup memory. */
export const parallelRows = (N: number) => (N <= 64 ? Math.max(1, Math.floor(64 / N)) : 0);

/**
 * Forward, state-parallel: a workgroup of R rows × n states, one invocation per (b, d, n) holding its h in a
 * register. Every n steps the products h_t C_t of those steps go to workgroup memory; invocation (r, j) then sums
 * row r's step j over n (y_t = Σ_n h_t C_t, Eq. 14g), adds D u_t and the gate, and writes out_t. b·d·n invocations
 * instead of b·d; two barriers per n steps. Used for n ≤ 64 (workgroup memory ≤ 4096 floats). In the time-major
 * layout the invocations (r, n) of a workgroup read u_t, Δ_t, B_t, C_t at neighbouring addresses at each step t.
 */
export function forwardParallelSource(p: ScanPlan): string {
  const { s, S_OFF } = p;
  const { batch, dInner: DI, dState: N } = s;
  const R = parallelRows(N);
  const ix = scanIndex(p, false);
  // rows of hc padded to n + 1 floats where that fits the 16 KiB every device grants: the sum over k then reads
  // hc[(r·n + n')·(n + 1) + k], a different bank for each invocation n'
  const P = R * N * (N + 1) * 4 <= 16384 ? N + 1 : N;
  return `${HELPERS}
var<workgroup> hc : array<f32, ${R * N * P}>;
fn main() {
  let lid = i32(localId.x);
  let r = lid / ${N};
  let n = lid % ${N};
  let wg = i32(workgroupId.x) + i32(workgroupId.y) * i32(numWorkgroups.x);
  let rowRaw = wg * ${R} + r;
  let valid = rowRaw < ${batch * DI};
  let row = min(rowRaw, ${batch * DI - 1});
  let b = row / ${DI};
  let d = row % ${DI};
  let dc = d;
  let a = ${aRead(p, 'd', 'n')};
  let Dd = ${s.hasD ? `prm[${p.D_OFF} + d]` : '0.0'};
  var h = 0.0;
  ${p.states ? 'var toChunkEnd = uniforms.ssK; // steps left in the current chunk (no integer division per step)\n  var c = 0;' : ''}
  for (var t0 = 0; t0 < uniforms.ssL; t0 += ${N}) {
    for (var j = 0; j < ${N}; j++) {
      let t = t0 + j;
      var prod = 0.0;
      if (t < uniforms.ssL) {
        let ut = u[${ix.row('b', 'd', 't')}];
        ${deltaBar(p, ix, 'n', 'dlv')}
        h = exp(dlv * a) * h + ${coefExpr(p, 'dlv', 'a')} * ${ix.B('b', 'd', 'n', 't')} * ut;
        prod = h * ${ix.C('b', 'd', 'n', 't')};
        ${
          p.states
            ? `toChunkEnd--;
        if (toChunkEnd == 0 || t == uniforms.ssL - 1) {
          if (valid) { result[${S_OFF} + ${ix.state('b', 'd', 'c', 'n')}] = h; }
          c++;
          toChunkEnd = uniforms.ssK;
        }`
            : ''
        }
      }
      hc[(r * ${N} + j) * ${P} + n] = prod;
    }
    workgroupBarrier();
    let t = t0 + n;
    if (valid && t < uniforms.ssL) {
      var y = 0.0;
      for (var k = 0; k < ${N}; k++) { y += hc[(r * ${N} + n) * ${P} + k]; }
      let io = ${ix.row('b', 'd', 't')};
      let ut = u[io];
      y += Dd * ut;
      ${s.hasZ ? `let zt = z[io];\n      y = y * zt / (1.0 + exp(-zt));` : ''}
      result[io] = y;
    }
    workgroupBarrier();
  }
}
`;
}
