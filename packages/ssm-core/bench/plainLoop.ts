/**
 * Baseline for the benchmark: the selective-scan recurrence as the simplest possible
 * Float32Array loops (no tfjs), forward and a hand-written backward. This is what the
 * fused kernel is measured against; it does no validation, softplus, bias or gating.
 * Layout as mamba_ssm: u, delta [b,d,L]; A [d,n]; B, C [b,n,L]; D [d].
 */
export interface Plain {
  u: Float32Array;
  delta: Float32Array;
  A: Float32Array;
  B: Float32Array;
  C: Float32Array;
  D: Float32Array;
  b: number;
  d: number;
  n: number;
  L: number;
}

export function plainForward(p: Plain, states?: Float32Array): Float32Array {
  const { b: Bt, d: Dn, n: N, L, u, delta, A, B, C, D } = p;
  const out = new Float32Array(Bt * Dn * L);
  const h = new Float32Array(N);
  for (let b = 0; b < Bt; b++) {
    for (let d = 0; d < Dn; d++) {
      h.fill(0);
      const o = (b * Dn + d) * L;
      for (let t = 0; t < L; t++) {
        const dt = delta[o + t];
        const ut = u[o + t];
        let y = 0;
        for (let n = 0; n < N; n++) {
          const bn = (b * N + n) * L + t;
          h[n] = Math.exp(dt * A[d * N + n]) * h[n] + dt * B[bn] * ut;
          y += h[n] * C[bn];
        }
        if (states) states.set(h, (o + t) * N);
        out[o + t] = y + D[d] * ut;
      }
    }
  }
  return out;
}

export function plainBackward(p: Plain, states: Float32Array, gOut: Float32Array) {
  const { b: Bt, d: Dn, n: N, L, u, delta, A, B, C, D } = p;
  const gu = new Float32Array(u.length),
    gdelta = new Float32Array(delta.length),
    gA = new Float32Array(A.length);
  const gB = new Float32Array(B.length),
    gC = new Float32Array(C.length),
    gD = new Float32Array(D.length);
  const gh = new Float32Array(N);
  for (let b = 0; b < Bt; b++) {
    for (let d = 0; d < Dn; d++) {
      gh.fill(0);
      const o = (b * Dn + d) * L;
      for (let t = L - 1; t >= 0; t--) {
        const dt = delta[o + t];
        const ut = u[o + t];
        const gy = gOut[o + t];
        gD[d] += gy * ut;
        let gut = gy * D[d];
        let gdt = 0;
        for (let n = 0; n < N; n++) {
          const bn = (b * N + n) * L + t;
          const a = A[d * N + n];
          const dA = Math.exp(dt * a);
          const hp = t > 0 ? states[(o + t - 1) * N + n] : 0;
          gC[bn] += gy * states[(o + t) * N + n];
          const g = gh[n] + gy * C[bn];
          gdt += g * hp * dA * a + g * B[bn] * ut;
          gA[d * N + n] += g * hp * dA * dt;
          gB[bn] += g * dt * ut;
          gut += g * dt * B[bn];
          gh[n] = g * dA;
        }
        gu[o + t] = gut;
        gdelta[o + t] = gdt;
      }
    }
  }
  return { gu, gdelta, gA, gB, gC, gD };
}
