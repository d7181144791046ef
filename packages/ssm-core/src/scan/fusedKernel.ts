/**
 * Fused selective scan over typed arrays (CPU / wasm fast path): one pass over (b, d),
 * state kept in float64 registers, softplus, B-discretisation, D-skip and silu(z) gate fused.
 * The backward pass is the analytic reverse-mode recurrence (as in mamba_ssm's CUDA
 * `selective_scan_bwd_kernel`), using the hidden states stored by the forward.
 *
 * Shapes: see ./types.ts. `states` is [b, d, L, n] (time-major per channel, so the inner
 * loop over n is contiguous).
 */
import { deltaSize, scanLayout, type ScanLayout, softplus, softplusGrad, zohCoef, zohCoefGradA } from './layout.js';
import type { ScanArrays, ScanDims } from './types.js';

export interface FusedForward {
  out: Float32Array; // [b, d, L]
  lastState: Float32Array; // [b, d, n]
  dt: Float64Array; // Δ̄ = softplus(delta + bias), delta's shape
  states?: Float32Array; // [b, d, L, n], kept for backward
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

/**
 * Δ̄ = softplus?(delta + deltaBias) over delta's own shape. Per batch item delta is [X, L]
 * with X = d, n or d·n, and deltaBias is exactly [X] — so the bias index is ⌊(i mod X·L)/L⌋.
 */
const biasIndex = (i: number, per: number, L: number) => Math.floor((i % per) / L);

function discretizedDelta(s: ScanDims, x: ScanArrays): Float64Array {
  const dt = new Float64Array(deltaSize(s));
  const per = dt.length / s.batch;
  for (let i = 0; i < dt.length; i++) {
    const v = x.delta[i] + (x.deltaBias ? x.deltaBias[biasIndex(i, per, s.L)] : 0);
    dt[i] = s.softplus ? softplus(v) : v;
  }
  return dt;
}

/**
 * Start offsets of row (b, d) in every array, and the per-state / per-time strides used by the
 * inner loops (t has stride 1 in u, z and delta in every layout).
 */
function rowOffsets(s: ScanDims, lay: ScanLayout, b: number, d: number) {
  const { dInner: Dn, dState: N, L } = s;
  return {
    uo: (b * Dn + d) * L, // u, z, out
    dto: b * lay.delta[0] + d * lay.delta[1],
    dtN: lay.delta[2],
    bo: b * lay.B[0] + d * lay.B[1],
    bN: lay.B[2],
    bT: lay.B[3],
    co: b * lay.C[0] + d * lay.C[1],
    cN: lay.C[2],
    cT: lay.C[3],
    ao: d * N, // A
    so: (b * Dn + d) * L * N, // stored states [b, d, L, n]
  };
}

export function fusedForward(s: ScanDims, x: ScanArrays, keepForBackward: boolean): FusedForward {
  const { batch, dInner: Dn, dState: N, L } = s;
  const lay = scanLayout(s);
  const dt = discretizedDelta(s, x);
  const out = new Float32Array(batch * Dn * L);
  const lastState = new Float32Array(batch * Dn * N);
  const states = keepForBackward ? new Float32Array(batch * Dn * L * N) : undefined;
  const yPre = keepForBackward && x.z ? new Float32Array(out.length) : undefined;
  const h = new Float64Array(N);
  const disc = DISC[s.disc];
  const { u, A, B, C, D, z } = x;
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < Dn; d++) {
      const { uo, dto, dtN, bo, bN, bT, co, cN, cT, ao, so: so0 } = rowOffsets(s, lay, b, d);
      let so = so0;
      const Dd = D ? D[d] : 0;
      h.fill(0);
      for (let t = 0; t < L; t++) {
        const ut = u[uo + t];
        let y = 0;
        for (let n = 0; n < N; n++) {
          const dl = dt[dto + n * dtN + t];
          const a = A[ao + n];
          const bu = B[bo + n * bN + t * bT] * ut;
          const bx = disc === 0 ? dl * bu : disc === 1 ? zohCoef(dl, a) * bu : bu;
          const hn = Math.exp(dl * a) * h[n] + bx; // Eq. 14f
          h[n] = hn;
          y += hn * C[co + n * cN + t * cT]; // Eq. 14g, y_t = h_t C_t
        }
        if (states) {
          for (let n = 0; n < N; n++) states[so + n] = h[n];
          so += N;
        }
        y += Dd * ut;
        if (z) {
          if (yPre) yPre[uo + t] = y;
          const zt = z[uo + t];
          y *= zt / (1 + Math.exp(-zt));
        }
        out[uo + t] = y;
      }
      for (let n = 0; n < N; n++) lastState[(b * Dn + d) * N + n] = h[n];
    }
  }
  return { out, lastState, dt, states, yPre };
}

