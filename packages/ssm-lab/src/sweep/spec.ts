/**
 * A sweep as plain JSON: one task family (MQAR for Fig. 2, INDUCTION HEADS for Fig. 3), a list of
 * architectures (each with its state-size rule), the task sizes (κ or |V|), the model widths d, the
 * seeds, and one training preset. `expandGrid` (./grid.ts) turns it into cells; every cell is one
 * ordinary `JobSpec` (../experiments/jobs.ts) trained by `runJob`.
 *
 *   {
 *     "name": "fig2-quick",
 *     "task": { "kind": "mqar", "T": 32, "vocabSize": 16 },            // size axis = κ (numKeys)
 *     "architectures": [ { "model": "mamba-conv", "N": "2*size" }, { "model": "mamba2", "N": "8*ln(size)" },
 *                        { "model": "mamba-s4d", "N": 4 } ],
 *     "sizes": [4, 8], "d": [4, 8, 16, 32], "seeds": [0, 1],
 *     "train": { "epochs": 8, "stepsPerEpoch": 100, "batchSize": 32, "lr": 0.01, "lrMin": 1e-6, "stopValAccuracy": 1 },
 *     "samples": { "train": 20000, "val": 500, "test": 2000 }
 *   }
 *
 * `model` is a name of the model table (../experiments/models.ts), the same names `ssm-lab train --model`
 * takes; Fig. 2 and Fig. 3 use (App. D.3 / D.4; all 1-layer, short causal conv k = 4 with silu):
 *   mamba-conv     S6 mixer, gate off (Thm. 2's setting; Fig. 3's baseline)
 *   mamba2         single-head Mamba-2 mixer, gate off (Thm. 3)
 *   mamba-s4d      "Mamba-S4D": the full Mamba block with the S6 layer swapped for S4D, gate on (Thm. 4)
 *   mamba-delta-t  Mamba-Δ⊤ (Eq. 15), gate off (Lem. 3)
 * `overrides` sets any MambaConfig field of an architecture (e.g. `{ "conv": false }`).
 *
 * Spec files of ssm-core 0.1 named the model `"arch"`, with other names for the same words (its "mamba"
 * is `mamba-conv` here, its "s4d" is `mamba-s4d`). A spec with `arch` is refused with a ConfigError that
 * gives this mapping (LEGACY_SWEEP_NAMES), so an old file is never read as a different model.
 *
 * State-size rules `N`: an integer, or "c*size", "c*ln(size)", "c*log2(size)" (rounded up, at least 1):
 * Fig. 2 uses N = 2κ ("2*size"), 8 ln κ ("8*ln(size)"), 4; Fig. 3 uses N = 4|V| ("4*size").
 *
 * Every invalid field is a ConfigError naming it (`spec.task.T`, `spec.architectures[1].N`, …) with
 * the expected and the actual value.
 */
import { configError, validate, type ConfigError, type MambaConfig } from 'ssm-core';
import { LEGACY_SWEEP_NAMES, modelName, type ModelName } from '../experiments/models.js';

export type SweepTask =
  | { kind: 'mqar'; T: number; /** |V| values (paper: 128). */ vocabSize: number }
  | { kind: 'induction-heads'; T: number; setting?: 'standard' | 'hard'; p?: number; gamma?: number };

export type StateRule = number | string;

export interface SweepArchitecture {
  /** A name of the model table (an alias is replaced by its canonical name). */
  model: ModelName;
  /** State size N: an integer or a rule in the size (see the header). */
  N: StateRule;
  /** Overrides of the architecture's MambaConfig (conv, gate, discretization, dtRank, …). */
  overrides?: Partial<Omit<MambaConfig, 'vocabSize' | 'numClasses' | 'dModel' | 'dState' | 'seed'>>;
}

export interface SweepTrain {
  epochs: number;
  batchSize: number;
  lr: number;
  lrMin: number;
  stepsPerEpoch?: number;
  stopValLoss?: number;
  stopValAccuracy?: number;
  maxSeconds?: number;
  evalBatchSize?: number;
}

