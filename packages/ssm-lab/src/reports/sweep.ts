/**
 * `sweep report`: results → figure data and a text summary.
 *
 *   Fig. 2 (MQAR): per architecture, a heatmap of test accuracy (best over seeds) over κ × d, and the
 *     theorem's bound on d as a curve over κ — taken from the constructions module (Thm. 2 / 3 / 4 with
 *     JL embeddings: `dims.bound.d.nominal`, i.e. the paper's expression with constant 1 and log₂, and
 *     `dims.d`, the size the explicit construction actually uses with Lem. 4's JL dimension). Table: for
 *     each architecture and κ the smallest d reaching the threshold (default ≥ 99.9%) vs the bound.
 *   Fig. 3 (INDUCTION HEADS): the same heatmaps over |V| × d with Lem. 3's bound d = 2|V|, and per |V|
 *     and d the best accuracy of Mamba vs Mamba-Δ⊤.
 *
 * Heatmaps are plot-ready: `x` = sizes, `y` = d values, `z[yi][xi]` = best accuracy or null (not run).
 */
import { constructions } from 'ssm-core';
import { MODEL_NAMES, MODELS, recordModelName, type ModelName } from '../experiments/models.js';
import type { ResultRecord } from '../sweep/results.js';

type SweepArch = ModelName;

export interface BoundPoint {
  size: number;
  /** The theorem's d with constant 1 and log₂ (`dims.bound.d.nominal`), or null. */
  d: number | null;
  /** The theorem's N (nominal), or null. */
  N: number | null;
  /** d of the explicit construction in src/constructions (JL dimension of Lem. 4 with ε = δ = ½). */
  constructionD: number | null;
}

export interface ReportPanel {
  arch: SweepArch;
  label: string;
  /** N used per size. */
  N: Record<number, number>;
  x: number[];
  y: number[];
  /** z[yi][xi]: best test accuracy over seeds at (d = y[yi], size = x[xi]); null where no cell finished. */
  z: (number | null)[][];
  /** Seeds finished per cell. */
  seeds: number[][];
  bound: { theorem: string; expr: string; points: BoundPoint[] } | null;
  /** Smallest d reaching the threshold, per size (null: none in the grid). */
  smallestD: (number | null)[];
}

export interface SummaryRow {
  arch: SweepArch;
  label: string;
  size: number;
  N: number;
  smallestD: number | null;
  /** Largest d run for this (arch, size). */
  maxD: number;
  bestAccuracy: number;
  boundD: number | null;
  constructionD: number | null;
  /**
   * smallestD relative to the bound: 'below' (a trained model solved it with less), 'tight' (it is the smallest
   * grid d ≥ the bound: every smaller d in the grid failed), 'above' (it needed a larger d), 'not reached'.
   */
  verdict: 'below' | 'tight' | 'above' | 'not reached' | 'no bound';
}

export interface InductionComparisonRow {
  size: number;
  d: number;
  mamba: number | null;
  mambaDt: number | null;
}

export interface SweepReport {
  sweeps: string[];
  task: 'mqar' | 'induction-heads';
  sizeAxis: 'κ' | '|V|';
  /** The task's other sizes (T, |V| for MQAR; T, setting for IH). */
  taskInfo: Record<string, unknown>;
  threshold: number;
  cells: number;
  panels: ReportPanel[];
  summary: SummaryRow[];
  /** INDUCTION HEADS only: Mamba vs Mamba-Δ⊤ per (|V|, d), and how often Δ⊤ is at least as good. */
  comparison?: { rows: InductionComparisonRow[]; deltaTAtLeastAsGood: number; compared: number; tolerance: number };
  timing: {
    cells: number;
    trainSeconds: number;
    cpuSeconds: number;
    perCellCpu: { arch: SweepArch; size: number; d: number; meanCpuSeconds: number; meanSteps: number }[];
  };
  text: string;
}

const THEOREM: Record<string, string> = { mamba: 'Thm. 2', mamba2: 'Thm. 3', s4d: 'Thm. 4' };

