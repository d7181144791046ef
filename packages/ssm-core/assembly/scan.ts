/**
 * The selective scan's forward and backward in WebAssembly SIMD (AssemblyScript, f32x4), compiled by
 * `npm run build:wasm` into src/ops/kernels/cpu/scanWasm.generated.ts. Glue and layouts: src/ops/kernels/cpu/wasmScan.ts.
 *
 * Every array lives in the module's memory as float32, addressed by byte offsets the glue hands in (0 = absent).
 * The state axis n is padded to Np = 4·⌈n/4⌉ (padding lanes: A = B = C = Δ̄ = 0, so their states stay 0) and made
 * time-major: B̄, C̄ [b, L, Np] (input-dependent) or [d, Np] (fixed); Δ̄ [b, d, L] (per channel), [b, L, Np] (per
 * state) or [b, d, L, Np] (both). u, z, out [b, d, L]; A [d, Np]; last state [b, d, Np].
 * Lanes run over four states of one (b, d) row; the state and every sum over t are float32.
 */

// ---------------------------------------------------------------- vector math (f32x4)

const LOG2E: f32 = 1.4426950408889634;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.1219444e-4;

/**
 * e^x per lane (Cephes expf: |rel. error| ≲ 2 ulp): exactly 0 below −87.33 (no subnormal results), +∞ from 88.38
 * (just below the float32 overflow at 88.72).
 */
function vexp(x: v128): v128 {
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.33)), f32x4.splat(88.72)); // pmin, pmax: one x86 instruction each
  // Round to nearest by adding 1.5·2²³: the sum's low mantissa bits then hold the integer n (|n| ≤ 128).
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(LOG2E)), f32x4.splat(12582912.0));
  const fx = f32x4.sub(t, f32x4.splat(12582912.0));
  let r = f32x4.sub(xc, f32x4.mul(fx, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(fx, f32x4.splat(LN2_LO)));
  // Cephes' polynomial 1 + r + r²·q(r) with q in Estrin's form (pairs, then r², r⁴): a third of Horner's dependency
  // chain, so that the exps of the lane groups and of successive steps overlap more.
  const z = f32x4.mul(r, r);
  const w = f32x4.mul(z, z);
  const q01 = f32x4.add(f32x4.mul(f32x4.splat(1.6666665459e-1), r), f32x4.splat(5.0000001201e-1));
  const q23 = f32x4.add(f32x4.mul(f32x4.splat(8.3334519073e-3), r), f32x4.splat(4.1665795894e-2));
  const q45 = f32x4.add(f32x4.mul(f32x4.splat(1.98756915e-4), r), f32x4.splat(1.3981999507e-3));
  const q = f32x4.add(f32x4.add(q01, f32x4.mul(z, q23)), f32x4.mul(w, q45));
  const p = f32x4.add(f32x4.add(f32x4.mul(q, z), r), f32x4.splat(1.0));
  const pow2 = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23); // 2ⁿ (n = 128: +∞): t's bits are 0x4b400000 + n
  return v128.and(f32x4.mul(p, pow2), f32x4.ge(x, f32x4.splat(-87.33)));
}

/** ln x per lane for normal x > 0 (Cephes logf). */
function vlog(x: v128): v128 {
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126)));
  let m = v128.or(v128.and(x, i32x4.splat(0x807fffff)), i32x4.splat(0x3f000000)); // [0.5, 1)
  const small = f32x4.lt(m, f32x4.splat(0.7071067811865476));
  e = v128.bitselect(f32x4.sub(e, f32x4.splat(1)), e, small);
  m = v128.bitselect(f32x4.sub(f32x4.add(m, m), f32x4.splat(1)), f32x4.sub(m, f32x4.splat(1)), small);
  const z = f32x4.mul(m, m);
  let p = f32x4.add(f32x4.mul(f32x4.splat(7.0376836292e-2), m), f32x4.splat(-1.151461031e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.167699874e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.2420140846e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(1.4249322787e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-1.6668057665e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(2.0000714765e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(-2.4999993993e-1));
  p = f32x4.add(f32x4.mul(p, m), f32x4.splat(3.3333331174e-1));
  let y = f32x4.mul(f32x4.mul(p, m), z);
  y = f32x4.add(y, f32x4.mul(e, f32x4.splat(LN2_LO)));
  y = f32x4.sub(y, f32x4.mul(z, f32x4.splat(0.5)));
  return f32x4.add(f32x4.add(m, y), f32x4.mul(e, f32x4.splat(LN2_HI)));
}

/** torch's softplus per lane: max(x, 0) + log1p(e^−|x|), with log1p(w) = ln(1+w)·w/((1+w)−1) (exact for tiny w). */
function vsoftplus(x: v128): v128 {
  const w = vexp(f32x4.neg(f32x4.abs(x)));
  const u = f32x4.add(w, f32x4.splat(1));
  const um1 = f32x4.sub(u, f32x4.splat(1));
  const l = v128.bitselect(w, f32x4.div(f32x4.mul(vlog(u), w), um1), f32x4.eq(um1, f32x4.splat(0)));
  return f32x4.add(f32x4.pmax(x, f32x4.splat(0)), l);
}

/** σ(x) = 1 / (1 + e^−x) per lane. */
function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp(f32x4.neg(x))));
}

