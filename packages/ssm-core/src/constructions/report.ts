/**
 * `constructionsReport` — what `ssm-lab constructions [--json]` prints: for each analytic result of
 * the paper, the construction's embedding size d and state size N beside the stated bound, and its
 * accuracy on random instances of the task against brute-force answers (./evaluate.ts). Optionally
 * appends the tightness explorer (./tightness.ts) and Remark 7's adversarial demo (./remark7.ts).
 *
 * Rows: Cor. 2 (KEEP n-TH), Prop. 1 (clock), Thm. 2 / 3 / 4 (MQAR, one-hot Step 1 and JL Step 2 with
 * Lem. 4's default dimensions), Lem. 3 (INDUCTION HEADS, standard and hard settings).
 */
import { int, object, seed as checkSeed } from '../validate.js';
import type { Construction, SizeBound } from './common.js';
import { clockConstruction } from './clock.js';
import { scoreInductionHeads, scoreKeepNth, scoreMqar, type Score } from './evaluate.js';
import { inductionHeadsConstruction } from './inductionHeads.js';
import { keepNthConstruction } from './keepNth.js';
import { mqarConstruction } from './mqar.js';
import { jlLemmaDim } from './jl.js';
import { MQAR_EMBEDDINGS, MQAR_MIXERS } from './mqarOptions.js';
import { remark7Demo, type Remark7Options, type Remark7Result } from './remark7.js';
import { mqarTightness, table, type TightnessOptions, type TightnessResult } from './tightness.js';

/** Options of {@link constructionsReport}; errors name `options.<field>`. */
export interface ConstructionsReportOptions {
  /** MQAR κ (default 8). */
  numKeys?: number;
  /** MQAR |V| (default 64). */
  vocabSize?: number;
  /** MQAR sequence length (default 4κ). */
  T?: number;
  /** Random instances per row (default 2000). */
  instances?: number;
  /** Seed of the task instances (default 1). */
  seed?: number;
  /** KEEP n-TH sizes (default n = 5, |V| = 16, T = 64). */
  keepNth?: { n?: number; vocabSize?: number; T?: number };
  /** INDUCTION HEADS sizes (default |V| = 10, T = 100, the paper's T). */
  inductionHeads?: { vocabSize?: number; T?: number };
  /** Length of the clock's all-ones input (default 2048). */
  clockT?: number;
  /** Append the tightness explorer (true: same κ, |V|, T and instances). */
  tightness?: boolean | Partial<TightnessOptions>;
  /** Append Remark 7's adversarial demo. */
  remark7?: boolean | Remark7Options;
}

/** One construction: its sizes beside the paper's bound and its accuracy on random instances. */
export interface ConstructionsReportRow {
  /** The paper result, e.g. 'Thm. 2'. */
  theorem: string;
  /** The task and sizes scored, e.g. 'MQAR κ=8, |V|=64, T=32'. */
  task: string;
  /** The construction's name, e.g. 'MQAR · Mamba (S6, no gate) · one-hot'. */
  construction: string;
  /** Embedding size (= SSM channels). */
  d: number;
  /** State size. */
  N: number;
  /** The paper's size bounds for d and N. */
  bound: { d: SizeBound; N: SizeBound };
  /** JL dimensions, when used, and (Thm. 3) the margin bound of the drawn codes: exact when > 0, else w.h.p. */
  jl?: { keys?: number; values?: number; margin?: number | null; exact?: boolean };
  /** Instances scored and the Score fields (see evaluate.ts). */
  instances: number;
  /** Queries answered right (see `instances`). */
  correct: number;
  /** Queries scored. */
  total: number;
  /** correct / total. */
  accuracy: number;
  /** Wall-clock seconds of the scoring. */
  seconds: number;
}

/** The report: rows, the optional explorer and Remark 7 sections, and the printed text. */
export interface ConstructionsReport {
  /** One row per construction scored. */
  rows: ConstructionsReportRow[];
  /** The tightness search, when asked for. */
  tightness?: TightnessResult;
  /** Remark 7's adversarial input, when asked for. */
  remark7?: Remark7Result;
  /** Every section as plain-text tables. */
  text: string;
}

