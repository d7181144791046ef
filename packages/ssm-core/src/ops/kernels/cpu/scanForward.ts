/**
 * Forward pass of the fused selective scan over typed arrays (host kernel: CPU / wasm / tfjs-node): one pass over (b, d),
 * state kept in float64 registers, softplus, B-discretisation, D-skip and silu(z) gate fused.
 *
 * Internally everything indexed by the state n is made time-major ([…, L, n]) so that the
 * inner loop over n reads and writes contiguous memory:
 *   Bt, Ct   [b, L, n] (input-dependent) or [d, n] (fixed)
 *   dtT      Δ̄ as [b, d, L] (Δ per channel: one value per step) | [b, L, n] (per state) | [b, d, L, n]
 *   states, decay   [b, d, L, n]
 * The S6 and Mamba-2 host kernels pass the model's layout instead (ScanDims.timeMajor, ../../core/types.ts): nothing is copied.
 */
import { silu, softplus } from '../../../math.js'; // the gate of the reference: out = y · silu(z)
import type { ScanArrays, ScanDims } from '../../core/types.js';
import { decayFreeRow, decayFreeRows, decayFreeShared, emptyPattern, nonzeros, sharedScratch } from './decayFree.js';
import { deltaSize, DISC, rowLayout, swapLastTwo, timeMajor, zohCoef } from './layout.js';

export interface FusedForward {
  out: Float32Array; // [b, d, L]
  lastState: Float32Array; // [b, d, n]
  dtT: Float64Array; // Δ̄ in the time-major layout above
  states?: Float32Array; // [b, d, L, n], kept for backward
  decay?: Float32Array; // [b, d, L, n], e^{Δ̄A}, kept for backward
  yPre?: Float32Array; // [b, d, L], output before the gate (only with z)
}

/** Gradients of the scan's inputs, in their own layouts. */
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

const softplusIf = (s: ScanDims, v: number) => (s.softplus ? softplus(v) : v);

/** Δ̄ = softplus?(delta + deltaBias), time-major. deltaBias is [X] for delta [b, X, L]. */
function discretizedDelta(s: ScanDims, x: ScanArrays): Float64Array {
  const size = deltaSize(s);
  const X = size / (s.batch * s.L);
  if (s.timeMajor?.deltaConstant)
    return Float64Array.from(x.delta, (v, c) => softplusIf(s, v + (x.deltaBias ? x.deltaBias[c] : 0))); // [d]
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

/**
 * Forward pass. `keepForBackward` stores states and decays for {@link fusedBackward} (and disables the Λ = 0
 * sparse path). With `s.timeMajor` (the S6 and Mamba-2 host kernels, s6Inner.ts and mamba2Inner.ts) u, Δ,
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
