/**
 * Fused selective scan over typed arrays (CPU / wasm fast path): one pass over (b, d),
 * state kept in float64 registers, softplus, B-discretisation, D-skip and silu(z) gate fused.
 * The backward pass is the analytic reverse-mode recurrence (as in mamba_ssm's CUDA
 * `selective_scan_bwd_kernel`), using the hidden states and decays stored by the forward.
 *
 * Internally everything indexed by the state n is made time-major ([…, L, n]) so that the
 * inner loop over n reads and writes contiguous memory:
 *   Bt, Ct   [b, L, n] (input-dependent) or [d, n] (fixed)
 *   dtT      Δ̄ as [b, d, L] (Δ per channel: one value per step) | [b, L, n] (per state) | [b, d, L, n]
 *   states, decay   [b, d, L, n]
 * The host paths of S6 and Mamba-2 pass the model's layout instead (ScanDims.timeMajor, see types.ts): nothing is copied.
 */
import { deltaSize, softplus, softplusGrad, zohCoef, zohCoefGradA } from './layout.js';
import type { ScanArrays, ScanDims } from './types.js';

export interface FusedForward {
  out: Float32Array; // [b, d, L]
  lastState: Float32Array; // [b, d, n]
  dtT: Float64Array; // Δ̄ in the time-major layout above
  states?: Float32Array; // [b, d, L, n], kept for backward
  decay?: Float32Array; // [b, d, L, n], e^{Δ̄A}, kept for backward
  yPre?: Float32Array; // [b, d, L], output before the gate (only with z)
}

export interface FusedGrads {
  u: Float32Array;
  delta: Float32Array;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D?: Float32Array;
  z?: Float32Array;
  deltaBias?: Float32Array;
}

const DISC = { euler: 0, zoh: 1, identity: 2 } as const;

/** The gate of the reference: out = y · silu(z) = y · z / (1 + e^{−z}). */
const silu = (z: number) => z / (1 + Math.exp(-z));

/** [rows, n, L] → [rows, L, n] (and back with `inverse`), as float64. */
function swapLastTwo(src: ArrayLike<number>, rows: number, n: number, L: number, out: Float64Array | Float32Array, inverse = false): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n * L;
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < L; t++) {
        if (inverse) out[o + i * L + t] = src[o + t * n + i];
        else out[o + t * n + i] = src[o + i * L + t];
      }
    }
  }
}

/** Where row (b, d) starts in each time-major array, and the step per t. */
function rowLayout(s: ScanDims, b: number, d: number) {
  const { dInner: Dn, dState: N, L } = s;
  const chan = s.deltaAlong === 'channel';
  const tm = s.timeMajor;
  if (tm) {
    const uo = b * L * Dn + d; // u, z, out and Δ̄, all [b, L, d]; Δ̄ [d] when constant
    const row = b * L * tm.stride; // B and C: columns of x_proj's rows
    return {
      uo, uT: Dn, dBase: tm.deltaConstant ? d : uo, dT: tm.deltaConstant ? 0 : Dn, dN: 0,
      bBase: row + tm.bOffset, bT: tm.stride, cBase: row + tm.cOffset, cT: tm.stride, so: (b * Dn + d) * L * N,
    };
  }
  return {
    uo: (b * Dn + d) * L, // u, z, out; Δ̄ too when Δ is per channel
    uT: 1, // step of u, z, out per t
    dBase: chan ? (b * Dn + d) * L : s.deltaAlong === 'state' ? b * L * N : (b * Dn + d) * L * N,
    dT: chan ? 1 : N, // step of Δ̄ per t
    dN: chan ? 0 : 1, // step of Δ̄ per n
    bBase: s.bFixed ? d * N : b * L * N,
    bT: s.bFixed ? 0 : N,
    cBase: s.cFixed ? d * N : b * L * N,
    cT: s.cFixed ? 0 : N,
    so: (b * Dn + d) * L * N, // states, decay
  };
}

const softplusIf = (s: ScanDims, v: number) => (s.softplus ? softplus(v) : v);

