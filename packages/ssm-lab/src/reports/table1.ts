/**
 * Reports of the KEEP n-TH reproductions: Tab. 1 (a Markdown table beside the paper's values, the
 * verdict, the results document) and Fig. 1 (decay statistics per run, as a document for plotting).
 */
import type { JobResult } from '../experiments/jobs.js';
import { FIG1_T, table1Models, type Preset } from '../experiments/presets.js';

const fmtK = (n: number) => `${(n / 1e3).toFixed(1)}k`;
const paperRows = () => new Map(table1Models(50).map((m) => [m.label, m]));

/** Test accuracy, parameters, steps and time per model, beside the paper's accuracy and parameters. */
export function table1Markdown(results: readonly JobResult[]): string {
  const paper = paperRows();
  const lines = ['| model | test accuracy | paper | params | paper | steps | time |', '|---|---|---|---|---|---|---|'];
  for (const r of results) {
    const p = paper.get(r.label)!;
    lines.push(
      `| ${r.label} | ${r.accuracy.toFixed(3)} | ${p.paperAccuracy.toFixed(2)} | ${r.params} (${fmtK(r.params)}) ` +
        `| ${fmtK(p.paperParams)} | ${r.steps} | ${r.seconds.toFixed(0)} s |`,
    );
  }
  return lines.join('\n');
}

/** The paper's verdict: Mamba+PE and Transformer solve it, the rest stay near chance. */
export function table1Verdict(results: readonly JobResult[]): { ok: boolean; text: string } {
  const acc = Object.fromEntries(results.map((r) => [r.label, r.accuracy]));
  const checks: [string, boolean][] = [
    ['Mamba+PE ≥ 0.99', acc['Mamba+PE'] >= 0.99],
    ['Transformer ≥ 0.99', acc['Transformer'] >= 0.99],
    ['Mamba ≤ 0.15', acc['Mamba'] <= 0.15],
    ['S4D ≤ 0.15', acc['S4D'] <= 0.15],
    ['S4D+PE ≤ 0.15', acc['S4D+PE'] <= 0.15],
  ];
  const ok = checks.every(([, c]) => c);
  return {
    ok,
    text: `Verdict (${ok ? 'same as the paper' : 'DIFFERS from the paper'}): ${checks.map(([n, c]) => `${n} ${c ? '✓' : '✗'}`).join(', ')}`,
  };
}

export interface RunInfo {
  preset: Preset;
  seed: number;
  backend: string;
  totalSeconds: number;
}

/** The results file of `reproduce table1`. */
export function table1Document(results: readonly JobResult[], info: RunInfo): object {
  const paper = paperRows();
  return {
    rows: results.map((r) => ({
      model: r.label,
      accuracy: r.accuracy,
      params: r.params,
      seconds: r.seconds,
      steps: r.steps,
      stopReason: r.stopReason,
      paperAccuracy: paper.get(r.label)!.paperAccuracy,
      paperParams: paper.get(r.label)!.paperParams,
    })),
    preset: info.preset,
    seed: info.seed,
    backend: info.backend,
    totalSeconds: info.totalSeconds,
    verdict: table1Verdict(results),
  };
}

/** The results file of `reproduce fig1`. */
export function fig1Document(results: readonly JobResult[], info: RunInfo): object {
  return {
    figure: 'fig1',
    preset: info.preset,
    seed: info.seed,
    backend: info.backend,
    totalSeconds: info.totalSeconds,
    T: FIG1_T,
    runs: results.map((r) => ({
      model: r.label.replace(/ T=\d+$/, ''),
      T: Number(/T=(\d+)/.exec(r.label)![1]),
      accuracy: r.accuracy,
      decay: r.decay,
    })),
  };
}

/** One line per Fig. 1 run: test accuracy and the share of decay values above 0.9. */
export function fig1Lines(results: readonly JobResult[]): string {
  return results
    .map(
      (r) =>
        `${r.label.padEnd(16)} test acc ${r.accuracy.toFixed(3)}  share of e^{−λΔ} > 0.9: ${r
          .decay!.histogram.fractions.slice(18)
          .reduce((a, b) => a + b, 0)
          .toFixed(3)}`,
    )
    .join('\n');
}