/**
 * Reverse-mode pass. `gOut` [b,d,L]; `gLast` [b,d,n] or undefined.
 * Adjoint recurrence: ḡ_t = ∂L/∂h_t = e^{Δ̄_{t+1} A} ḡ_{t+1} + gy_t C_t.
 */
export function fusedBackward(s: ScanDims, x: ScanArrays, f: FusedForward, gOut: Float32Array, gLast?: Float32Array): FusedGrads {
  const { batch, dInner: Dn, dState: N, L } = s;
  const lay = scanLayout(s);
  const states = f.states ?? fusedForward(s, x, true).states!;
  const yPre = x.z ? (f.yPre ?? fusedForward(s, x, true).yPre!) : undefined;
  const { u, A, B, C, D, z } = x;
  const dt = f.dt;
  const gu = new Float32Array(u.length);
  const gz = z ? new Float32Array(z.length) : undefined;
  const gdt = new Float64Array(dt.length);
  const gA = new Float64Array(A.length);
  const gB = new Float64Array(B.length);
  const gC = new Float64Array(C.length);
  const gD = D ? new Float64Array(D.length) : undefined;
  const gh = new Float64Array(N);
  const disc = DISC[s.disc];
  for (let b = 0; b < batch; b++) {
    for (let d = 0; d < Dn; d++) {
      const { uo, dto, dtN, bo, bN, bT, co, cN, cT, ao, so: sBase } = rowOffsets(s, lay, b, d);
      const Dd = D ? D[d] : 0;
      for (let n = 0; n < N; n++) gh[n] = gLast ? gLast[(b * Dn + d) * N + n] : 0;
      let gDacc = 0;
      for (let t = L - 1; t >= 0; t--) {
        const ut = u[uo + t];
        let gy = gOut[uo + t];
        if (z && gz && yPre) {
          const zt = z[uo + t];
          const sg = 1 / (1 + Math.exp(-zt));
          gz[uo + t] = gy * yPre[uo + t] * sg * (1 + zt * (1 - sg)); // d silu(z)/dz
          gy *= zt * sg;
        }
        gDacc += gy * ut;
        let gut = gy * Dd;
        const sT = sBase + t * N;
        for (let n = 0; n < N; n++) {
          const di = dto + n * dtN + t;
          const dl = dt[di];
          const a = A[ao + n];
          const bi = bo + n * bN + t * bT;
          const ci = co + n * cN + t * cT;
          const dA = Math.exp(dl * a);
          const hp = t > 0 ? states[sT - N + n] : 0;
          gC[ci] += gy * states[sT + n];
          const ghn = gh[n] + gy * C[ci];
          const gdA = ghn * hp;
          let gdl = gdA * dA * a;
          let ga = gdA * dA * dl;
          const Bv = B[bi];
          if (disc === 0) {
            gdl += ghn * Bv * ut;
            gB[bi] += ghn * dl * ut;
            gut += ghn * dl * Bv;
          } else if (disc === 1) {
            const phi = zohCoef(dl, a);
            gdl += ghn * Bv * ut * dA; // ∂φ/∂Δ = e^{Δa}
            ga += ghn * Bv * ut * zohCoefGradA(dl, a);
            gB[bi] += ghn * phi * ut;
            gut += ghn * phi * Bv;
          } else {
            gB[bi] += ghn * ut;
            gut += ghn * Bv;
          }
          gdt[di] += gdl;
          gA[ao + n] += ga;
          gh[n] = ghn * dA;
        }
        gu[uo + t] = gut;
      }
      if (gD) gD[d] += gDacc;
    }
  }
  // Chain through Δ̄ = softplus(delta + bias); the bias gradient sums over its broadcast axes.
  const gdelta = new Float32Array(dt.length);
  const gbias = x.deltaBias ? new Float64Array(x.deltaBias.length) : undefined;
  const per = dt.length / batch;
  for (let i = 0; i < dt.length; i++) {
    const bi = biasIndex(i, per, L);
    const raw = x.delta[i] + (x.deltaBias ? x.deltaBias[bi] : 0);
    const g = s.softplus ? gdt[i] * softplusGrad(raw) : gdt[i];
    gdelta[i] = g;
    if (gbias) gbias[bi] += g;
  }
  return {
    u: gu, delta: gdelta, A: Float32Array.from(gA), B: Float32Array.from(gB), C: Float32Array.from(gC),
    D: gD && Float32Array.from(gD), z: gz, deltaBias: gbias && Float32Array.from(gbias),
  };
}