function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** ZOH input coefficient (e^x − 1)/a with x = Δa, a series in x for |x| < 0.5 (equal to Δ at a = 0). */
function zohCoef(dl: v128, a: v128, x: v128, dA: v128): v128 {
  let s = f32x4.add(f32x4.mul(x, f32x4.splat(1.0 / 40320)), f32x4.splat(1.0 / 5040));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 720));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 120));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 24));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 6));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(0.5));
  s = f32x4.mul(dl, f32x4.add(f32x4.mul(s, x), f32x4.splat(1)));
  const big = f32x4.div(f32x4.sub(dA, f32x4.splat(1)), a);
  return v128.bitselect(s, big, f32x4.lt(f32x4.abs(x), f32x4.splat(0.5)));
}

/** ∂/∂a of {@link zohCoef}: Δ²·(x eˣ − (eˣ − 1))/x², a series for |x| < 0.5. */
function zohCoefGradA(dl: v128, x: v128, dA: v128): v128 {
  let s = f32x4.add(f32x4.mul(x, f32x4.splat(1.0 / 45360)), f32x4.splat(1.0 / 5760));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 840));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 144));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 30));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(0.125));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(1.0 / 3));
  s = f32x4.add(f32x4.mul(s, x), f32x4.splat(0.5));
  const big = f32x4.div(f32x4.sub(f32x4.mul(x, dA), f32x4.sub(dA, f32x4.splat(1))), f32x4.mul(x, x));
  const g = v128.bitselect(s, big, f32x4.lt(f32x4.abs(x), f32x4.splat(0.5)));
  return f32x4.mul(f32x4.mul(dl, dl), g);
}

/** dst[i] = f(src[i]) for f = e^x (kind 0), ln x (1), softplus (2), σ (3): the vector math above, for tests. */
export function vectorMath(kind: i32, src: usize, dst: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const x = f32x4.splat(load<f32>(src + ((<usize>i) << 2)));
    const y = kind == 0 ? vexp(x) : kind == 1 ? vlog(x) : kind == 2 ? vsoftplus(x) : vsigmoid(x);
    store<f32>(dst + ((<usize>i) << 2), f32x4.extract_lane(y, 0));
  }
}

// ---------------------------------------------------------------- element-wise passes

/** out[r, t] = softplus?(raw[r, t] + bias[r mod X]) over rows × L. */
export function deltaPrep(raw: usize, bias: usize, out: usize, rows: i32, L: i32, X: i32, soft: i32): void {
  for (let r = 0; r < rows; r++) {
    const bv = bias ? f32x4.splat(load<f32>(bias + ((<usize>(r % X)) << 2))) : f32x4.splat(0);
    const o = <usize>r * <usize>L;
    let t = 0;
    for (; t + 4 <= L; t += 4) {
      const p = (o + <usize>t) << 2;
      const v = f32x4.add(v128.load(raw + p), bv);
      v128.store(out + p, soft ? vsoftplus(v) : v);
    }
    for (; t < L; t++) {
      const p = (o + <usize>t) << 2;
      const v = f32x4.add(f32x4.splat(load<f32>(raw + p)), bv);
      store<f32>(out + p, f32x4.extract_lane(soft ? vsoftplus(v) : v, 0));
    }
  }
}

/** g[r, t] ← g[r, t]·σ(raw + bias) when soft (∂softplus); gbias[r mod X] += Σ_t g[r, t]. */
export function deltaGrad(raw: usize, bias: usize, g: usize, gbias: usize, rows: i32, L: i32, X: i32, soft: i32): void {
  for (let r = 0; r < rows; r++) {
    const bv = bias ? f32x4.splat(load<f32>(bias + ((<usize>(r % X)) << 2))) : f32x4.splat(0);
    const o = <usize>r * <usize>L;
    let acc = f32x4.splat(0);
    let t = 0;
    for (; t + 4 <= L; t += 4) {
      const p = (o + <usize>t) << 2;
      let v = v128.load(g + p);
      if (soft) v = f32x4.mul(v, vsigmoid(f32x4.add(v128.load(raw + p), bv)));
      v128.store(g + p, v);
      acc = f32x4.add(acc, v);
    }
    let tail: f32 = 0;
    for (; t < L; t++) {
      const p = (o + <usize>t) << 2;
      let v = load<f32>(g + p);
      if (soft) v *= f32x4.extract_lane(vsigmoid(f32x4.add(f32x4.splat(load<f32>(raw + p)), bv)), 0);
      store<f32>(g + p, v);
      tail += v;
    }
    if (gbias) {
      const q = gbias + ((<usize>(r % X)) << 2);
      store<f32>(q, load<f32>(q) + hsum(acc) + tail);
    }
  }
}

/** dst[r, t, k] = src[r, k, t] (k < n), 0 for n ≤ k < Np. */
export function toTimeMajor(src: usize, dst: usize, rows: i32, n: i32, L: i32, Np: i32): void {
  for (let r = 0; r < rows; r++) {
    const so = <usize>r * <usize>n * <usize>L;
    const dof = <usize>r * <usize>L * <usize>Np;
    for (let t = 0; t < L; t++) {
      const d = dst + ((dof + <usize>t * <usize>Np) << 2);
      let k = 0;
      for (; k < n; k++)
        store<f32>(d + ((<usize>k) << 2), load<f32>(src + ((so + <usize>k * <usize>L + <usize>t) << 2)));
      for (; k < Np; k++) store<f32>(d + ((<usize>k) << 2), 0);
    }
  }
}

