/*
 * The native yardstick of `npm run bench`: the selective scan of bench/plainLoop.ts (Δ per channel, input-dependent
 * B and C, D skip, euler) as plain C over float32, one thread, forward and forward + hand-written backward.
 * B and C are time-major ([b, L, n]) so that the loop over n reads contiguous memory, as in the fused kernels.
 * Built by the bench with the system C compiler (cc -O3 -march=native); prints "forward <ms> backward <ms>",
 * the minimum over `reps` runs, for the shape given as arguments: batch dInner dState L reps.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static unsigned long long rng = 88172645463325252ull;
static float uniform(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (float)((rng >> 11) * (1.0 / 9007199254740992.0));
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s batch dInner dState L reps\n", argv[0]);
    return 2;
  }
  const int Bn = atoi(argv[1]), Dn = atoi(argv[2]), N = atoi(argv[3]), L = atoi(argv[4]), reps = atoi(argv[5]);
  const size_t rows = (size_t)Bn * Dn, bl = (size_t)Bn * L * N;
  float *u = malloc(rows * L * 4), *dt = malloc(rows * L * 4), *A = malloc((size_t)Dn * N * 4);
  float *Bm = malloc(bl * 4), *Cm = malloc(bl * 4), *Dv = malloc(Dn * 4), *out = malloc(rows * L * 4);
  float *states = malloc(rows * L * N * 4), *gOut = malloc(rows * L * 4);
  float *gu = malloc(rows * L * 4), *gdt = malloc(rows * L * 4), *gA = malloc((size_t)Dn * N * 4);
  float *gB = malloc(bl * 4), *gC = malloc(bl * 4), *gD = malloc(Dn * 4), h[1024], gh[1024];
  if (N > 1024) return 2;
  for (size_t i = 0; i < rows * L; i++) u[i] = uniform() * 2 - 1, dt[i] = 0.001f + 0.099f * uniform(), gOut[i] = uniform() - 0.5f;
  for (size_t i = 0; i < (size_t)Dn * N; i++) A[i] = -(0.5f + 15.5f * uniform());
  for (size_t i = 0; i < bl; i++) Bm[i] = uniform() * 2 - 1, Cm[i] = uniform() * 2 - 1;
  for (int i = 0; i < Dn; i++) Dv[i] = uniform() * 2 - 1;
  double best_f = 1e30, best_fb = 1e30, sink = 0;
  for (int rep = 0; rep <= reps; rep++) {
    for (int keep = 0; keep < 2; keep++) {
      double t0 = now_ms();
      for (int b = 0; b < Bn; b++)
        for (int d = 0; d < Dn; d++) {
          const size_t o = ((size_t)b * Dn + d) * L;
          for (int n = 0; n < N; n++) h[n] = 0;
          for (int t = 0; t < L; t++) {
            const float dl = dt[o + t], ut = u[o + t];
            const float *Bt = Bm + ((size_t)b * L + t) * N, *Ct = Cm + ((size_t)b * L + t) * N, *a = A + (size_t)d * N;
            float y = 0;
            for (int n = 0; n < N; n++) {
              h[n] = expf(dl * a[n]) * h[n] + dl * Bt[n] * ut;
              y += h[n] * Ct[n];
            }
            if (keep)
              for (int n = 0; n < N; n++) states[(o + t) * N + n] = h[n];
            out[o + t] = y + Dv[d] * ut;
          }
        }
      if (keep) {
        for (size_t i = 0; i < (size_t)Dn * N; i++) gA[i] = 0;
        for (size_t i = 0; i < bl; i++) gB[i] = 0, gC[i] = 0;
        for (int i = 0; i < Dn; i++) gD[i] = 0;
        for (int b = 0; b < Bn; b++)
          for (int d = 0; d < Dn; d++) {
            const size_t o = ((size_t)b * Dn + d) * L;
            for (int n = 0; n < N; n++) gh[n] = 0;
            for (int t = L - 1; t >= 0; t--) {
              const float dl = dt[o + t], ut = u[o + t], gy = gOut[o + t];
              const float *Bt = Bm + ((size_t)b * L + t) * N, *Ct = Cm + ((size_t)b * L + t) * N, *a = A + (size_t)d * N;
              float *gBt = gB + ((size_t)b * L + t) * N, *gCt = gC + ((size_t)b * L + t) * N, *gAd = gA + (size_t)d * N;
              const float *hs = states + (o + t) * N, *hp = t > 0 ? hs - N : NULL;
              float gut = gy * Dv[d], gdl = 0;
              gD[d] += gy * ut;
              for (int n = 0; n < N; n++) {
                const float dA = expf(dl * a[n]), prev = hp ? hp[n] : 0;
                gCt[n] += gy * hs[n];
                const float g = gh[n] + gy * Ct[n];
                gdl += g * prev * dA * a[n] + g * Bt[n] * ut;
                gAd[n] += g * prev * dA * dl;
                gBt[n] += g * dl * ut;
                gut += g * dl * Bt[n];
                gh[n] = g * dA;
              }
              gu[o + t] = gut;
              gdt[o + t] = gdl;
            }
          }
      }
      const double ms = now_ms() - t0;
      if (rep > 0 && !keep && ms < best_f) best_f = ms;
      if (rep > 0 && keep && ms < best_fb) best_fb = ms;
      sink += out[rows * L / 2] + (keep ? gu[0] + gA[0] + gB[0] + gC[0] + gdt[0] + gD[0] : 0);
    }
  }
  printf("forward %.3f forward+backward %.3f (checksum %g)\n", best_f, best_fb, sink);
  return 0;
}
