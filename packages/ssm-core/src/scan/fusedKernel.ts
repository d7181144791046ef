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
  return {
    uo: (b * Dn + d) * L, // u, z, out; Δ̄ too when Δ is per channel
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

/** Δ̄ = softplus?(delta + deltaBias), time-major. deltaBias is [X] for delta [b, X, L]. */
function discretizedDelta(s: ScanDims, x: ScanArrays): Float64Array {
  const size = deltaSize(s);
  const X = size / (s.batch * s.L);
  const raw = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const v = x.delta[i] + (x.deltaBias ? x.deltaBias[Math.floor(i / s.L) % X] : 0);
    raw[i] = s.softplus ? softplus(v) : v;
  }
  if (s.deltaAlong === 'channel') return raw;
  const out = new Float64Array(size);
  swapLastTwo(raw, size / (s.dState * s.L), s.dState, s.L, out);
  return out;
}

/** B or C as float64, time-major when input-dependent. */
function timeMajor(s: ScanDims, v: ArrayLike<number>, fixed: boolean): Float64Array {
  const out = new Float64Array(v.length);
  if (fixed) out.set(v);
  else swapLastTwo(v, s.batch, s.dState, s.L, out);
  return out;
}

export function fusedForward(s: ScanDims, x: ScanArrays, keepForBackward: boolean): FusedForward {
  const { batch, dInner: Dn, dState: N, L } = s;
  const dtT = discretizedDelta(s, x);
  const Bt = timeMajor(s, x.B, s.bFixed);
  const Ct = timeMajor(s, x.C, s.cFixed);
  const out = new Float32Array(batch * Dn * L);
  const lastState = new Float32Array(batch * Dn * N);
  const states = keepForBackward ? new Float32Array(batch * Dn * L * N) : undefined;
  const decay = keepForBackward ? new Float32Array(batch * Dn * L * N) : undefined;
  const yPre = keepForBackward && x.z ? new Float32Array(out.length) : undefined;
  const h = new Float64Array(N);
  const disc = DISC[s.disc];
  const { u, A, D, z } = x;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < Dn; d++) {
      const r = rowLayout(s, b, d);
      const ao = d * N;
      const Dd = D ? D[d] : 0;
      h.fill(0);
      for (let t = 0; t < L; t++) {
        const ut = u[r.uo + t];
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
          if (yPre) yPre[r.uo + t] = y;
          const zt = z[r.uo + t];
          y *= zt / (1 + Math.exp(-zt));
        }
        out[r.uo + t] = y;
      }
      for (let n = 0; n < N; n++) lastState[(b * Dn + d) * N + n] = h[n];
    }
  }
  return { out, lastState, dtT, states, decay, yPre };
}

/**
 * Reverse-mode pass. `gOut` [b,d,L]; `gLast` [b,d,n] or undefined.
 * Adjoint recurrence: ḡ_t = ∂L/∂h_t = e^{Δ̄_{t+1} A} ḡ_{t+1} + gy_t C_t.
 */
export function fusedBackward(s: ScanDims, x: ScanArrays, f: FusedForward, gOut: Float32Array, gLast?: Float32Array): FusedGrads {
  const { batch, dInner: Dn, dState: N, L } = s;
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