/** dst[r, k, t] = src[r, t, k] for k < n: the inverse of {@link toTimeMajor}. */
export function fromTimeMajor(src: usize, dst: usize, rows: i32, n: i32, L: i32, Np: i32): void {
  for (let r = 0; r < rows; r++) {
    const dof = <usize>r * <usize>n * <usize>L;
    const so = <usize>r * <usize>L * <usize>Np;
    for (let k = 0; k < n; k++) {
      for (let t = 0; t < L; t++) {
        store<f32>(
          dst + ((dof + <usize>k * <usize>L + <usize>t) << 2),
          load<f32>(src + ((so + <usize>t * <usize>Np + <usize>k) << 2)),
        );
      }
    }
  }
}

/** dst[r, k] = src[r, k] for k < n, 0 up to Np (A, fixed B and C, the last state's gradient). */
export function padRows(src: usize, dst: usize, rows: i32, n: i32, Np: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < Np; k++) {
      store<f32>(
        dst + ((<usize>r * <usize>Np + <usize>k) << 2),
        k < n ? load<f32>(src + ((<usize>r * <usize>n + <usize>k) << 2)) : 0,
      );
    }
  }
}

/** dst[r, k] = src[r, k] for k < n: the inverse of {@link padRows}. */
export function unpadRows(src: usize, dst: usize, rows: i32, n: i32, Np: i32): void {
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < n; k++) {
      store<f32>(
        dst + ((<usize>r * <usize>n + <usize>k) << 2),
        load<f32>(src + ((<usize>r * <usize>Np + <usize>k) << 2)),
      );
    }
  }
}

// ---------------------------------------------------------------- the scan

// Lane groups (4 states each, at most 4) that one pass over t of the forward and of the backward keeps in registers.
// The step is written out once per group (h0…h3, gh0…gh3, ga0…ga3): AssemblyScript has no arrays of v128 values
// that stay in locals, and a group's state must never round-trip through memory inside the loop over t.
const FWD_GROUPS = 4;
const BWD_GROUPS = 4;

// Problem description, set once per call by setProblem.
let gBatch: i32 = 0;
let gD: i32 = 0;
let gNp: i32 = 0;
let gL: i32 = 0;
let gAlong: i32 = 0; // 0 Δ per channel, 1 per state, 2 per channel and state
let gDisc: i32 = 0; // 0 euler, 1 zoh, 2 identity
let pU: usize = 0;
let pDt: usize = 0;
let pA: usize = 0;
let pB: usize = 0;
let pC: usize = 0;
let bFixed: i32 = 0;
let cFixed: i32 = 0;
let pDskip: usize = 0;
let pZ: usize = 0;

export function setProblem(
  batch: i32,
  D: i32,
  Np: i32,
  L: i32,
  along: i32,
  disc: i32,
  u: usize,
  dt: usize,
  A: usize,
  B: usize,
  bFix: i32,
  C: usize,
  cFix: i32,
  Dskip: usize,
  z: usize,
): void {
  gBatch = batch;
  gD = D;
  gNp = Np;
  gL = L;
  gAlong = along;
  gDisc = disc;
  pU = u;
  pDt = dt;
  pA = A;
  pB = B;
  bFixed = bFix;
  pC = C;
  cFixed = cFix;
  pDskip = Dskip;
  pZ = z;
}

/** B̄u: Δ̄·B·u (euler), (e^{Δ̄a} − 1)/a·B·u (zoh) or B·u (identity) for x = Δ̄a, dA = eˣ, ub = B·u. */
function inputTerm(disc: i32, dl: v128, a: v128, x: v128, dA: v128, ub: v128): v128 {
  if (disc == 0) return f32x4.mul(dl, ub);
  if (disc == 1) return f32x4.mul(zohCoef(dl, a, x, dA), ub);
  return ub;
}

// Where the current row (b, d)'s u, Δ̄, B̄, C̄, A start (bytes), and the steps of Δ̄, B̄, C̄ per t (set by setRow).
let rowU: usize = 0;
let rowD: usize = 0;
let stepD: usize = 0;
let rowB: usize = 0;
let stepB: usize = 0;
let rowC: usize = 0;
let stepC: usize = 0;
let rowA: usize = 0;

function setRow(b: i32, d: i32): void {
  const Np = <usize>gNp;
  const L = <usize>gL;
  const r = <usize>b * <usize>gD + <usize>d;
  rowU = pU + ((r * L) << 2);
  rowD =
    gAlong == 0 ? pDt + ((r * L) << 2) : gAlong == 1 ? pDt + ((<usize>b * L * Np) << 2) : pDt + ((r * L * Np) << 2);
  stepD = gAlong == 0 ? 4 : Np << 2;
  rowB = bFixed ? pB + ((<usize>d * Np) << 2) : pB + ((<usize>b * L * Np) << 2);
  stepB = bFixed ? 0 : Np << 2;
  rowC = cFixed ? pC + ((<usize>d * Np) << 2) : pC + ((<usize>b * L * Np) << 2);
  stepC = cFixed ? 0 : Np << 2;
  rowA = pA + ((<usize>d * Np) << 2);
}