/** Δ̄ = softplus?(delta + deltaBias), time-major. deltaBias is [X] for delta [b, X, L]. */
function discretizedDelta(s: ScanDims, x: ScanArrays): Float64Array {
  const size = deltaSize(s);
  const X = size / (s.batch * s.L);
  if (s.timeMajor?.deltaConstant) return Float64Array.from(x.delta, (v, c) => softplusIf(s, v + (x.deltaBias ? x.deltaBias[c] : 0))); // [d]
  const raw = new Float64Array(size);
  if (s.timeMajor) {
    const Dn = s.dInner; // [b, L, d]: runs of equal Δ are along t, i.e. per channel
    const lastIn = new Float64Array(Dn).fill(NaN);
    const lastOut = new Float64Array(Dn);
    const bias = new Float64Array(Dn);
    if (x.deltaBias) bias.set(x.deltaBias);
    const delta = x.delta;
    for (let o = 0; o < size; o += Dn) {
      for (let c = 0; c < Dn; c++) {
        const v = delta[o + c] + bias[c];
        if (v !== lastIn[c]) {
          lastIn[c] = v;
          lastOut[c] = softplusIf(s, v);
        }
        raw[o + c] = lastOut[c];
      }
    }
    return raw;
  }
  for (let row = 0; row < size / s.L; row++) {
    const bias = x.deltaBias ? x.deltaBias[row % X] : 0;
    let last = NaN;
    let lastOut = 0;
    for (let i = row * s.L; i < (row + 1) * s.L; i++) {
      const v = x.delta[i] + bias;
      if (v !== last) lastOut = s.softplus ? softplus(v) : v; // runs of equal Δ (constant-Δ layers) cost one softplus
      last = v;
      raw[i] = lastOut;
    }
  }
  if (s.deltaAlong === 'channel') return raw;
  const out = new Float64Array(size);
  swapLastTwo(raw, size / (s.dState * s.L), s.dState, s.L, out);
  return out;
}

type Floats = Float32Array | Float64Array;

/** B or C, time-major when input-dependent, in the input's precision (a float64 copy of float32 data only costs memory). */
function timeMajor(s: ScanDims, v: Floats, fixed: boolean): Floats {
  const out = v instanceof Float64Array ? new Float64Array(v.length) : new Float32Array(v.length);
  if (fixed) out.set(v);
  else swapLastTwo(v, s.batch, s.dState, s.L, out);
  return out;
}

/**
 * Forward pass. `keepForBackward` stores states and decays for {@link fusedBackward} (and disables the Λ = 0
 * sparse path). With `s.timeMajor` (the S6 and Mamba-2 host paths, ../mixers/s6Host.ts and mamba2Host.ts) u, Δ,
 * z and out are [b, L, d] and B, C rows of [b, L, ·] (types.ts); the backward pass only takes the reference layout.
 */