/** The MQAR construction (Thm. 2–4) for a model's mixer, or null (no theorem for it). */
function constructionMixer(arch: SweepArch): constructions.MqarMixer | null {
  const b = MODELS[arch].block;
  if (b === 'transformer') return null;
  return b.mixer === 's6' ? 'mamba' : b.mixer === 'mamba2' ? 'mamba2' : b.mixer === 's4d' ? 's4d' : null;
}

function boundFor(
  task: 'mqar' | 'induction-heads',
  arch: SweepArch,
  size: number,
  vocabSize: number,
): { theorem: string; expr: string; point: BoundPoint } | null {
  try {
    if (task === 'mqar') {
      const mixer = constructionMixer(arch);
      if (!mixer) return null;
      const c = constructions.mqarConstruction({ mixer, numKeys: size, vocabSize, embedding: 'jl' });
      try {
        return {
          theorem: THEOREM[mixer],
          expr: c.dims.bound.d.expr,
          point: { size, d: c.dims.bound.d.nominal, N: c.dims.bound.N.nominal, constructionD: c.dims.d },
        };
      } finally {
        c.dispose();
      }
    }
    const c = constructions.inductionHeadsConstruction({ vocabSize: size });
    try {
      return {
        theorem: 'Lem. 3',
        expr: c.dims.bound.d.expr,
        point: { size, d: c.dims.bound.d.nominal, N: c.dims.bound.N.nominal, constructionD: c.dims.d },
      };
    } finally {
      c.dispose();
    }
  } catch {
    return null;
  }
}

const uniqSorted = (xs: number[]) => [...new Set(xs)].sort((a, b) => a - b);
const pct = (a: number | null) =>
  a === null ? '    —  ' : a >= 1 ? '  100% ' : `${(100 * a).toFixed(1).padStart(5)}%`;

function pad(rows: string[][]): string {
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  return rows
    .map((r, i) => {
      const line = r.map((c, j) => c.padEnd(w[j])).join('  ');
      return i === 0 ? `${line}\n${w.map((n) => '-'.repeat(n)).join('  ')}` : line;
    })
    .join('\n');
}

export interface ReportOptions {
  /** Accuracy counted as "solved" (default 0.999: test accuracy shown as 100.0%; one miss in 10⁴ test positions is noise, not a failure). */
  threshold?: number;
  /** Tolerance of the Mamba-Δ⊤ ≥ Mamba comparison (default 0.005). */
  tolerance?: number;
}

