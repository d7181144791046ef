/**
 * Independent float64 implementation of the whole 1-layer model, written straight from the
 * paper's equations (Tab. 2, Eq. 14a–14g, Eq. 15) with explicit loops over time — no tfjs,
 * no shared code with the library except reading parameter values.
 */
import type { MambaModel } from '../src/index.js';
import { matvec } from './helpers.js';

type Arr = Float64Array;
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const act = (v: number, a: string) =>
  a === 'silu' ? v * sig(v) : a === 'relu' ? Math.max(0, v) : a === 'sigmoid' ? sig(v) : v;
const softplus = (v: number) => (v > 20 ? v : Math.log1p(Math.exp(v)));

/** Causal depthwise conv over a sequence of vectors: y_t[c] = Σ_j W[c,j] x_{t−(k−1)+j}[c] + b[c]. */
function conv(xs: Float64Array[], W: Arr, b: Arr, k: number, a: string): Float64Array[] {
  const c = xs[0].length;
  return xs.map((_, t) => {
    const y = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      let s = b[ch];
      for (let j = 0; j < k; j++) {
        const src = t - (k - 1) + j;
        if (src >= 0) s += W[ch * k + j] * xs[src][ch];
      }
      y[ch] = act(s, a);
    }
    return y;
  });
}

export function blockRef64(model: MambaModel, tokens: number[][]): Float64Array {
  const c = model.config;
  const P = (n: string) => Float64Array.from(model.getParam(n).dataSync());
  const { vocabSize: V, dModel: d, dState: N } = c;
  const L = tokens[0].length;
  const logits = new Float64Array(tokens.length * L * V);
  const emb = P('embedding.weight');
  const ed = c.positionalEncoding ? d - 1 : d;
  const Bdisc = (dt: number, a: number) =>
    c.discretization === 'euler' ? dt : c.discretization === 'identity' ? 1 : a === 0 ? dt : Math.expm1(dt * a) / a;

  tokens.forEach((seq, bi) => {
    // embedding and PE (last coordinate = t, t = 1..L)
    const xs = seq.map((tok, t) => {
      const v = new Float64Array(d);
      for (let i = 0; i < ed; i++) v[i] = emb[tok * ed + i];
      if (c.positionalEncoding) v[d - 1] = (t + 1) * c.positionalEncoding.scale;
      return v;
    });
    const blockConv = c.conv && c.mixer !== 'mamba2';
    const xh =
      blockConv && c.conv
        ? conv(xs, P('mixer.conv1d.weight'), P('mixer.conv1d.bias'), c.conv.kernelSize, c.conv.activation)
        : xs;
    const ys: Float64Array[] = [];
    const h = Array.from({ length: d }, () => new Float64Array(N)); // h_t ∈ R^{d×N}

    if (c.mixer === 'mamba2') {
      const proj = (name: string, out: number) => xs.map((x) => matvec(P(`mixer.in_proj_${name}.weight`), out, d, x));
      const br = (name: string, out: number) =>
        c.conv
          ? conv(
              proj(name, out),
              P(`mixer.conv_${name}.weight`),
              P(`mixer.conv_${name}.bias`),
              c.conv.kernelSize,
              c.conv.activation,
            )
          : proj(name, out);
      const xu = br('x', d),
        Bs = br('B', N),
        Cs = br('C', N);
      const a = -Math.exp(P('mixer.A_log')[0]);
      const D = c.skip ? P('mixer.D')[0] : 0;
      for (let t = 0; t < L; t++) {
        const dt = softplus(matvec(P('mixer.dt_proj.weight'), 1, d, xs[t])[0] + P('mixer.dt_bias')[0]); // (14c) from x_t
        const y = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          for (let n = 0; n < N; n++) {
            h[i][n] = Math.exp(a * dt) * h[i][n] + Bdisc(dt, a) * xu[t][i] * Bs[t][n]; // (14f)
            y[i] += h[i][n] * Cs[t][n]; // (14g)
          }
          y[i] += D * xu[t][i];
        }
        ys.push(y);
      }
    } else {
      const Alog = c.mixer === 'linearAttention' ? undefined : P('mixer.A_log');
      const D = c.skip && c.mixer !== 'linearAttention' ? P('mixer.D') : undefined;
      for (let t = 0; t < L; t++) {
        const x = xh[t];
        let dtOf: (i: number, n: number) => number;
        let Bt: ArrayLike<number>, Ct: (i: number, n: number) => number;
        if (c.mixer === 's6') {
          const R = c.dtRank;
          const xdbl = matvec(P('mixer.x_proj.weight'), R + 2 * N, d, x);
          const dt = matvec(P('mixer.dt_proj.weight'), d, R, xdbl.subarray(0, R), P('mixer.dt_proj.bias')).map(
            softplus,
          ); // (14c)
          dtOf = (i) => dt[i];
          Bt = xdbl.subarray(R, R + N); // (14d)
          const Cv = xdbl.subarray(R + N);
          Ct = (_i, n) => Cv[n]; // (14e)
        } else if (c.mixer === 'mambaDeltaT') {
          const BC = matvec(P('mixer.x_proj.weight'), 2 * N, d, x);
          const dt = matvec(P('mixer.dt_proj.weight'), N, d, x, P('mixer.dt_proj.bias')).map(softplus); // Δ(x̂_t) ∈ R^N
          dtOf = (_i, n) => dt[n];
          Bt = BC.subarray(0, N);
          Ct = (_i, n) => BC[N + n];
        } else if (c.mixer === 's4d') {
          dtOf = () => 1; // Δ^{S4D} = 1
          Bt = P('mixer.B');
          const Cm = P('mixer.C');
          Ct = (i, n) => Cm[i * N + n];
        } else {
          const BC = matvec(P('mixer.x_proj.weight'), 2 * N, d, x);
          dtOf = () => 1;
          Bt = BC.subarray(0, N);
          Ct = (_i, n) => BC[N + n];
        }
        const y = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          for (let n = 0; n < N; n++) {
            const a = Alog ? -Math.exp(Alog[i * N + n]) : 0; // linear attention: Λ = I
            const dt = dtOf(i, n);
            const disc = c.mixer === 'linearAttention' ? 1 : Bdisc(dt, a);
            h[i][n] = Math.exp(dt * a) * h[i][n] + disc * x[i] * Bt[n]; // (14f) / (15)
            y[i] += h[i][n] * Ct(i, n); // (14g)
          }
          if (D) y[i] += D[i] * x[i];
        }
        ys.push(y);
      }
    }
    // gate σ(Linear(x_t)) ⊙ y_t, then the output layer
    for (let t = 0; t < L; t++) {
      let y = ys[t];
      if (c.gate) {
        const g = matvec(P('mixer.gate.weight'), d, d, xs[t], P('mixer.gate.bias'));
        const ga = c.gate.activation;
        y = y.map((v, i) => v * act(g[i], ga));
      }
      const o = matvec(P('lm_head.weight'), V, d, y, c.outputBias ? P('lm_head.bias') : undefined);
      logits.set(o, (bi * L + t) * V);
    }
  });
  return logits;
}