export function fusedForward(s: ScanDims, x: ScanArrays, keepForBackward: boolean): FusedForward {
  const { batch, dInner: Dn, dState: N, L } = s;
  if (s.timeMajor && (s.deltaAlong !== 'channel' || s.bFixed || s.cFixed || keepForBackward)) {
    throw new Error('internal: the time-major layout is for inference with Δ per channel and input-dependent B, C');
  }
  const dtT = discretizedDelta(s, x);
  const Bt = s.timeMajor ? x.B : timeMajor(s, x.B, s.bFixed);
  const Ct = s.timeMajor ? x.C : timeMajor(s, x.C, s.cFixed);
  const out = new Float32Array(batch * Dn * L);
  const lastState = new Float32Array(batch * Dn * N);
  const states = keepForBackward ? new Float32Array(batch * Dn * L * N) : undefined;
  const decay = keepForBackward ? new Float32Array(batch * Dn * L * N) : undefined;
  const yPre = keepForBackward && x.z ? new Float32Array(out.length) : undefined;
  const h = new Float64Array(N);
  const disc = DISC[s.disc];
  const { u, A, D, z } = x;
  const free = keepForBackward ? undefined : decayFreeRows(A, Dn, N);
  const shared = free && !s.bFixed && !s.cFixed && s.deltaAlong === 'channel'; // B_t, C_t shared by every channel d
  const freeRows = shared ? Int32Array.from(free.keys()).filter((d) => free[d] === 1) : undefined;
  const scratch = freeRows && sharedScratch(s, freeRows.length);
  const rowPatterns = free && !shared ? { pb: emptyPattern(L, N), pc: emptyPattern(L, N) } : undefined; // reused by every row
  for (let b = 0; b < batch; b++) {
    if (freeRows) decayFreeShared(s, b, freeRows, x, dtT, Bt, Ct, out, lastState, scratch!);
    for (let d = 0; d < Dn; d++) {
      const r = rowLayout(s, b, d);
      const ao = d * N;
      const Dd = D ? D[d] : 0;
      h.fill(0);
      if (free?.[d]) {
        if (shared) continue;
        const pb = nonzeros(Bt, r.bBase, r.bT ? L : 1, N, N, rowPatterns!.pb);
        const pc = nonzeros(Ct, r.cBase, r.cT ? L : 1, N, N, rowPatterns!.pc);
        decayFreeRow(s, r, x, Dd, dtT, Bt, Ct, pb, pc, h, out);
        for (let n = 0; n < N; n++) lastState[(b * Dn + d) * N + n] = h[n];
        continue;
      }
      for (let t = 0; t < L; t++) {
        const ut = u[r.uo + t * r.uT];
        const di = r.dBase + t * r.dT;
        const bi = r.bBase + t * r.bT;
        const ci = r.cBase + t * r.cT;
        const so = r.so + t * N;
        let y = 0;
        for (let n = 0; n < N; n++) {
          const dl = dtT[di + n * r.dN];
          const a = A[ao + n];
          const dA = Math.exp(dl * a);
          const bu = Bt[bi + n] * ut;
          const hn = dA * h[n] + (disc === 0 ? dl * bu : disc === 1 ? zohCoef(dl, a) * bu : bu); // Eq. 14f
          h[n] = hn;
          y += hn * Ct[ci + n]; // Eq. 14g, y_t = h_t C_t
          if (states) {
            states[so + n] = hn;
            decay![so + n] = dA;
          }
        }
        y += Dd * ut;
        if (z) {
          if (yPre) yPre[r.uo + t * r.uT] = y;
          const zt = z[r.uo + t * r.uT];
          y *= silu(zt);
        }
        out[r.uo + t * r.uT] = y;
      }
      for (let n = 0; n < N; n++) lastState[(b * Dn + d) * N + n] = h[n];
    }
  }
  return { out, lastState, dtT, states, decay, yPre };
}

/** Rows d whose A[d, :] is all zero: e^{Δ̄A} = 1 exactly there for every finite Δ̄ (Λ = 0, as in Prop. 1 / Thm. 2–4). */
function decayFreeRows(A: ArrayLike<number>, Dn: number, N: number): Uint8Array | undefined {
  const free = new Uint8Array(Dn);
  let any = false;
  for (let d = 0; d < Dn; d++) {
    let z = 1;
    for (let n = 0; n < N && z; n++) if (A[d * N + n] !== 0) z = 0;
    free[d] = z;
    any ||= z === 1;
  }
  return any ? free : undefined;
}

/** Sparsity pattern (CSR: row starts, column ids) of `rows` length-N rows of `v`, the first at `base`, `stride` apart. */
interface Pattern {
  start: Int32Array; // [rows + 1]
  idx: Int32Array; // column n of every nonzero
}

/** Room for the pattern of `rows` length-N rows: every entry nonzero, so one pass fills it without counting. */
const emptyPattern = (rows: number, N: number): Pattern => ({ start: new Int32Array(rows + 1), idx: new Int32Array(rows * N) });

function nonzeros(v: Floats, base: number, rows: number, N: number, stride: number, into: Pattern): Pattern {
  const { start, idx } = into;
  let k = 0;
  for (let t = 0; t < rows; t++) {
    start[t] = k;
    const o = base + t * stride;
    for (let n = 0; n < N; n++) if (v[o + n] !== 0) idx[k++] = n;
  }
  start[rows] = k;
  return { start, idx };
}

/**
 * One (b, d) row with Λ = 0 (inference only): h_t = h_{t−1} + Δ̄_t B_t x_t (14f with e^{Δ̄A} = 1, and
 * ZOH's (e^{Δ̄a} − 1)/a = Δ̄ at a = 0) touches only the n where B_t ≠ 0, and y_t = h_t C_t (14g) reads only
 * the n where C_t ≠ 0 — the same float64 operations as the dense loop minus exact no-ops (h + 0, y + 0),
 * so the output equals the dense loop's exactly. Cost O(L·(nnz B + nnz C)) instead of O(L·N) exponentials.
 */