/** Build figure data and the text summary from merged or raw result records (one task family). */
export function sweepReport(input: readonly ResultRecord[], options: ReportOptions = {}): SweepReport {
  // one spelling per model: records written with ssm-core 0.1's sweep names read as the same models
  const records = input.map((r) => ({ ...r, cell: { ...r.cell, arch: recordModelName(r.cell) } }));
  const threshold = options.threshold ?? 0.999;
  const tolerance = options.tolerance ?? 0.005;
  if (!records.length) throw new Error('sweep report: no result records');
  const kinds = new Set(records.map((r) => r.cell.task.task));
  if (kinds.size !== 1)
    throw new Error(
      `sweep report: expected results of one task, got ${[...kinds].join(', ')} — report them separately`,
    );
  const task = [...kinds][0] === 'mqar' ? 'mqar' : 'induction-heads';
  const t0 = records[0].cell.task as Record<string, unknown>;
  const vocab = task === 'mqar' ? (t0.vocabSize as number) : 0;
  const taskInfo =
    task === 'mqar' ? { T: t0.T, vocabSize: t0.vocabSize } : { T: t0.T, setting: t0.setting, p: t0.p, gamma: t0.gamma };
  const sizeAxis = task === 'mqar' ? 'κ' : '|V|';
  const archs = MODEL_NAMES.filter((a) => records.some((r) => r.cell.arch === a));

  const panels: ReportPanel[] = [];
  const summary: SummaryRow[] = [];
  for (const arch of archs) {
    const rs = records.filter((r) => r.cell.arch === arch);
    const x = uniqSorted(rs.map((r) => r.cell.size));
    const y = uniqSorted(rs.map((r) => r.cell.d));
    const z = y.map(() => x.map(() => null as number | null));
    const seeds = y.map(() => x.map(() => 0));
    const N: Record<number, number> = {};
    for (const r of rs) {
      const xi = x.indexOf(r.cell.size),
        yi = y.indexOf(r.cell.d);
      z[yi][xi] = Math.max(z[yi][xi] ?? -Infinity, r.result.accuracy);
      seeds[yi][xi]++;
      N[r.cell.size] = r.cell.N;
    }
    const bounds = x.map((s) => boundFor(task, arch, s, vocab));
    const b0 = bounds.find((b) => b);
    const smallestD = x.map((_, xi) => {
      const yi = y.findIndex((__, j) => (z[j][xi] ?? -1) >= threshold);
      return yi < 0 ? null : y[yi];
    });
    panels.push({
      arch,
      label: MODELS[arch].label,
      N,
      x,
      y,
      z,
      seeds,
      smallestD,
      bound: b0
        ? {
            theorem: b0.theorem,
            expr: b0.expr,
            points: bounds.map((b, i) => b?.point ?? { size: x[i], d: null, N: null, constructionD: null }),
          }
        : null,
    });
    x.forEach((size, xi) => {
      const col = y.map((_, yi) => z[yi][xi]).filter((v): v is number => v !== null);
      const bd = bounds[xi]?.point.d ?? null;
      const sd = smallestD[xi];
      const ran = y.filter((_, yi) => z[yi][xi] !== null);
      const firstAbove = bd === null ? undefined : ran.find((d) => d >= bd);
      summary.push({
        arch,
        label: MODELS[arch].label,
        size,
        N: N[size],
        smallestD: sd,
        maxD: Math.max(...y.filter((_, yi) => z[yi][xi] !== null)),
        bestAccuracy: Math.max(...col),
        boundD: bd,
        constructionD: bounds[xi]?.point.constructionD ?? null,
        verdict:
          sd === null
            ? 'not reached'
            : bd === null
              ? 'no bound'
              : sd < bd
                ? 'below'
                : sd === firstAbove
                  ? 'tight'
                  : 'above',
      });
    });
  }

  let comparison: SweepReport['comparison'];
  if (task === 'induction-heads' && archs.includes('mamba-conv') && archs.includes('mamba-delta-t')) {
    const pm = panels.find((p) => p.arch === 'mamba-conv')!,
      pd = panels.find((p) => p.arch === 'mamba-delta-t')!;
    const at = (p: ReportPanel, s: number, d: number) => {
      const xi = p.x.indexOf(s),
        yi = p.y.indexOf(d);
      return xi < 0 || yi < 0 ? null : p.z[yi][xi];
    };
    const rows: InductionComparisonRow[] = [];
    for (const s of uniqSorted([...pm.x, ...pd.x]))
      for (const d of uniqSorted([...pm.y, ...pd.y]))
        rows.push({ size: s, d, mamba: at(pm, s, d), mambaDt: at(pd, s, d) });
    const both = rows.filter((r) => r.mamba !== null && r.mambaDt !== null);
    comparison = {
      rows,
      compared: both.length,
      deltaTAtLeastAsGood: both.filter((r) => r.mambaDt! >= r.mamba! - tolerance).length,
      tolerance,
    };
  }

  // timing
  const groups = new Map<string, { arch: SweepArch; size: number; d: number; cpu: number; steps: number; n: number }>();
  for (const r of records) {
    const k = `${r.cell.arch}|${r.cell.size}|${r.cell.d}`;
    const g = groups.get(k) ?? { arch: r.cell.arch, size: r.cell.size, d: r.cell.d, cpu: 0, steps: 0, n: 0 };
    g.cpu += r.cpuSeconds ?? r.result.seconds;
    g.steps += r.result.steps;
    g.n++;
    groups.set(k, g);
  }
  const timing = {
    cells: records.length,
    trainSeconds: records.reduce((a, r) => a + r.result.seconds, 0),
    cpuSeconds: records.reduce((a, r) => a + (r.cpuSeconds ?? 0), 0),
    perCellCpu: [...groups.values()].map((g) => ({
      arch: g.arch,
      size: g.size,
      d: g.d,
      meanCpuSeconds: g.cpu / g.n,
      meanSteps: g.steps / g.n,
    })),
  };

  const sweeps = [...new Set(records.map((r) => r.sweep))].sort();
  const report: SweepReport = {
    sweeps,
    task,
    sizeAxis,
    taskInfo,
    threshold,
    cells: records.length,
    panels,
    summary,
    comparison,
    timing,
    text: '',
  };
  report.text = formatReport(report);
  return report;
}