/** One row's forward (see {@link forwardGroups}) over all Np/4 lane groups, 4 at a time. */
function rowForward(ybuf: usize, last: usize, keep: bool, S: usize, E: usize): void {
  const nk = gNp >> 2;
  const chan = gAlong == 0;
  const sS = (<usize>gNp) << 2;
  for (let k = 0; k < nk; k += FWD_GROUPS) {
    const G = min(FWD_GROUPS, nk - k);
    const ko = (<usize>k) << 4;
    forwardGroups(
      G,
      gL,
      gDisc,
      chan,
      rowU,
      chan ? rowD : rowD + ko,
      stepD,
      rowB + ko,
      stepB,
      rowC + ko,
      stepC,
      rowA + ko,
      ybuf,
      k == 0,
      keep,
      S + ko,
      E + ko,
      sS,
      last ? last + ko : 0,
    );
  }
}

/** y_t = Σ lanes of ybuf[t] + D·u_t into y [L]. */
function rowReduce(d: i32, ybuf: usize, y: usize): void {
  const L = gL;
  const uo = rowU;
  const Dd: f32 = pDskip ? load<f32>(pDskip + ((<usize>d) << 2)) : 0;
  for (let t = 0; t < L; t++) {
    store<f32>(
      y + ((<usize>t) << 2),
      hsum(v128.load(ybuf + ((<usize>t) << 4))) + Dd * load<f32>(uo + ((<usize>t) << 2)),
    );
  }
}

/** y[t] ← y[t]·silu(z[t]). */
function gate(z: usize, y: usize, L: i32): void {
  let t = 0;
  for (; t + 4 <= L; t += 4) {
    const p = (<usize>t) << 2;
    const zv = v128.load(z + p);
    v128.store(y + p, f32x4.mul(v128.load(y + p), f32x4.mul(zv, vsigmoid(zv))));
  }
  for (; t < L; t++) {
    const p = (<usize>t) << 2;
    const zt = load<f32>(z + p);
    store<f32>(y + p, load<f32>(y + p) * zt * f32x4.extract_lane(vsigmoid(f32x4.splat(zt)), 0));
  }
}

/**
 * Forward over every row: out [b, d, L] = y · silu(z) and (when `last` ≠ 0) the last state [b, d, Np].
 * Scratch: 16·L bytes.
 */
export function scanForward(out: usize, last: usize, scratch: usize): void {
  scanForwardRows(out, last, scratch, 0, gBatch * gD);
}

/** {@link scanForward} of the rows r0 ≤ r < r1 (r = b·d + channel) only: rows are independent in the forward. */
export function scanForwardRows(out: usize, last: usize, scratch: usize, r0: i32, r1: i32): void {
  const L = gL;
  for (let ri = r0; ri < r1; ri++) {
    const b = ri / gD;
    const d = ri % gD;
    const r = <usize>ri;
    setRow(b, d);
    rowForward(scratch, last ? last + ((r * <usize>gNp) << 2) : 0, false, 0, 0);
    const o = out + ((r * <usize>L) << 2);
    rowReduce(d, scratch, o);
    if (pZ) gate(pZ + ((r * <usize>L) << 2), o, L);
  }
}

/**
 * Backward over every row (recomputing the row's forward into scratch first). Inputs: gOut [b, d, L], gLast
 * [b, d, Np] (0: none). Outputs (zeroed by the caller, accumulated here): gu, gz [b, d, L]; gdt in Δ̄'s layout; gA
 * [d, Np]; gB, gC in B̄'s and C̄'s layouts; gDskip [d]. Scratch: (Np·(2·L + 1) + 10·L)·4 bytes.
 */
export function scanBackward(
  gOut: usize,
  gLast: usize,
  gu: usize,
  gdt: usize,
  gA: usize,
  gB: usize,
  gC: usize,
  gDskip: usize,
  gz: usize,
  scratch: usize,
): void {
  scanBackwardRows(gOut, gLast, gu, gdt, gA, gB, gC, gDskip, gz, scratch, 0, gBatch, 0, gD);
}

/**
 * {@link scanBackward} of the rows (b, d) with b0 ≤ b < b1 and d0 ≤ d < d1 only, visited b-major as there. Sums over
 * rows go into shared arrays: over b into ∂A, ∂D and fixed ∂B, ∂C (per channel d); over d into input-dependent ∂B,
 * ∂C and ∂Δ̄ per state (per batch b). Callers that split the rows keep each sum's order by giving every channel to
 * one caller and, where sums over d exist, either letting the callers of a batch b run in channel order or giving
 * each row zeroed arrays of its own for those sums, added up afterwards in channel order ({@link addRows}).
 */