function decayFreeRow(
  s: ScanDims, r: ReturnType<typeof rowLayout>, x: ScanArrays, Dd: number, dtT: Float64Array, Bt: Floats, Ct: Floats,
  pb: Pattern, pc: Pattern, h: Float64Array, out: Float32Array,
): void {
  const { u, z } = x;
  const identity = DISC[s.disc] === 2;
  for (let t = 0; t < s.L; t++) {
    const ut = u[r.uo + t * r.uT];
    const di = r.dBase + t * r.dT;
    const bi = r.bBase + t * r.bT;
    const ci = r.cBase + t * r.cT;
    const tb = r.bT ? t : 0;
    const tc = r.cT ? t : 0;
    for (let k = pb.start[tb]; k < pb.start[tb + 1]; k++) {
      const n = pb.idx[k];
      const bu = Bt[bi + n] * ut;
      h[n] += identity ? bu : dtT[di + n * r.dN] * bu;
    }
    let y = 0;
    for (let k = pc.start[tc]; k < pc.start[tc + 1]; k++) {
      const n = pc.idx[k];
      y += h[n] * Ct[ci + n];
    }
    y += Dd * ut;
    if (z) {
      const zt = z[r.uo + t * r.uT];
      y *= silu(zt);
    }
    out[r.uo + t * r.uT] = y;
  }
}

/**
 * All Λ = 0 rows of batch b at once when B_t, C_t are shared by the channels and Δ̄ is per channel (S6,
 * Mamba-2): the same arithmetic as {@link decayFreeRow}, looped as t → nonzero n → channel over time-major
 * [L, R] data, so B_t's and C_t's patterns are read once per t and every inner loop is contiguous. In the
 * S6 host layout with every row free, x̂ and Δ̄ are read in place; otherwise the free rows are copied.
 *   uT, dT [L, R]: x̂ and Δ̄ of the R free rows;   H [N, R]: their states;   Y [R]: y_t.
 */
interface SharedScratch {
  uT?: Float64Array; // [L, R], unless read in place
  dT?: Float64Array; // [L, R], unless read in place or constant
  H: Float64Array; // [N, R]
  Y: Float64Array; // [R]
  pb: Pattern; // B_t's and C_t's nonzeros, reused for every b
  pc: Pattern;
}

const inPlace = (s: ScanDims, R: number) => s.timeMajor !== undefined && R === s.dInner;

function sharedScratch(s: ScanDims, R: number): SharedScratch {
  const { L, dState: N } = s;
  const copied = !inPlace(s, R);
  return {
    uT: copied ? new Float64Array(L * R) : undefined,
    dT: copied && !s.timeMajor?.deltaConstant ? new Float64Array(L * R) : undefined,
    H: new Float64Array(N * R), Y: new Float64Array(R), pb: emptyPattern(L, N), pc: emptyPattern(L, N),
  };
}

