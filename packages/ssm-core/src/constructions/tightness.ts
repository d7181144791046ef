/**
 * Tightness explorer: for given (κ, |V|, T), the smallest JL dimensions at which each MQAR
 * construction (Thm. 2, 3, 4, Step 2) still scores 100% on `instances` random instances, found by
 * search over JL dimensions and seeds, printed beside the theorem's bound.
 *
 * Every candidate is a real construction run through the block (`scoreMqar`), on the same instance
 * stream (task seed fixed), stopping at its first wrong answer; a candidate passes only if every
 * query of every instance is answered. Since fewer instances of a seed are a prefix of more, a
 * candidate that fails early fails the full count too, so early stopping changes nothing but time.
 *
 * Search
 *   Thm. 2 / Thm. 4 (values only): p = ⌈log₂|V|⌉, ⌈log₂|V|⌉+1, … (below ⌈log₂|V|⌉ two values share a
 *     ±1 pattern and tie), each with seeds 0 … seeds−1; the first pass is the smallest d.
 *   Thm. 3 (keys p_k = N and values p_v): a staircase over the frontier, assuming more dimensions
 *     never hurt — the smallest p_k that passes with generous values (p_v = maxValueDim), found by
 *     geometric steps then bisection; its smallest passing p_v (likewise); then p_k + 1 with p_v
 *     lowered while it still passes, … until a larger p_k cannot lower d = p_k + p_v. A pair passes if
 *     one of the seeds does. Random ±1 keys are never exactly orthogonal, so p_k may have to exceed κ
 *     (default cap 16κ); the exact one-hot Step 1 (d = κ + |V|, N = κ) is printed beside.
 *   Value dimensions are capped at maxValueDim (default |V|, the one-hot size).
 * "floor" is ⌈log₂ n⌉, the fewest ±1 coordinates that give n distinct codes.
 */
import { fn, int, nonEmptyArray, object, oneOf, seed as checkSeed } from '../validate.js';
import { log2ceil, type SizeBound } from './common.js';
import { scoreMqar } from './evaluate.js';
import { mqarConstruction } from './mqar.js';
import { MQAR_MIXERS, type MqarMixer } from './mqarOptions.js';

/** Options of {@link mqarTightness}; errors name `options.<field>`. */
export interface TightnessOptions {
  /** κ, in [1, 4096]. */
  numKeys: number;
  /** |V|, in [2, 65536]. */
  vocabSize: number;
  /** Sequence length (default 4κ: κ pairs, κ queries, κ noise tokens). */
  T?: number;
  /** Instances each passing candidate must answer perfectly (default 10⁴). */
  instances?: number;
  /** JL seeds tried per dimension (default 4). */
  seeds?: number;
  /** Seed of the MQAR instances (default 1). */
  taskSeed?: number;
  /** Constructions to explore (default all three). */
  mixers?: MqarMixer[];
  /** Largest value JL dimension tried (default |V|, the one-hot size). */
  maxValueDim?: number;
  /** Largest key JL dimension tried, Thm. 3 (default 16κ: random ±1 keys are never exactly orthogonal). */
  maxKeyDim?: number;
  /** Called after every candidate (progress reporting). */
  onCandidate?: (c: CandidateResult) => void;
}

/** One candidate (JL dimensions and seed) of the search, as reported to `onCandidate`. */
export interface CandidateResult {
  /** The MQAR mixer (Thm. 2: mamba, Thm. 3: mamba2, Thm. 4: s4d). */
  mixer: MqarMixer;
  /** p_v, and p_k for Thm. 3. */
  jlDim: { keys?: number; values: number };
  /** JL seed. */
  seed: number;
  /** Whether every query of every instance was answered. */
  passed: boolean;
  /** Instances evaluated before the first error (or all). */
  instances: number;
  /** Wall-clock seconds spent on it. */
  seconds: number;
}

/** The search's outcome for one construction, beside the theorem's bound. */
export interface TightnessRow {
  /** 'Thm. 2', 'Thm. 3' or 'Thm. 4'. */
  theorem: string;
  /** The MQAR mixer. */
  mixer: MqarMixer;
  /** Whether some candidate within the caps scored 100%. */
  found: boolean;
  /** Smallest d (and its N) found, with the JL dims and seed. */
  d: number | null;
  /** See `d`. */
  N: number | null;
  /** See `d`. */
  jlDim: { keys?: number; values: number } | null;
  /** See `d`. */
  seed: number | null;
  /** Smallest N among passing candidates (Thm. 3; equals N for the others). */
  minN: number | null;
  /** The paper's size bounds for d and N. */
  bound: { d: SizeBound; N: SizeBound };
  /** The one-hot (Step 1) sizes, exact by construction. */
  onehot: { d: number; N: number };
  /** ⌈log₂ n⌉-based sizes: the fewest ±1 coordinates giving distinct codes. */
  floor: { d: number; N: number };
  /** Candidates evaluated. */
  candidates: number;
  /** Wall-clock seconds of the search. */
  seconds: number;
}

