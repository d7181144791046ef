/**
 * `ssm-lab theory` (`npm run theory`): the Cor. 1 rate table and the sensitivity rate table (Lem. 1,
 * Eq. 45), plus one-line checks of Thm 1, Prop. 1 and Lem. 2 — all computed live by ssm-core's
 * `theory` module.
 */
import { backendInfo, ready, theory } from 'ssm-core';

type Corollary1Table = theory.Corollary1Table;
type SensitivityTable = theory.SensitivityTable;
const { corollary1Table, lemma2Demo, recoverAbsoluteTime, sensitivityTable, theorem1Errors } = theory;

/** Number formatting for the tables. */
const f = (x: number | null, digits = 4) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits));
const e = (x: number) => x.toExponential(2);
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const rule = (n: number) => row(new Array(n).fill('---'));
const wLabel = (w: number) => `w_Δ=${w.toExponential(0).replace('e+', 'e')}`;

/** The Cor. 1 rate table (Eq. 28–31 vs Eq. 27). */
function printCorollary1(t: Corollary1Table): void {
  const s6 = t.s6.map((c) => `S6 layer L=${c.L} ${wLabel(c.wDelta)}`);
  console.log(`\nCor. 1 — best N-term approximation of piecewise-constant ρ with m discontinuities`);
  console.log(
    `error² = ‖ρ − ρ_N‖²_{L²[0,1]} (what Eq. 28–31 call the error), exact; geometric mean over ${t.targets} random targets;`,
  );
  console.log(
    `rates fitted over ${t.fitFrom} ≤ N ≤ ${t.NMax}: Mamba/S6 as r in error² ≈ c·2^{−rN} (N = 1 + 3n bases for n wavelets), S4D as p in error² ≈ c·N^{p}\n`,
  );
  const head = [
    'm',
    'Mamba r (fit)',
    'pred. 1/(3m)',
    'per wavelet 3r',
    'pred. 1/m',
    'S4D/Fourier p (fit)',
    'pred.',
    ...s6.map((s) => `${s} r`),
    `error² N=${t.NMax}: Mamba`,
    'S4D',
    ...t.s6.map((c) => wLabel(c.wDelta)),
  ];
  console.log(row(head));
  console.log(rule(head.length));
  for (const r of t.rows) {
    console.log(
      row([
        String(r.m),
        f(r.mambaRate),
        f(r.mambaPredicted),
        f(r.haarRatePerWavelet),
        f(1 / r.m),
        f(r.fourierExponent),
        f(r.fourierPredicted, 0),
        ...r.s6Rates.map((x) => f(x)),
        e(r.error2AtNMax.mamba),
        e(r.error2AtNMax.fourier),
        ...r.error2AtNMax.s6.map(e),
      ]),
    );
  }
}

/** The sensitivity rate table (Lem. 1, Eq. 45). */
function printSensitivity(t: SensitivityTable): void {
  const p = t.profiles.s4d;
  console.log(`\nLem. 1 / Eq. 45 — sensitivity to x_j (j = ${p.j}) as t grows, by tf.grad through the real mixers`);
  console.log(
    `S4D, S6, Mamba-2: d = ${p.d}, N = ${p.N}, default init (seed 0), conv off, L = ${p.L}; fitted r in |∂h_t/∂x_j| ≈ c·e^{−r t} over t > j;`,
  );
  console.log(
    `attention: TransformerModel (1 head, no LN/MLP), L = ${t.attention.L}; fitted exponent p in |∂y_t/∂x_j| ≈ c·t^{p}.`,
  );
  console.log(
    `"Lem. 1 spread" = max_t |sens_t·e^{λΣ_{r=j+1}^t Δ_r} / its first value − 1| (0 when Lemma 1's factorisation is exact).\n`,
  );
  const head = ['layer', 'quantity', 'law', 'λ_n', 'mean Δ', 'predicted', 'fitted', 'fitted/pred.', 'Lem. 1 spread'];
  console.log(row(head));
  console.log(rule(head.length));
  for (const r of t.rows) {
    const ratio = r.fitted === null ? null : r.fitted / r.predicted;
    console.log(
      row([
        r.layer,
        r.quantity,
        r.law,
        f(r.lambda, 3),
        f(r.meanDelta),
        f(r.predicted),
        f(r.fitted),
        f(ratio, 3),
        r.lemma1Spread === null ? '—' : e(r.lemma1Spread),
      ]),
    );
  }
}

/** One-line checks: Thm 1 (Eq. 23), Prop. 1 (Eq. 24), Lem. 2 (Eq. 13). */
function printChecks(): void {
  const th = theorem1Errors(2, 1, [-1e1, -1e2, -1e3, -1e4, -1e5]);
  console.log(
    `\nThm 1 (j=2, k=1): sup|ψ − (g1 − 2g2 + g3)| off the layers [t̂ − δ(w), t̂) for w_Δ = ${th.wDelta.map((w) => w.toExponential(0)).join(', ')}:`,
  );
  console.log(
    `  ${th.supError.map(e).join(', ')}   (bound 4·2^{j/2}/|w|: ${th.bound.map(e).join(', ')}; L² error ${th.l2Error.map(e).join(', ')})`,
  );
  const time = recoverAbsoluteTime(1000);
  console.log(
    `Prop. 1: λ = 0, B = 1, all-ones input → h_t = t: max_t |h_t − t| = ${e(Math.max(...time.h.map((h, i) => Math.abs(h - time.t[i]))))} over t ≤ 1000`,
  );
  const l2 = lemma2Demo();
  const minExact = Math.min(...l2.rows.map((r) => r.minRatioExact)),
    minPaper = Math.min(...l2.rows.map((r) => r.minRatioPaper));
  console.log(
    `Lem. 2 (S6, λΣΔ = c = ${f(l2.c)} over L = ${l2.L}): min_t,j |∂h_t/∂x_j| / (e^{−c}|∂h_j/∂x_j|) = ${f(minExact)}; ` +
      `/ (e^{−c}|∂(BΔx)_j/∂x_j|) (Eq. 13) = ${f(minPaper)}`,
  );
}

/** Backend, both tables, the checks, and the wall time, on stdout. */
export async function printTheory(): Promise<void> {
  const t0 = performance.now();
  await ready();
  console.log(`Selectivity Lab · theory (Sec. 4, App. A.2, App. B) — backend ${backendInfo().name}`);
  printCorollary1(corollary1Table());
  printSensitivity(sensitivityTable());
  printChecks();
  console.log(`\ndone in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