/** Build, score, dispose; one report row. */
function scoreRow(c: Construction, task: string, score: (c: Construction) => Score): ConstructionsReportRow {
  try {
    const s = score(c);
    const g = c.dims.jl?.guarantee;
    const jl = c.dims.jl
      ? {
          keys: c.dims.jl.keys?.p,
          values: c.dims.jl.values?.p,
          ...(g ? { margin: Number.isNaN(g.margin) ? null : g.margin, exact: g.exact } : {}),
        }
      : undefined;
    return {
      theorem: c.theorem,
      task,
      construction: c.name,
      d: c.dims.d,
      N: c.dims.N,
      bound: c.dims.bound,
      jl,
      instances: s.instances,
      correct: s.correct,
      total: s.total,
      accuracy: s.accuracy,
      seconds: s.seconds,
    };
  } finally {
    c.dispose();
  }
}

/** Prop. 1: fraction of positions t of all-ones inputs where the block outputs exactly t. */
function clockRow(T: number): ConstructionsReportRow {
  const c = clockConstruction();
  return scoreRow(c, `all-ones input, T=${T}`, () => {
    const t0 = performance.now();
    const out = c.predictFlat(new Int32Array(4 * T), 4, T);
    let correct = 0;
    for (let i = 0; i < out.length; i++) if (out[i] === (i % T) + 1) correct++;
    return {
      correct,
      total: out.length,
      accuracy: correct / out.length,
      instances: 4,
      seconds: (performance.now() - t0) / 1000,
    };
  });
}

function mqarRows(K: number, V: number, T: number, o: { instances: number; seed: number }): ConstructionsReportRow[] {
  const rows: ConstructionsReportRow[] = [];
  for (const mixer of MQAR_MIXERS) {
    for (const embedding of MQAR_EMBEDDINGS) {
      const c = mqarConstruction({ mixer, numKeys: K, vocabSize: V, embedding });
      rows.push(scoreRow(c, `MQAR κ=${K}, |V|=${V}, T=${T}`, (x) => scoreMqar(x, { numKeys: K, vocabSize: V, T }, o)));
    }
  }
  return rows;
}

const fmtBound = (b: SizeBound) => (b.nominal === null ? b.expr : `${b.expr} = ${b.nominal}`);

/** The construction without its task prefix ('MQAR · Mamba (S6, no gate) · one-hot' → 'Mamba (S6, no gate) · one-hot'). */
const shortName = (r: ConstructionsReportRow) =>
  r.construction
    .split(' · ')
    .slice(1)
    .join(' · ')
    .replace(/ · JL .*$/, ' · JL') || r.construction;

/** Smallest n with Lem. 4's default dimension ⌈16 ln(2n)⌉ below n: from there on JL codes are shorter than one-hot. */
export function jlShorterFrom(): number {
  let n = 2;
  while (jlLemmaDim(n) >= n) n++;
  return n;
}

/** Why the JL rows are as wide as they are, and what Thm. 3's drawn codes guarantee. */
function jlNotes(rows: ConstructionsReportRow[], K: number, V: number): string[] {
  const thm3 = rows.find((r) => r.theorem === 'Thm. 3' && r.jl);
  const from = jlShorterFrom();
  const notes = [
    `JL rows: Lem. 4's default p = ⌈16·ln(2n)⌉ (ε = δ = ½) codes n items: p_v = ${jlLemmaDim(V)} for |V| = ${V}` +
      `${thm3?.jl?.keys ? `, p_k = ${thm3.jl.keys} for κ = ${K}` : ''}.`,
    `One-hot uses n dimensions, so JL codes are shorter only from n ≥ ${from}` +
      (V < from ? `; at |V| = ${V} the JL rows' d exceeds one-hot's.` : '.'),
    "The paper's JL bounds are O(·) rates, not sizes.",
  ];
  if (thm3?.jl?.margin !== undefined) {
    const m = thm3.jl.margin;
    notes.push(
      thm3.jl.exact
        ? `Thm. 3 JL: margin bound of the drawn codes ${m!.toFixed(3)} > 0, exact on every MQAR instance.`
        : `Thm. 3 JL: margin bound of the drawn codes ${m === null ? 'not computed' : m.toFixed(3)} ≤ 0, so it holds with ` +
            "high probability:\n  on some instances the keys' cross-talk outvotes the value (dims.jl.guarantee).",
    );
  }
  return notes;
}