/** The explorer's rows, the resolved options, and the printed table. */
export interface TightnessResult {
  /** The options with their defaults filled in. */
  options: Required<Omit<TightnessOptions, 'mixers' | 'onCandidate'>> & { mixers: MqarMixer[] };
  /** One row per mixer. */
  rows: TightnessRow[];
  /** The rows as a plain-text table. */
  text: string;
}

interface Ctx {
  onCandidate?: (c: CandidateResult) => void;
  maxValueDim: number;
  maxKeyDim: number;
  K: number;
  V: number;
  T: number;
  instances: number;
  seeds: number;
  taskSeed: number;
  candidates: number;
}

function check(o: TightnessOptions): Ctx & { mixers: MqarMixer[] } {
  object(o, 'options', 'an object {numKeys, vocabSize, T?, instances?, seeds?, taskSeed?, mixers?}');
  const K = int(o.numKeys, 'options.numKeys', 1, 4096);
  const V = int(o.vocabSize, 'options.vocabSize', 2, 1 << 16);
  const T = int(o.T ?? 4 * K, 'options.T', 3 * K, 1 << 16, `an integer ≥ 3·numKeys = ${3 * K}`);
  const instances = int(o.instances ?? 10_000, 'options.instances', 1, 1e7, 'an integer ≥ 1');
  const seeds = int(o.seeds ?? 4, 'options.seeds', 1, 1000);
  const taskSeed = checkSeed(o.taskSeed ?? 1, 'options.taskSeed');
  const mixers = nonEmptyArray<MqarMixer>(
    o.mixers ?? [...MQAR_MIXERS],
    'options.mixers',
    "a non-empty array of 'mamba' | 'mamba2' | 's4d'",
  );
  mixers.forEach((m, i) => oneOf(m, `options.mixers[${i}]`, MQAR_MIXERS));
  const maxValueDim = int(o.maxValueDim ?? V, 'options.maxValueDim', 1, 1 << 16);
  const maxKeyDim = int(o.maxKeyDim ?? 16 * K, 'options.maxKeyDim', 1, 1 << 16);
  if (o.onCandidate !== undefined) fn(o.onCandidate, 'options.onCandidate');
  return {
    K,
    V,
    T,
    instances,
    seeds,
    taskSeed,
    mixers,
    maxValueDim,
    maxKeyDim,
    candidates: 0,
    onCandidate: o.onCandidate,
  };
}

/** Does the construction with these JL dims and seed answer every query of every instance? */
function passes(ctx: Ctx, mixer: MqarMixer, values: number, keys: number | undefined, seed: number): boolean {
  ctx.candidates++;
  const c = mqarConstruction({
    mixer,
    numKeys: ctx.K,
    vocabSize: ctx.V,
    embedding: 'jl',
    jlDim: keys === undefined ? values : { keys, values },
    seed,
  });
  try {
    const s = scoreMqar(
      c,
      { numKeys: ctx.K, vocabSize: ctx.V, T: ctx.T },
      { instances: ctx.instances, seed: ctx.taskSeed, stopAtFirstError: true },
    );
    const passed = s.correct === s.total;
    ctx.onCandidate?.({
      mixer,
      jlDim: keys === undefined ? { values } : { keys, values },
      seed,
      passed,
      instances: s.instances,
      seconds: s.seconds,
    });
    return passed;
  } finally {
    c.dispose();
  }
}

/** First seed in 0 … seeds−1 that passes, or −1. */
function passingSeed(ctx: Ctx, mixer: MqarMixer, values: number, keys?: number): number {
  for (let seed = 0; seed < ctx.seeds; seed++) if (passes(ctx, mixer, values, keys, seed)) return seed;
  return -1;
}

/** Thm. 2 / 4: the smallest value dimension p that passes. */
function searchValues(ctx: Ctx, mixer: 'mamba' | 's4d'): { p: number; seed: number } | null {
  for (let p = log2ceil(ctx.V); p <= ctx.maxValueDim; p++) {
    const seed = passingSeed(ctx, mixer, p);
    if (seed >= 0) return { p, seed };
  }
  return null;
}