function decayFreeShared(
  s: ScanDims, b: number, rows: Int32Array, x: ScanArrays, dtT: Float64Array, Bt: Floats, Ct: Floats,
  out: Float32Array, lastState: Float32Array, scratch: SharedScratch,
): void {
  const { dState: N, L, dInner: Dn } = s;
  const { u, D, z } = x;
  const R = rows.length;
  const { H, Y } = scratch;
  const lay = rowLayout(s, b, 0);
  const step = lay.uT; // of u, z, out per t
  const uo = Int32Array.from(rows, (d) => rowLayout(s, b, d).uo); // row start in u, z, out (and Δ̄ unless constant)
  // x̂ and Δ̄ as [L, R] (xs[x0 + t·R + j], ds[d0 + t·dStep + j]): in place, or copied from the free rows
  let xs: Floats = u;
  let x0 = lay.uo;
  let ds: Float64Array = dtT;
  let d0 = lay.dBase;
  const dStep = lay.dT === 0 ? 0 : R; // constant Δ̄: the same [R] row at every t
  if (!inPlace(s, R)) {
    xs = scratch.uT!;
    x0 = 0;
    for (let j = 0; j < R; j++) for (let t = 0; t < L; t++) xs[t * R + j] = u[uo[j] + t * step];
    if (dStep === 0) ds = Float64Array.from(rows, (d) => dtT[d]);
    else {
      ds = scratch.dT!;
      for (let j = 0; j < R; j++) for (let t = 0; t < L; t++) ds[t * R + j] = dtT[uo[j] + t * step];
    }
    d0 = 0;
  }
  H.fill(0);
  const identity = DISC[s.disc] === 2; // identity B: h += B x; else h += Δ̄ (B x) (ZOH at a = 0 is Δ̄ too)
  const pb = nonzeros(Bt, lay.bBase, L, N, lay.bT, scratch.pb);
  const pc = nonzeros(Ct, lay.cBase, L, N, lay.cT, scratch.pc);
  const Dr = Float64Array.from(rows, (d) => (D ? D[d] : 0));
  const contiguous = inPlace(s, R) && !D && !z; // out row t of batch b is exactly Y
  for (let t = 0; t < L; t++) {
    const xt = x0 + t * R;
    const dt = d0 + t * dStep;
    const bt = lay.bBase + t * lay.bT;
    for (let k = pb.start[t]; k < pb.start[t + 1]; k++) {
      const n = pb.idx[k];
      const Bv = Bt[bt + n];
      const hn = n * R;
      if (identity) for (let j = 0; j < R; j++) H[hn + j] += Bv * xs[xt + j];
      else for (let j = 0; j < R; j++) H[hn + j] += ds[dt + j] * (Bv * xs[xt + j]); // (14f), e^{Δ̄A} = 1
    }
    Y.fill(0);
    const ct = lay.cBase + t * lay.cT;
    for (let k = pc.start[t]; k < pc.start[t + 1]; k++) {
      const n = pc.idx[k];
      const Cv = Ct[ct + n];
      const hn = n * R;
      for (let j = 0; j < R; j++) Y[j] += H[hn + j] * Cv; // (14g)
    }
    if (contiguous) {
      out.set(Y, lay.uo + t * step); // no D, no gate: y_t is Y (float64 → float32 as below)
      continue;
    }
    for (let j = 0; j < R; j++) {
      const o = uo[j] + t * step;
      let y = Y[j] + Dr[j] * xs[xt + j];
      if (z) y *= silu(z[o]);
      out[o] = y;
    }
  }
  for (let j = 0; j < R; j++) for (let n = 0; n < N; n++) lastState[(b * Dn + rows[j]) * N + n] = H[n * R + j];
}

/**
 * Reverse-mode pass. `gOut` [b,d,L]; `gLast` [b,d,n] or undefined.
 * Adjoint recurrence: ḡ_t = ∂L/∂h_t = e^{Δ̄_{t+1} A} ḡ_{t+1} + gy_t C_t.
 */