export function scanBackwardRows(
  gOut: usize,
  gLast: usize,
  gu: usize,
  gdt: usize,
  gA: usize,
  gB: usize,
  gC: usize,
  gDskip: usize,
  gz: usize,
  scratch: usize,
  b0: i32,
  b1: i32,
  d0: i32,
  d1: i32,
): void {
  const L = gL;
  const Np = gNp;
  const Lu = <usize>L;
  const sS = (<usize>Np) << 2;
  memory.fill(scratch, 0, sS); // S[−1] = 0
  const S = scratch + sS;
  const E = S + ((Lu * <usize>Np) << 2);
  const ybuf = E + ((Lu * <usize>Np) << 2); // 16·L: y partials, then ∂u partials
  const gdlb = ybuf + (Lu << 4); // 16·L: ∂Δ̄ partials (Δ per channel)
  const yPre = gdlb + (Lu << 4); // 4·L
  const gy = yPre + (Lu << 2); // 4·L
  const chan = gAlong == 0;
  const nk = Np >> 2;
  for (let b = b0; b < b1; b++) {
    for (let d = d0; d < d1; d++) {
      const r = <usize>b * <usize>gD + <usize>d;
      const ro = (r * Lu) << 2;
      const uo = pU + ro;
      setRow(b, d);
      rowForward(ybuf, 0, true, S, E);
      rowReduce(d, ybuf, yPre);
      // ∂y from ∂out through the gate; ∂z.
      const go = gOut + ro;
      if (pZ) {
        const zo = pZ + ro;
        for (let t = 0; t + 4 <= L; t += 4) {
          const p = (<usize>t) << 2;
          const zv = v128.load(zo + p);
          const sg = vsigmoid(zv);
          const g = v128.load(go + p);
          const dsilu = f32x4.mul(sg, f32x4.add(f32x4.splat(1), f32x4.mul(zv, f32x4.sub(f32x4.splat(1), sg))));
          v128.store(gz + ro + p, f32x4.mul(f32x4.mul(g, v128.load(yPre + p)), dsilu));
          v128.store(gy + p, f32x4.mul(g, f32x4.mul(zv, sg)));
        }
        for (let t = L & ~3; t < L; t++) {
          const p = (<usize>t) << 2;
          const zt = load<f32>(zo + p);
          const sg = f32x4.extract_lane(vsigmoid(f32x4.splat(zt)), 0);
          const g = load<f32>(go + p);
          store<f32>(gz + ro + p, g * load<f32>(yPre + p) * sg * (1 + zt * (1 - sg)));
          store<f32>(gy + p, g * zt * sg);
        }
      } else memory.copy(gy, go, Lu << 2);
      const Dd: f32 = pDskip ? load<f32>(pDskip + ((<usize>d) << 2)) : 0;
      let gDacc: f64 = 0;
      for (let t = 0; t < L; t++) gDacc += <f64>(load<f32>(gy + ((<usize>t) << 2)) * load<f32>(uo + ((<usize>t) << 2)));
      memory.fill(ybuf, 0, Lu << 5); // ∂u and ∂Δ̄ partials
      const gdRow = gdt + (rowD - pDt);
      const gbRow = gB + (rowB - pB);
      const gcRow = gC + (rowC - pC);
      const gaRow = gA + (rowA - pA);
      for (let k = 0; k < nk; k += BWD_GROUPS) {
        const ko = (<usize>k) << 4;
        backwardGroups(
          min(BWD_GROUPS, nk - k),
          L,
          gDisc,
          chan,
          uo,
          gy,
          chan ? rowD : rowD + ko,
          stepD,
          rowB + ko,
          stepB,
          rowC + ko,
          stepC,
          rowA + ko,
          S + ko,
          E + ko,
          sS,
          gbRow + ko,
          gcRow + ko,
          chan ? gdRow : gdRow + ko,
          ybuf,
          gdlb,
          gLast ? gLast + ((r * <usize>Np) << 2) + ko : 0,
          gaRow + ko,
        );
      }
      for (let t = 0; t < L; t++) {
        const p = (<usize>t) << 2;
        store<f32>(gu + ro + p, load<f32>(gy + p) * Dd + hsum(v128.load(ybuf + ((<usize>t) << 4))));
        if (chan) store<f32>(gdt + ro + p, hsum(v128.load(gdlb + ((<usize>t) << 4))));
      }
      if (gDskip) {
        const q = gDskip + ((<usize>d) << 2);
        store<f32>(q, load<f32>(q) + <f32>gDacc);
      }
    }
  }
}

/**
 * G ≤ 4 lane groups (4·G states from the group at `pa`) of one row's forward: h in registers, Σ_n h·C summed into the
 * f32x4 partials ybuf [L] (stored when `first`, else added), the states and decays into S, E [L, Np] with `keep`,
 * the last state into `last` (when non-zero). pd/pb/pc point at t = 0 and step sd/sb/sc bytes per t.
 */