interface Pair {
  pk: number;
  pv: number;
  seed: number;
}

/**
 * Smallest passing p_v for this p_k (or null): geometric steps ×5/4 up from the floor until one
 * passes, then bisection between the last failing and the first passing size.
 */
function smallestValues(ctx: Ctx, pk: number): { pv: number; seed: number } | null {
  let lo = log2ceil(ctx.V) - 1; // largest size known to fail (floor − 1 fails: ties)
  let hi: { pv: number; seed: number } | null = null;
  for (let v = lo + 1; v <= ctx.maxValueDim; v = Math.min(ctx.maxValueDim, Math.max(v + 1, Math.ceil(v * 1.25)))) {
    const seed = passingSeed(ctx, 'mamba2', v, pk);
    if (seed >= 0) {
      hi = { pv: v, seed };
      break;
    }
    lo = v;
    if (v === ctx.maxValueDim) break;
  }
  if (!hi) return null;
  while (hi.pv - lo > 1) {
    const mid: number = (lo + hi.pv) >> 1;
    const seed = passingSeed(ctx, 'mamba2', mid, pk);
    if (seed >= 0) hi = { pv: mid, seed };
    else lo = mid;
  }
  return hi;
}

/** Smallest p_k (geometric steps then bisection) that passes with generous values p_v = maxValueDim, or null. */
function smallestKeys(ctx: Ctx): number | null {
  let lo = log2ceil(ctx.K) - 1;
  let hi = -1;
  for (let k = lo + 1; k <= ctx.maxKeyDim; k = Math.min(ctx.maxKeyDim, Math.max(k + 1, Math.ceil(k * 1.25)))) {
    if (passingSeed(ctx, 'mamba2', ctx.maxValueDim, k) >= 0) {
      hi = k;
      break;
    }
    lo = k;
    if (k === ctx.maxKeyDim) break;
  }
  if (hi < 0) return null;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (passingSeed(ctx, 'mamba2', ctx.maxValueDim, mid) >= 0) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Thm. 3: the smallest p_k that passes at all, its smallest p_v, then a staircase — p_k + 1 with p_v
 * lowered while it still passes — until a larger p_k cannot give a smaller d. Returns the frontier.
 */
function searchMamba2(ctx: Ctx): Pair[] {
  const pk0 = smallestKeys(ctx);
  if (pk0 === null) return [];
  const first = smallestValues(ctx, pk0);
  if (!first) return [];
  const frontier: Pair[] = [{ pk: pk0, pv: first.pv, seed: first.seed }];
  let pv = first.pv;
  for (let pk = pk0 + 1; pk <= ctx.maxKeyDim; pk++) {
    const bestD = Math.min(...frontier.map((f) => f.pk + f.pv));
    if (pk + log2ceil(ctx.V) >= bestD) break; // no larger p_k can give a smaller d
    let best: Pair | undefined;
    while (pv > log2ceil(ctx.V)) {
      const seed = passingSeed(ctx, 'mamba2', pv - 1, pk);
      if (seed < 0) break;
      pv--;
      best = { pk, pv, seed };
    }
    if (best) frontier.push(best);
  }
  return frontier;
}

function bounds(
  mixer: MqarMixer,
  K: number,
  V: number,
): { bound: TightnessRow['bound']; onehot: TightnessRow['onehot']; floor: TightnessRow['floor']; theorem: string } {
  const lv = log2ceil(V);
  const lk = log2ceil(K);
  if (mixer === 'mamba') {
    return {
      theorem: 'Thm. 2',
      bound: { d: { expr: 'O(κ + log|V|)', nominal: K + lv }, N: { expr: 'κ', nominal: K } },
      onehot: { d: K + V, N: K },
      floor: { d: K + lv, N: K },
    };
  }
  if (mixer === 's4d') {
    return {
      theorem: 'Thm. 4',
      bound: { d: { expr: 'O(κ log|V|)', nominal: K * lv }, N: { expr: '1', nominal: 1 } },
      onehot: { d: K * V, N: 1 },
      floor: { d: K * lv, N: 1 },
    };
  }
  return {
    theorem: 'Thm. 3',
    bound: { d: { expr: 'O(log κ + log|V|)', nominal: lk + lv }, N: { expr: 'log κ', nominal: lk } },
    onehot: { d: K + V, N: K },
    floor: { d: lk + lv, N: lk },
  };
}

function exploreOne(ctx: Ctx, mixer: MqarMixer): TightnessRow {
  const t0 = performance.now();
  ctx.candidates = 0;
  const b = bounds(mixer, ctx.K, ctx.V);
  const row: TightnessRow = {
    ...b,
    mixer,
    found: false,
    d: null,
    N: null,
    jlDim: null,
    seed: null,
    minN: null,
    candidates: 0,
    seconds: 0,
  };
  if (mixer === 'mamba2') {
    const f = searchMamba2(ctx);
    if (f.length) {
      const best = f.reduce((a, x) =>
        x.pk + x.pv < a.pk + a.pv || (x.pk + x.pv === a.pk + a.pv && x.pk < a.pk) ? x : a,
      );
      Object.assign(row, {
        found: true,
        d: best.pk + best.pv,
        N: best.pk,
        jlDim: { keys: best.pk, values: best.pv },
        seed: best.seed,
        minN: Math.min(...f.map((x) => x.pk)),
      });
    }
  } else {
    const r = searchValues(ctx, mixer);
    if (r) {
      const d = mixer === 'mamba' ? ctx.K + r.p : ctx.K * r.p;
      const N = mixer === 'mamba' ? ctx.K : 1;
      Object.assign(row, { found: true, d, N, jlDim: { values: r.p }, seed: r.seed, minN: N });
    }
  }
  row.candidates = ctx.candidates;
  row.seconds = (performance.now() - t0) / 1000;
  return row;
}

function formatRows(rows: TightnessRow[], ctx: Ctx): string {
  const head = ['theorem', 'mixer', 'smallest d (N)', 'JL / seed', 'bound d, N', 'one-hot d, N', 'floor d, N', 'tried'];
  const body = rows.map((r) => [
    r.theorem,
    r.mixer,
    r.found
      ? `${r.d} (N=${r.N}${r.minN !== r.N ? `, min N ${r.minN}` : ''})`
      : `none (p_v ≤ ${ctx.maxValueDim}${r.mixer === 'mamba2' ? `, p_k ≤ ${ctx.maxKeyDim}` : ''})`,
    r.jlDim ? `${r.jlDim.keys !== undefined ? `p_k=${r.jlDim.keys} ` : ''}p_v=${r.jlDim.values} / ${r.seed}` : '—',
    `${r.bound.d.expr}=${r.bound.d.nominal}, ${r.bound.N.expr}=${r.bound.N.nominal}`,
    `${r.onehot.d}, ${r.onehot.N}`,
    `${r.floor.d}, ${r.floor.N}`,
    String(r.candidates),
  ]);
  const title =
    `Tightness (κ=${ctx.K}, |V|=${ctx.V}, T=${ctx.T}): smallest JL sizes answering all of ${ctx.instances} instances,\n` +
    `${ctx.seeds} JL seeds per size; "tried" counts the candidates built and scored.`;
  const times = `time: ${rows.map((r) => `${r.theorem} ${r.seconds.toFixed(1)}s`).join(', ')}`;
  return `${table(head, body, title)}\n${times}`;
}

/** Plain-text table with a title line: columns padded to their widest cell, a rule under the header. */
export function table(head: string[], body: string[][], title: string): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [title, line(head), line(w.map((x) => '─'.repeat(x))), ...body.map(line)].join('\n');
}

/**
 * Tightness explorer: for each MQAR construction (Thm. 2, 3, 4, Step 2), the smallest JL dimensions (d, and N for
 * Thm. 3) that still score 100% on `instances` random instances, beside the theorem's bound, the one-hot sizes and
 * the ⌈log₂⌉ floor. Every candidate is a real construction run through the block.
 * @throws ConfigError naming `options.<field>`.
 * @example
 * ```ts
 * const r = constructions.mqarTightness({ numKeys: 4, vocabSize: 16, instances: 500, mixers: ['mamba'] });
 * r.rows[0].d; // smallest d = κ + p_v found
 * ```
 */
export function mqarTightness(options: TightnessOptions): TightnessResult {
  const ctx = check(options);
  const rows = ctx.mixers.map((m) => exploreOne(ctx, m));
  const { mixers, K, V, T, instances, seeds, taskSeed, maxValueDim, maxKeyDim } = ctx;
  return {
    options: { numKeys: K, vocabSize: V, T, instances, seeds, taskSeed, mixers, maxValueDim, maxKeyDim },
    rows,
    text: formatRows(rows, ctx),
  };
}