export function fusedBackward(s: ScanDims, x: ScanArrays, f: FusedForward, gOut: Float32Array, gLast?: Float32Array): FusedGrads {
  const { batch, dInner: Dn, dState: N, L } = s;
  if (s.timeMajor) throw new Error('internal: fusedBackward takes the reference layout only');
  const full = f.states && f.decay && (!x.z || f.yPre) ? f : fusedForward(s, x, true);
  const { states, decay, yPre, dtT } = full as Required<FusedForward>;
  const Bt = timeMajor(s, x.B, s.bFixed);
  const Ct = timeMajor(s, x.C, s.cFixed);
  const { u, A, D, z } = x;
  const gu = new Float32Array(u.length);
  const gz = z ? new Float32Array(z.length) : undefined;
  const gdtT = new Float64Array(dtT.length);
  const gA = new Float64Array(A.length);
  const gBt = new Float64Array(Bt.length);
  const gCt = new Float64Array(Ct.length);
  const gD = D ? new Float64Array(D.length) : undefined;
  const gh = new Float64Array(N);
  const gaRow = new Float64Array(N);
  const disc = DISC[s.disc];
  const chan = s.deltaAlong === 'channel';
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < Dn; d++) {
      const r = rowLayout(s, b, d);
      const ao = d * N;
      const Dd = D ? D[d] : 0;
      for (let n = 0; n < N; n++) gh[n] = gLast ? gLast[(b * Dn + d) * N + n] : 0;
      gaRow.fill(0);
      let gDacc = 0;
      for (let t = L - 1; t >= 0; t--) {
        const ut = u[r.uo + t];
        let gy = gOut[r.uo + t];
        if (gz) {
          const zt = z![r.uo + t];
          const sg = 1 / (1 + Math.exp(-zt));
          gz[r.uo + t] = gy * yPre[r.uo + t] * sg * (1 + zt * (1 - sg)); // d silu(z)/dz
          gy *= zt * sg;
        }
        gDacc += gy * ut;
        let gut = gy * Dd;
        let gdlRow = 0; // Σ_n ∂L/∂Δ̄ when Δ is per channel
        const di = r.dBase + t * r.dT;
        const bi = r.bBase + t * r.bT;
        const ci = r.cBase + t * r.cT;
        const so = r.so + t * N;
        for (let n = 0; n < N; n++) {
          const dl = dtT[di + n * r.dN];
          const a = A[ao + n];
          const dA = decay[so + n];
          const hp = t > 0 ? states[so - N + n] : 0;
          gCt[ci + n] += gy * states[so + n];
          const ghn = gh[n] + gy * Ct[ci + n];
          const gdA = ghn * hp;
          let gdl = gdA * dA * a;
          let ga = gdA * dA * dl;
          const Bv = Bt[bi + n];
          if (disc === 0) {
            gdl += ghn * Bv * ut;
            gBt[bi + n] += ghn * dl * ut;
            gut += ghn * dl * Bv;
          } else if (disc === 1) {
            const phi = zohCoef(dl, a);
            gdl += ghn * Bv * ut * dA; // ∂φ/∂Δ = e^{Δa}
            ga += ghn * Bv * ut * zohCoefGradA(dl, a);
            gBt[bi + n] += ghn * phi * ut;
            gut += ghn * phi * Bv;
          } else {
            gBt[bi + n] += ghn * ut;
            gut += ghn * Bv;
          }
          if (chan) gdlRow += gdl;
          else gdtT[di + n] += gdl;
          gaRow[n] += ga;
          gh[n] = ghn * dA;
        }
        if (chan) gdtT[di] = gdlRow;
        gu[r.uo + t] = gut;
      }
      for (let n = 0; n < N; n++) gA[ao + n] += gaRow[n];
      if (gD) gD[d] += gDacc;
    }
  }
  return { ...chainDelta(s, x, gdtT), u: gu, z: gz, A: Float32Array.from(gA), B: fromTimeMajor(s, gBt, s.bFixed), C: fromTimeMajor(s, gCt, s.cFixed), D: gD && Float32Array.from(gD) };
}

function fromTimeMajor(s: ScanDims, g: Float64Array, fixed: boolean): Float32Array {
  const out = new Float32Array(g.length);
  if (fixed) out.set(g);
  else swapLastTwo(g, s.batch, s.dState, s.L, out, true);
  return out;
}

/** ∂L/∂delta and ∂L/∂deltaBias from ∂L/∂Δ̄ through Δ̄ = softplus(delta + bias). */
function chainDelta(s: ScanDims, x: ScanArrays, gdtT: Float64Array): { delta: Float32Array; deltaBias?: Float32Array } {
  const size = gdtT.length;
  const X = size / (s.batch * s.L);
  let gdt: ArrayLike<number> = gdtT;
  if (s.deltaAlong !== 'channel') {
    const g = new Float64Array(size);
    swapLastTwo(gdtT, size / (s.dState * s.L), s.dState, s.L, g, true);
    gdt = g;
  }
  const gdelta = new Float32Array(size);
  const gbias = x.deltaBias ? new Float64Array(x.deltaBias.length) : undefined;
  for (let i = 0; i < size; i++) {
    const bi = Math.floor(i / s.L) % X;
    const raw = x.delta[i] + (x.deltaBias ? x.deltaBias[bi] : 0);
    const g = s.softplus ? gdt[i] * softplusGrad(raw) : gdt[i];
    gdelta[i] = g;
    if (gbias) gbias[bi] += g;
  }
  return { delta: gdelta, deltaBias: gbias && Float32Array.from(gbias) };
}