function forwardGroups(
  G: i32,
  L: i32,
  disc: i32,
  chan: bool,
  uo: usize,
  pd: usize,
  sd: usize,
  pb: usize,
  sb: usize,
  pc: usize,
  sc: usize,
  pa: usize,
  ybuf: usize,
  first: bool,
  keep: bool,
  ps: usize,
  pe: usize,
  sS: usize,
  last: usize,
): void {
  const a0 = v128.load(pa);
  const a1 = G > 1 ? v128.load(pa, 16) : f32x4.splat(0);
  const a2 = G > 2 ? v128.load(pa, 32) : f32x4.splat(0);
  const a3 = G > 3 ? v128.load(pa, 48) : f32x4.splat(0);
  let h0 = f32x4.splat(0);
  let h1 = f32x4.splat(0);
  let h2 = f32x4.splat(0);
  let h3 = f32x4.splat(0);
  let yp = ybuf;
  let pu = uo;
  for (let t = 0; t < L; t++) {
    const ut = f32x4.splat(load<f32>(pu));
    const dc = chan ? f32x4.splat(load<f32>(pd)) : f32x4.splat(0);
    let y = f32x4.splat(0);
    {
      const dl = chan ? dc : v128.load(pd, 0);
      const x = f32x4.mul(dl, a0);
      const dA = vexp(x);
      const ub = f32x4.mul(v128.load(pb, 0), ut);
      h0 = f32x4.add(f32x4.mul(dA, h0), inputTerm(disc, dl, a0, x, dA, ub));
      if (keep) {
        v128.store(ps, h0, 0);
        v128.store(pe, dA, 0);
      }
      y = f32x4.add(y, f32x4.mul(h0, v128.load(pc, 0)));
    }
    if (G > 1) {
      const dl = chan ? dc : v128.load(pd, 16);
      const x = f32x4.mul(dl, a1);
      const dA = vexp(x);
      const ub = f32x4.mul(v128.load(pb, 16), ut);
      h1 = f32x4.add(f32x4.mul(dA, h1), inputTerm(disc, dl, a1, x, dA, ub));
      if (keep) {
        v128.store(ps, h1, 16);
        v128.store(pe, dA, 16);
      }
      y = f32x4.add(y, f32x4.mul(h1, v128.load(pc, 16)));
    }
    if (G > 2) {
      const dl = chan ? dc : v128.load(pd, 32);
      const x = f32x4.mul(dl, a2);
      const dA = vexp(x);
      const ub = f32x4.mul(v128.load(pb, 32), ut);
      h2 = f32x4.add(f32x4.mul(dA, h2), inputTerm(disc, dl, a2, x, dA, ub));
      if (keep) {
        v128.store(ps, h2, 32);
        v128.store(pe, dA, 32);
      }
      y = f32x4.add(y, f32x4.mul(h2, v128.load(pc, 32)));
    }
    if (G > 3) {
      const dl = chan ? dc : v128.load(pd, 48);
      const x = f32x4.mul(dl, a3);
      const dA = vexp(x);
      const ub = f32x4.mul(v128.load(pb, 48), ut);
      h3 = f32x4.add(f32x4.mul(dA, h3), inputTerm(disc, dl, a3, x, dA, ub));
      if (keep) {
        v128.store(ps, h3, 48);
        v128.store(pe, dA, 48);
      }
      y = f32x4.add(y, f32x4.mul(h3, v128.load(pc, 48)));
    }
    v128.store(yp, first ? y : f32x4.add(v128.load(yp), y));
    yp += 16;
    pu += 4;
    pd += sd;
    pb += sb;
    pc += sc;
    ps += sS;
    pe += sS;
  }
  if (last) {
    v128.store(last, h0);
    if (G > 1) v128.store(last, h1, 16);
    if (G > 2) v128.store(last, h2, 32);
    if (G > 3) v128.store(last, h3, 48);
  }
}

/**
 * G ≤ 4 lane groups of one row's backward, t from L − 1 down to 0, with the states and decays S, E [L, Np] of
 * {@link forwardGroups} (S[−1] = 0). Adds Σ_n of ∂u's and (Δ per channel) ∂Δ̄'s terms into the f32x4 partials
 * gub, gdlb [L]; ∂B̄, ∂C̄, ∂Δ̄ (per state) into their arrays at pgb, pgc, pgd; ∂A into gA at `pga`. Pointers point at t = 0.
 */