export interface SweepSpec {
  /** Name shown in results and reports, e.g. "fig2". */
  name: string;
  description?: string;
  task: SweepTask;
  architectures: SweepArchitecture[];
  /** The size axis: κ (number of keys) for MQAR, |V| for INDUCTION HEADS. */
  sizes: number[];
  /** Embedding sizes d (Fig. 2/3's y axis). */
  d: number[];
  /** Seeds: model init, batch order and data (train 3s+1, val 3s+2, test 3s+3). The report takes the best. */
  seeds: number[];
  train: SweepTrain;
  samples: { train: number; val: number; test: number };
  /** Free-form notes carried into reports (e.g. how a quick preset deviates from the paper). */
  notes?: string[];
}

const { show } = validate;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An integer in [lo, hi] (validate.int with the spec's path first). */
const int = (path: string, v: unknown, lo: number, hi = Number.MAX_SAFE_INTEGER): number =>
  validate.int(v, path, lo, hi);

function num(path: string, v: unknown, ok: (x: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw configError(path, expected, show(v));
  return v;
}

function intList(path: string, v: unknown, lo: number): number[] {
  if (!Array.isArray(v) || v.length === 0) throw configError(path, `a non-empty array of integers ≥ ${lo}`, show(v));
  v.forEach((x, i) => int(`${path}[${i}]`, x, lo));
  const dup = v.find((x, i) => v.indexOf(x) !== i);
  if (dup !== undefined) throw configError(path, 'distinct values', show(v), `${dup} appears twice`);
  return [...v] as number[];
}

function noExtraKeys(path: string, o: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k))
      throw configError(`${path}.${k}`, `one of the fields ${allowed.join(', ')}`, `an unknown field "${k}"`);
  }
}

const RULE = /^\s*(\d+(?:\.\d+)?)\s*\*\s*(size|ln\(size\)|log2\(size\))\s*$/;

/** N for a given size under a state-size rule (an integer, or "c*size" / "c*ln(size)" / "c*log2(size)", rounded up, ≥ 1). */
export function stateSize(rule: StateRule, size: number, path = 'N'): number {
  if (typeof rule === 'number') return int(path, rule, 1);
  const m = typeof rule === 'string' ? RULE.exec(rule) : null;
  if (!m) throw configError(path, 'an integer ≥ 1 or a rule "c*size" | "c*ln(size)" | "c*log2(size)"', show(rule));
  const c = Number(m[1]);
  const f = m[2] === 'size' ? size : m[2] === 'ln(size)' ? Math.log(size) : Math.log2(size);
  return Math.max(1, Math.ceil(c * f - 1e-9));
}

/** The error for a spec that still has ssm-core 0.1's `"arch"` field: names the field, its new name and the mapping. */
function legacyArch(path: string, value: unknown): ConfigError {
  const mapping = Object.entries(LEGACY_SWEEP_NAMES)
    .map(([from, to]) => `"arch": "${from}" → "model": "${to}"`)
    .join(', ');
  const fix =
    typeof value === 'string' && Object.hasOwn(LEGACY_SWEEP_NAMES, value)
      ? `; here: "model": "${LEGACY_SWEEP_NAMES[value]}"`
      : '';
  return configError(
    path,
    'no field "arch": the field is now "model", a name of ssm-lab\'s model table (ssm-lab --help)',
    show(value),
    `ssm-core 0.1's arch values map to: ${mapping}${fix}; the field "model" of 0.1 (MambaConfig overrides) is now "overrides"`,
  );
}