function formatReport(r: SweepReport): string {
  const thr = r.threshold >= 1 ? '100%' : `≥ ${(100 * r.threshold).toFixed(1)}%`;
  const parts: string[] = [];
  const info = Object.entries(r.taskInfo)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k === 'vocabSize' ? '|V|' : k}=${v}`)
    .join(', ');
  parts.push(
    `Sweep ${r.sweeps.join(' + ')} — ${r.task === 'mqar' ? 'MQAR (Fig. 2)' : 'INDUCTION HEADS (Fig. 3)'}, ${info}; ` +
      `${r.cells} finished cells; accuracy = best over seeds`,
  );
  for (const p of r.panels) {
    const head = [`d \\ ${r.sizeAxis}`, ...p.x.map((s) => `${s} (N=${p.N[s]})`)];
    const rows = [...p.y].reverse().map((d) => {
      const yi = p.y.indexOf(d);
      return [
        String(d),
        ...p.x.map((s, xi) => {
          const b = p.bound?.points[xi]?.d;
          return `${pct(p.z[yi][xi])}${b != null && d >= b ? '' : ' ·'}`;
        }),
      ];
    });
    const boundPoints = p.bound?.points.map((b) => `${r.sizeAxis}=${b.size}: ${b.d ?? '—'}`).join(', ');
    const boundLine = p.bound
      ? `bound (${p.bound.theorem}, d = ${p.bound.expr}, constant 1, log₂): ${boundPoints}  (· marks d below it)`
      : 'no theorem bound for this architecture/task';
    parts.push(`${p.label}\n${pad([head, ...rows])}\n${boundLine}`);
  }
  const head = [
    'architecture',
    r.sizeAxis,
    'N',
    `smallest d at ${thr}`,
    'bound d',
    'construction d',
    'best acc',
    'vs bound',
  ];
  const rows = r.summary.map((s) => [
    s.label,
    String(s.size),
    String(s.N),
    s.smallestD === null ? `none ≤ ${s.maxD}` : String(s.smallestD),
    s.boundD === null ? '—' : String(s.boundD),
    s.constructionD === null ? '—' : String(s.constructionD),
    pct(s.bestAccuracy).trim(),
    s.verdict,
  ]);
  parts.push(
    `Smallest d reaching ${thr} vs the theorem's bound (bound = the paper's expression with constant 1 and log₂; ` +
      `construction d = what the explicit weights in src/constructions use;\n` +
      `vs bound: below = solved with d < bound, tight = the smallest grid d ≥ bound and every smaller grid d failed, ` +
      `above = needed a larger d)\n${pad([head, ...rows])}`,
  );
  if (r.comparison) {
    const c = r.comparison;
    const sizes = uniqSorted(c.rows.map((x) => x.size));
    const ds = uniqSorted(c.rows.map((x) => x.d));
    const h = ['d', ...sizes.map((s) => `|V|=${s}: Mamba / Δ⊤`)];
    const body = [...ds].reverse().map((d) => [
      String(d),
      ...sizes.map((s) => {
        const x = c.rows.find((q) => q.size === s && q.d === d)!;
        return `${pct(x.mamba).trim()} / ${pct(x.mambaDt).trim()}`;
      }),
    ]);
    parts.push(
      `Mamba vs Mamba-Δ⊤ (best over seeds)\n${pad([h, ...body])}\n` +
        `Mamba-Δ⊤ ≥ Mamba (within ${c.tolerance}) in ${c.deltaTAtLeastAsGood} of ${c.compared} (|V|, d) cells`,
    );
  }
  const t = r.timing;
  parts.push(
    `Compute: ${t.cells} cells, ${t.trainSeconds.toFixed(0)} s of training wall time, ` +
      `${t.cpuSeconds.toFixed(0)} CPU-s in workers (mean ${(t.cpuSeconds / Math.max(1, t.cells)).toFixed(1)} CPU-s per cell)`,
  );
  return parts.join('\n\n');
}