function backwardGroups(
  G: i32,
  L: i32,
  disc: i32,
  chan: bool,
  uo: usize,
  gy: usize,
  pd: usize,
  sd: usize,
  pb: usize,
  sb: usize,
  pc: usize,
  sc: usize,
  pa: usize,
  ps: usize,
  pe: usize,
  sS: usize,
  pgb: usize,
  pgc: usize,
  pgd: usize,
  gub: usize,
  gdlb: usize,
  gLast: usize,
  pga: usize,
): void {
  const a0 = v128.load(pa);
  const a1 = G > 1 ? v128.load(pa, 16) : f32x4.splat(0);
  const a2 = G > 2 ? v128.load(pa, 32) : f32x4.splat(0);
  const a3 = G > 3 ? v128.load(pa, 48) : f32x4.splat(0);
  let gh0 = gLast ? v128.load(gLast) : f32x4.splat(0);
  let gh1 = gLast && G > 1 ? v128.load(gLast, 16) : f32x4.splat(0);
  let gh2 = gLast && G > 2 ? v128.load(gLast, 32) : f32x4.splat(0);
  let gh3 = gLast && G > 3 ? v128.load(gLast, 48) : f32x4.splat(0);
  let ga0 = f32x4.splat(0);
  let ga1 = f32x4.splat(0);
  let ga2 = f32x4.splat(0);
  let ga3 = f32x4.splat(0);
  const last = <usize>(L - 1);
  pd += last * sd;
  pb += last * sb;
  pc += last * sc;
  pgb += last * sb;
  pgc += last * sc;
  pgd += last * sd;
  ps += last * sS;
  pe += last * sS;
  let pu = uo + (last << 2);
  let pgy = gy + (last << 2);
  let pub = gub + (last << 4);
  let pdl = gdlb + (last << 4);
  for (let t = L - 1; t >= 0; t--) {
    const gyv = f32x4.splat(load<f32>(pgy));
    const uv = f32x4.splat(load<f32>(pu));
    const dc = chan ? f32x4.splat(load<f32>(pd)) : f32x4.splat(0);
    let gut = f32x4.splat(0);
    let gdlSum = f32x4.splat(0);
    {
      const dl = chan ? dc : v128.load(pd, 0);
      const dA = v128.load(pe, 0);
      const Cv = v128.load(pc, 0);
      v128.store(pgc, f32x4.add(v128.load(pgc, 0), f32x4.mul(gyv, v128.load(ps, 0))), 0);
      const ghn = f32x4.add(gh0, f32x4.mul(gyv, Cv));
      const gdA = f32x4.mul(f32x4.mul(ghn, v128.load(ps - sS, 0)), dA);
      let gdl = f32x4.mul(gdA, a0);
      let ga = f32x4.mul(gdA, dl);
      const Bv = v128.load(pb, 0);
      const ghu = f32x4.mul(ghn, uv);
      let gBv: v128;
      let coef: v128;
      if (disc == 0) {
        gdl = f32x4.add(gdl, f32x4.mul(ghu, Bv));
        coef = dl;
        gBv = f32x4.mul(ghu, dl);
      } else if (disc == 1) {
        const x = f32x4.mul(dl, a0);
        coef = zohCoef(dl, a0, x, dA);
        const ghuB = f32x4.mul(ghu, Bv);
        gdl = f32x4.add(gdl, f32x4.mul(ghuB, dA));
        ga = f32x4.add(ga, f32x4.mul(ghuB, zohCoefGradA(dl, x, dA)));
        gBv = f32x4.mul(ghu, coef);
      } else {
        coef = f32x4.splat(1);
        gBv = ghu;
      }
      v128.store(pgb, f32x4.add(v128.load(pgb, 0), gBv), 0);
      gut = f32x4.add(gut, f32x4.mul(f32x4.mul(ghn, coef), Bv));
      if (chan) gdlSum = f32x4.add(gdlSum, gdl);
      else v128.store(pgd, f32x4.add(v128.load(pgd, 0), gdl), 0);
      ga0 = f32x4.add(ga0, ga);
      gh0 = f32x4.mul(ghn, dA);
    }
    if (G > 1) {
      const dl = chan ? dc : v128.load(pd, 16);
      const dA = v128.load(pe, 16);
      const Cv = v128.load(pc, 16);
      v128.store(pgc, f32x4.add(v128.load(pgc, 16), f32x4.mul(gyv, v128.load(ps, 16))), 16);
      const ghn = f32x4.add(gh1, f32x4.mul(gyv, Cv));
      const gdA = f32x4.mul(f32x4.mul(ghn, v128.load(ps - sS, 16)), dA);
      let gdl = f32x4.mul(gdA, a1);
      let ga = f32x4.mul(gdA, dl);
      const Bv = v128.load(pb, 16);
      const ghu = f32x4.mul(ghn, uv);
      let gBv: v128;
      let coef: v128;
      if (disc == 0) {
        gdl = f32x4.add(gdl, f32x4.mul(ghu, Bv));
        coef = dl;
        gBv = f32x4.mul(ghu, dl);
      } else if (disc == 1) {
        const x = f32x4.mul(dl, a1);
        coef = zohCoef(dl, a1, x, dA);
        const ghuB = f32x4.mul(ghu, Bv);
        gdl = f32x4.add(gdl, f32x4.mul(ghuB, dA));
        ga = f32x4.add(ga, f32x4.mul(ghuB, zohCoefGradA(dl, x, dA)));
        gBv = f32x4.mul(ghu, coef);
      } else {
        coef = f32x4.splat(1);
        gBv = ghu;
      }
      v128.store(pgb, f32x4.add(v128.load(pgb, 16), gBv), 16);
      gut = f32x4.add(gut, f32x4.mul(f32x4.mul(ghn, coef), Bv));
      if (chan) gdlSum = f32x4.add(gdlSum, gdl);
      else v128.store(pgd, f32x4.add(v128.load(pgd, 16), gdl), 16);
      ga1 = f32x4.add(ga1, ga);
      gh1 = f32x4.mul(ghn, dA);
    }
    if (G > 2) {
      const dl = chan ? dc : v128.load(pd, 32);
      const dA = v128.load(pe, 32);
      const Cv = v128.load(pc, 32);
      v128.store(pgc, f32x4.add(v128.load(pgc, 32), f32x4.mul(gyv, v128.load(ps, 32))), 32);
      const ghn = f32x4.add(gh2, f32x4.mul(gyv, Cv));
      const gdA = f32x4.mul(f32x4.mul(ghn, v128.load(ps - sS, 32)), dA);
      let gdl = f32x4.mul(gdA, a2);
      let ga = f32x4.mul(gdA, dl);
      const Bv = v128.load(pb, 32);
      const ghu = f32x4.mul(ghn, uv);
      let gBv: v128;
      let coef: v128;
      if (disc == 0) {
        gdl = f32x4.add(gdl, f32x4.mul(ghu, Bv));
        coef = dl;
        gBv = f32x4.mul(ghu, dl);
      } else if (disc == 1) {
        const x = f32x4.mul(dl, a2);
        coef = zohCoef(dl, a2, x, dA);
        const ghuB = f32x4.mul(ghu, Bv);
        gdl = f32x4.add(gdl, f32x4.mul(ghuB, dA));
        ga = f32x4.add(ga, f32x4.mul(ghuB, zohCoefGradA(dl, x, dA)));
        gBv = f32x4.mul(ghu, coef);
      } else {
        coef = f32x4.splat(1);
        gBv = ghu;
      }
      v128.store(pgb, f32x4.add(v128.load(pgb, 32), gBv), 32);
      gut = f32x4.add(gut, f32x4.mul(f32x4.mul(ghn, coef), Bv));
      if (chan) gdlSum = f32x4.add(gdlSum, gdl);
      else v128.store(pgd, f32x4.add(v128.load(pgd, 32), gdl), 32);
      ga2 = f32x4.add(ga2, ga);
      gh2 = f32x4.mul(ghn, dA);
    }
    if (G > 3) {
      const dl = chan ? dc : v128.load(pd, 48);
      const dA = v128.load(pe, 48);
      const Cv = v128.load(pc, 48);
      v128.store(pgc, f32x4.add(v128.load(pgc, 48), f32x4.mul(gyv, v128.load(ps, 48))), 48);
      const ghn = f32x4.add(gh3, f32x4.mul(gyv, Cv));
      const gdA = f32x4.mul(f32x4.mul(ghn, v128.load(ps - sS, 48)), dA);
      let gdl = f32x4.mul(gdA, a3);
      let ga = f32x4.mul(gdA, dl);
      const Bv = v128.load(pb, 48);
      const ghu = f32x4.mul(ghn, uv);
      let gBv: v128;
      let coef: v128;
      if (disc == 0) {
        gdl = f32x4.add(gdl, f32x4.mul(ghu, Bv));
        coef = dl;
        gBv = f32x4.mul(ghu, dl);
      } else if (disc == 1) {
        const x = f32x4.mul(dl, a3);
        coef = zohCoef(dl, a3, x, dA);
        const ghuB = f32x4.mul(ghu, Bv);
        gdl = f32x4.add(gdl, f32x4.mul(ghuB, dA));
        ga = f32x4.add(ga, f32x4.mul(ghuB, zohCoefGradA(dl, x, dA)));
        gBv = f32x4.mul(ghu, coef);
      } else {
        coef = f32x4.splat(1);
        gBv = ghu;
      }
      v128.store(pgb, f32x4.add(v128.load(pgb, 48), gBv), 48);
      gut = f32x4.add(gut, f32x4.mul(f32x4.mul(ghn, coef), Bv));
      if (chan) gdlSum = f32x4.add(gdlSum, gdl);
      else v128.store(pgd, f32x4.add(v128.load(pgd, 48), gdl), 48);
      ga3 = f32x4.add(ga3, ga);
      gh3 = f32x4.mul(ghn, dA);
    }
    v128.store(pub, f32x4.add(v128.load(pub), gut));
    if (chan) v128.store(pdl, f32x4.add(v128.load(pdl), gdlSum));
    pgy -= 4;
    pu -= 4;
    pub -= 16;
    pdl -= 16;
    pd -= sd;
    pb -= sb;
    pc -= sc;
    pgb -= sb;
    pgc -= sc;
    pgd -= sd;
    ps -= sS;
    pe -= sS;
  }
  v128.store(pga, f32x4.add(v128.load(pga), ga0));
  if (G > 1) v128.store(pga, f32x4.add(v128.load(pga, 16), ga1), 16);
  if (G > 2) v128.store(pga, f32x4.add(v128.load(pga, 32), ga2), 32);
  if (G > 3) v128.store(pga, f32x4.add(v128.load(pga, 48), ga3), 48);
}

// ---------------------------------------------------------------- sums of staged rows (threaded backward)

/** dst[i] ← (…((dst[i] + src_0[i]) + src_1[i]) + …) + src_{count−1}[i] for i < n (n a multiple of 4), src_r = src + r·stride bytes. */
export function addRows(dst: usize, src: usize, n: i32, count: i32, stride: usize): void {
  for (let r = 0; r < count; r++) {
    const s = src + <usize>r * stride;
    for (let i = 0; i < n; i += 4) {
      const p = (<usize>i) << 2;
      v128.store(dst + p, f32x4.add(v128.load(dst + p), v128.load(s + p)));
    }
  }
}

/** Zeroes `bytes` bytes from `ptr`. */
export function zero(ptr: usize, bytes: usize): void {
  memory.fill(ptr, 0, bytes);
}