/** Check a parsed spec; returns it with defaults filled in. Throws a ConfigError naming the first bad field. */
export function validateSweepSpec(raw: unknown, source = 'spec'): SweepSpec {
  if (!isObj(raw))
    throw configError(
      source,
      'a sweep spec object {name, task, architectures, sizes, d, seeds, train, samples}',
      show(raw),
    );
  noExtraKeys(source, raw, [
    'name',
    'description',
    'task',
    'architectures',
    'sizes',
    'd',
    'seeds',
    'train',
    'samples',
    'notes',
  ]);
  if (typeof raw.name !== 'string' || !/^[\w.+-]+$/.test(raw.name))
    throw configError(`${source}.name`, 'a name of letters, digits, _ . + -', show(raw.name));
  if (raw.description !== undefined && typeof raw.description !== 'string')
    throw configError(`${source}.description`, 'a string', show(raw.description));
  if (raw.notes !== undefined && (!Array.isArray(raw.notes) || raw.notes.some((n) => typeof n !== 'string')))
    throw configError(`${source}.notes`, 'an array of strings', show(raw.notes));

  // task
  const t = raw.task;
  if (!isObj(t))
    throw configError(
      `${source}.task`,
      '{kind: "mqar", T, vocabSize} | {kind: "induction-heads", T, setting?, p?, gamma?}',
      show(t),
    );
  let task: SweepTask;
  if (t.kind === 'mqar') {
    noExtraKeys(`${source}.task`, t, ['kind', 'T', 'vocabSize']);
    task = {
      kind: 'mqar',
      T: int(`${source}.task.T`, t.T, 3),
      vocabSize: int(`${source}.task.vocabSize`, t.vocabSize, 2),
    };
  } else if (t.kind === 'induction-heads') {
    noExtraKeys(`${source}.task`, t, ['kind', 'T', 'setting', 'p', 'gamma']);
    const setting = t.setting ?? 'hard';
    if (setting !== 'standard' && setting !== 'hard')
      throw configError(`${source}.task.setting`, '"standard" | "hard"', show(t.setting));
    const T = int(`${source}.task.T`, t.T, 5);
    if (setting === 'standard') {
      for (const k of ['p', 'gamma'])
        if (t[k] !== undefined)
          throw configError(`${source}.task.${k}`, 'undefined with setting "standard"', show(t[k]));
      task = { kind: 'induction-heads', T, setting };
    } else {
      task = {
        kind: 'induction-heads',
        T,
        setting,
        p: num(`${source}.task.p`, t.p ?? 0.75, (x) => x >= 0 && x <= 1, 'a number in [0, 1]'),
        gamma: num(`${source}.task.gamma`, t.gamma ?? 0.1, (x) => x > 0 && x <= 0.1, 'a number in (0, 0.1] (App. D.4)'),
      };
    }
  } else throw configError(`${source}.task.kind`, '"mqar" | "induction-heads"', show(t.kind));

  // architectures
  const archs = raw.architectures;
  if (!Array.isArray(archs) || archs.length === 0)
    throw configError(`${source}.architectures`, 'a non-empty array of {model, N, overrides?}', show(archs));
  const architectures: SweepArchitecture[] = archs.map((a, i) => {
    const p = `${source}.architectures[${i}]`;
    if (!isObj(a)) throw configError(p, '{model, N, overrides?}', show(a));
    if (Object.hasOwn(a, 'arch')) throw legacyArch(`${p}.arch`, a.arch);
    noExtraKeys(p, a, ['model', 'N', 'overrides']);
    if (isObj(a.model))
      throw configError(`${p}.model`, 'a model name (MambaConfig overrides go in "overrides")', show(a.model));
    const model = modelName(a.model, `${p}.model`, true);
    stateSize(a.N as StateRule, 4, `${p}.N`);
    if (a.overrides !== undefined && !isObj(a.overrides))
      throw configError(`${p}.overrides`, 'an object of MambaConfig overrides', show(a.overrides));
    if (a.overrides) {
      for (const k of ['vocabSize', 'numClasses', 'dModel', 'dState', 'seed']) {
        if (k in a.overrides)
          throw configError(`${p}.overrides.${k}`, 'not set here (the grid sets it)', show(a.overrides[k]));
      }
    }
    return {
      model,
      N: a.N as StateRule,
      ...(a.overrides ? { overrides: a.overrides as SweepArchitecture['overrides'] } : {}),
    };
  });
  const modelNames = architectures.map((a) => a.model);
  const dupModel = modelNames.find((x, i) => modelNames.indexOf(x) !== i);
  if (dupModel)
    throw configError(
      `${source}.architectures`,
      'each model at most once',
      show(modelNames),
      `"${dupModel}" appears twice`,
    );

  const sizes = intList(`${source}.sizes`, raw.sizes, 1);
  for (const [i, s] of sizes.entries()) {
    if (task.kind === 'mqar' && task.T < 3 * s)
      throw configError(`${source}.sizes[${i}]`, `κ ≤ T/3 = ${Math.floor(task.T / 3)} (MQAR needs T ≥ 3κ)`, show(s));
    if (task.kind === 'induction-heads') {
      if (s < 2) throw configError(`${source}.sizes[${i}]`, '|V| ≥ 2', show(s));
      if (task.T <= 2 * s + 1)
        throw configError(
          `${source}.sizes[${i}]`,
          `|V| < (T − 1)/2 = ${(task.T - 1) / 2} (App. D.4: T > 2|V| + 1)`,
          show(s),
        );
    }
  }
  if (task.kind === 'induction-heads' && task.setting === 'hard' && Math.floor(task.gamma! * task.T + 1e-9) < 1) {
    throw configError(`${source}.task.gamma`, `γ·T ≥ 1 (T = ${task.T})`, show(task.gamma));
  }
  const d = intList(`${source}.d`, raw.d, 1);
  const seeds = intList(`${source}.seeds`, raw.seeds, 0);
  seeds.forEach((s, i) => int(`${source}.seeds[${i}]`, s, 0, 2 ** 30));

  // training
  const tr = raw.train;
  if (!isObj(tr))
    throw configError(
      `${source}.train`,
      '{epochs, batchSize, lr, lrMin, stepsPerEpoch?, stopValLoss?, stopValAccuracy?, maxSeconds?, evalBatchSize?}',
      show(tr),
    );
  noExtraKeys(`${source}.train`, tr, [
    'epochs',
    'batchSize',
    'lr',
    'lrMin',
    'stepsPerEpoch',
    'stopValLoss',
    'stopValAccuracy',
    'maxSeconds',
    'evalBatchSize',
  ]);
  const lr = num(`${source}.train.lr`, tr.lr, (x) => x > 0, 'a number > 0');
  const train: SweepTrain = {
    epochs: int(`${source}.train.epochs`, tr.epochs, 1),
    batchSize: int(`${source}.train.batchSize`, tr.batchSize, 1),
    lr,
    lrMin: num(`${source}.train.lrMin`, tr.lrMin, (x) => x >= 0 && x <= lr, `a number in [0, lr = ${lr}]`),
  };
  if (tr.stepsPerEpoch !== undefined) train.stepsPerEpoch = int(`${source}.train.stepsPerEpoch`, tr.stepsPerEpoch, 1);
  if (tr.stopValLoss !== undefined)
    train.stopValLoss = num(`${source}.train.stopValLoss`, tr.stopValLoss, (x) => x >= 0, 'a number ≥ 0');
  if (tr.stopValAccuracy !== undefined)
    train.stopValAccuracy = num(
      `${source}.train.stopValAccuracy`,
      tr.stopValAccuracy,
      (x) => x > 0 && x <= 1,
      'a number in (0, 1]',
    );
  if (tr.maxSeconds !== undefined)
    train.maxSeconds = num(`${source}.train.maxSeconds`, tr.maxSeconds, (x) => x > 0, 'a number of seconds > 0');
  if (tr.evalBatchSize !== undefined) train.evalBatchSize = int(`${source}.train.evalBatchSize`, tr.evalBatchSize, 1);

  const sm = raw.samples;
  if (!isObj(sm)) throw configError(`${source}.samples`, '{train, val, test}', show(sm));
  noExtraKeys(`${source}.samples`, sm, ['train', 'val', 'test']);
  const samples = {
    train: int(`${source}.samples.train`, sm.train, 1),
    val: int(`${source}.samples.val`, sm.val, 1),
    test: int(`${source}.samples.test`, sm.test, 1),
  };
  if (train.stepsPerEpoch === undefined && train.batchSize > samples.train) {
    throw configError(
      `${source}.train.batchSize`,
      `≤ samples.train = ${samples.train} (or set stepsPerEpoch)`,
      show(train.batchSize),
    );
  }
  return {
    name: raw.name,
    ...(raw.description ? { description: raw.description as string } : {}),
    task,
    architectures,
    sizes,
    d,
    seeds,
    train,
    samples,
    ...(raw.notes ? { notes: raw.notes as string[] } : {}),
  };
}