function formatRows(rows: ConstructionsReportRow[], K: number, V: number): string {
  const head = ['result · construction', 'd', 'bound d', 'N', 'bound N', 'right/total'];
  const parts = [
    'Analytic constructions of Huang et al. (ICML 2025) as weights of the ssm-core block:',
    "d and N beside the paper's bound, accuracy against brute force on random instances.",
  ];
  const tasks = [...new Set(rows.map((r) => r.task))];
  const body: string[][] = [];
  const taskAt = new Map<number, string>();
  for (const task of tasks) {
    const group = rows.filter((r) => r.task === task);
    const seconds = group.reduce((a, r) => a + r.seconds, 0);
    taskAt.set(body.length, `${task} · ${group[0].instances} instances · ${seconds.toFixed(1)}s`);
    for (const r of group)
      body.push([
        `${r.theorem} · ${shortName(r)}`,
        String(r.d),
        fmtBound(r.bound.d),
        String(r.N),
        fmtBound(r.bound.N),
        `${r.accuracy === 1 ? '' : `${(100 * r.accuracy).toFixed(3)}% `}${r.correct}/${r.total}`,
      ]);
  }
  const lines = table(head, body, '').split('\n').slice(1);
  const out = [...parts, lines[0], lines[1]];
  body.forEach((_, i) => {
    if (taskAt.has(i)) out.push(taskAt.get(i)!);
    out.push(lines[i + 2]);
  });
  return [...out, '', ...jlNotes(rows, K, V)].join('\n');
}

/**
 * Every analytic construction of the paper built, scored against brute force on random instances and set beside
 * its bound: Cor. 2, Prop. 1, Thm. 2 / 3 / 4 (one-hot and JL), Lem. 3 (standard and hard); optionally the
 * tightness explorer and Remark 7. The report `ssm-lab constructions` prints.
 * @throws ConfigError naming `options.<field>`.
 */
export function constructionsReport(options: ConstructionsReportOptions = {}): ConstructionsReport {
  const o = object(
    options,
    'options',
    'an object {numKeys?, vocabSize?, T?, instances?, seed?, keepNth?, inductionHeads?, clockT?, tightness?, remark7?}',
  );
  const K = int(o.numKeys ?? 8, 'options.numKeys', 1, 4096);
  const V = int(o.vocabSize ?? 64, 'options.vocabSize', 2, 1 << 16);
  const T = int(o.T ?? 4 * K, 'options.T', 3 * K, 1 << 16, `an integer ≥ 3·numKeys = ${3 * K}`);
  const instances = int(o.instances ?? 2000, 'options.instances', 1, 1e7, 'an integer ≥ 1');
  const seed = checkSeed(o.seed ?? 1, 'options.seed');
  const kn = { n: o.keepNth?.n ?? 5, vocabSize: o.keepNth?.vocabSize ?? 16, T: o.keepNth?.T ?? 64 };
  const ih = { vocabSize: o.inductionHeads?.vocabSize ?? 10, T: o.inductionHeads?.T ?? 100 };
  const clockT = int(o.clockT ?? 2048, 'options.clockT', 1, 1 << 24, 'an integer in [1, 2^24]');
  const so = { instances, seed };

  const rows: ConstructionsReportRow[] = [
    scoreRow(keepNthConstruction(kn), `KEEP ${kn.n}-TH |V|=${kn.vocabSize}, T=${kn.T}`, (c) => scoreKeepNth(c, kn, so)),
    clockRow(clockT),
    ...mqarRows(K, V, T, so),
    scoreRow(inductionHeadsConstruction({ vocabSize: ih.vocabSize }), `IH |V|=${ih.vocabSize}, T=${ih.T}`, (c) =>
      scoreInductionHeads(c, ih, so),
    ),
    scoreRow(inductionHeadsConstruction({ vocabSize: ih.vocabSize }), `IH hard |V|=${ih.vocabSize}, T=${ih.T}`, (c) =>
      scoreInductionHeads(c, { ...ih, setting: 'hard' }, so),
    ),
  ];
  const parts = [formatRows(rows, K, V)];
  let tightness: TightnessResult | undefined;
  if (o.tightness) {
    tightness = mqarTightness({
      numKeys: K,
      vocabSize: V,
      T,
      instances,
      taskSeed: seed,
      ...(o.tightness === true ? {} : o.tightness),
    });
    parts.push(tightness.text);
  }
  let remark7: Remark7Result | undefined;
  if (o.remark7) {
    remark7 = remark7Demo(o.remark7 === true ? {} : o.remark7);
    parts.push(remark7.text);
  }
  return { rows, tightness, remark7, text: parts.join('\n\n') };
}
