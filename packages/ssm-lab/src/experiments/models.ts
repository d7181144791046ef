/**
 * The one table of model names. Every name builds one model, wherever it is used: `ssm-lab train
 * --model NAME`, a sweep spec's `"model": NAME`, the Tab. 1 / Fig. 1 reproductions and the notebooks.
 *
 *   name              paper's name     where           block
 *   mamba+pe          Mamba+PE         Tab. 1, Fig. 1  embedding (+PE 0.1·t) → S6 → linear; no conv, no gate
 *   mamba             Mamba            Tab. 1          embedding → S6 → linear; no conv, no gate
 *   s4d               S4D              Tab. 1          embedding → S4D → linear; no conv, no gate
 *   s4d+pe            S4D+PE           Tab. 1, Fig. 1  embedding (+PE 0.1·t) → S4D → linear; no conv, no gate
 *   transformer       Transformer      Tab. 1          1-layer causal softmax attention, positional table of length T
 *   mamba-conv        Mamba            Fig. 2, Fig. 3  S6 with the short conv (k = 4, silu), gate off (Thm. 2)
 *   mamba2            Mamba-2          Fig. 2          single-head Mamba-2 mixer, conv k = 4, gate off (Thm. 3)
 *   mamba-s4d         Mamba-S4D        Fig. 2          the Mamba block with S4D in place of S6: conv k = 4, gate silu (Thm. 4)
 *   mamba-delta-t     Mamba-Δ⊤         Fig. 3          Mamba-Δ⊤ (Eq. 15), conv k = 4, gate off (Lem. 3)
 *   mamba-block       Mamba block      —               S6 with conv k = 4 and gate silu (mamba_ssm's block)
 *   linear-attention  linear attention —               linear attention mixer, conv k = 4, gate silu
 *
 * One spelling per model; ssm-core 0.1's sweep spellings (`mamba-dt`, …) map through LEGACY_SWEEP_NAMES.
 * Sizes: `d` and `N` are the embedding and state size (default 32 and 8; the Transformer's d is 16).
 */
import { configError, validate, type MambaConfig, type ModelSpec } from 'ssm-core';

export const MODEL_NAMES = [
  'mamba+pe',
  'mamba',
  's4d',
  's4d+pe',
  'transformer',
  'mamba-conv',
  'mamba2',
  'mamba-s4d',
  'mamba-delta-t',
  'mamba-block',
  'linear-attention',
] as const;

export type ModelName = (typeof MODEL_NAMES)[number];

/** The part of a Mamba block a name fixes (sizes and the vocabulary come from the experiment). */
export type BlockFields = Pick<MambaConfig, 'mixer' | 'conv' | 'gate' | 'positionalEncoding'>;

export interface ModelEntry {
  name: ModelName;
  /** The paper's name, for tables and figure legends. */
  label: string;
  /** Where the paper uses it. */
  source: string;
  /** The Mamba block's fields, or 'transformer'. */
  block: BlockFields | 'transformer';
  /** Default embedding size d (and state size N for SSMs). */
  defaults: { d: number; N: number };
  /** Tab. 1's reported test accuracy and parameter count (KEEP FIFTH, T = 50, |V| = 128). */
  paper?: { accuracy: number; params: number };
}

const CONV = { kernelSize: 4, activation: 'silu' } as const;
const PE = { scale: 0.1 } as const;
const tab1 = (mixer: 's6' | 's4d', pe: boolean): BlockFields => ({
  mixer,
  conv: false,
  gate: false,
  positionalEncoding: pe ? PE : false,
});
const block = (mixer: BlockFields['mixer'], gate: boolean): BlockFields => ({
  mixer,
  conv: CONV,
  gate: gate ? { activation: 'silu' } : false,
  positionalEncoding: false,
});

export const MODELS: Readonly<Record<ModelName, ModelEntry>> = {
  'mamba+pe': {
    name: 'mamba+pe',
    label: 'Mamba+PE',
    source: 'Tab. 1, Fig. 1',
    block: tab1('s6', true),
    defaults: { d: 32, N: 8 },
    paper: { accuracy: 1.0, params: 9.2e3 },
  },
  mamba: {
    name: 'mamba',
    label: 'Mamba',
    source: 'Tab. 1',
    block: tab1('s6', false),
    defaults: { d: 32, N: 8 },
    paper: { accuracy: 0.08, params: 9.3e3 },
  },
  s4d: {
    name: 's4d',
    label: 'S4D',
    source: 'Tab. 1',
    block: tab1('s4d', false),
    defaults: { d: 32, N: 8 },
    paper: { accuracy: 0.09, params: 8.8e3 },
  },
  's4d+pe': {
    name: 's4d+pe',
    label: 'S4D+PE',
    source: 'Tab. 1, Fig. 1',
    block: tab1('s4d', true),
    defaults: { d: 32, N: 8 },
    paper: { accuracy: 0.08, params: 8.7e3 },
  },
  transformer: {
    name: 'transformer',
    label: 'Transformer',
    source: 'Tab. 1',
    block: 'transformer',
    defaults: { d: 16, N: 0 },
    paper: { accuracy: 1.0, params: 6.4e3 },
  },
  'mamba-conv': {
    name: 'mamba-conv',
    label: 'Mamba',
    source: 'Fig. 2, Fig. 3 (Thm. 2)',
    block: block('s6', false),
    defaults: { d: 32, N: 8 },
  },
  mamba2: {
    name: 'mamba2',
    label: 'Mamba-2',
    source: 'Fig. 2 (Thm. 3)',
    block: block('mamba2', false),
    defaults: { d: 32, N: 8 },
  },
  'mamba-s4d': {
    name: 'mamba-s4d',
    label: 'Mamba-S4D',
    source: 'Fig. 2 (Thm. 4)',
    block: block('s4d', true),
    defaults: { d: 32, N: 8 },
  },
  'mamba-delta-t': {
    name: 'mamba-delta-t',
    label: 'Mamba-Δ⊤',
    source: 'Fig. 3 (Lem. 3, Eq. 15)',
    block: block('mambaDeltaT', false),
    defaults: { d: 32, N: 8 },
  },
  'mamba-block': {
    name: 'mamba-block',
    label: 'Mamba block',
    source: 'mamba_ssm',
    block: block('s6', true),
    defaults: { d: 32, N: 8 },
  },
  'linear-attention': {
    name: 'linear-attention',
    label: 'linear attention',
    source: '—',
    block: block('linearAttention', true),
    defaults: { d: 32, N: 8 },
  },
};

/** `value` as a name of the table; a ConfigError naming `arg` otherwise. */
export function modelName(value: unknown, arg = 'model', quote = false): ModelName {
  if (typeof value === 'string' && (MODEL_NAMES as readonly string[]).includes(value)) return value as ModelName;
  const q = (s: string) => (quote ? `"${s}"` : s);
  throw configError(arg, MODEL_NAMES.map(q).join(' | '), validate.show(value));
}

export const isModelName = (value: unknown): boolean => {
  try {
    modelName(value);
    return true;
  } catch {
    return false;
  }
};

export interface ModelSizes {
  /** Embedding size (default: the entry's). */
  d?: number;
  /** State size (SSMs; default: the entry's). */
  N?: number;
  /** Sequence length (the Transformer's positional table). */
  T: number;
  /** Vocabulary size; runJob sets it from the task data when left at the placeholder 1. */
  vocabSize?: number;
}

/**
 * The ModelSpec of `name` at the given sizes, with `overrides` of the block's fields applied last.
 * A Mamba spec has exactly the keys kind, vocabSize, dModel, dState, positionalEncoding, mixer, conv,
 * gate (+ overrides, + seed), so sweep cell ids (a hash of the spec) are the same as ssm-core 0.1's.
 */
export function modelSpec(
  name: ModelName,
  sizes: ModelSizes,
  overrides: Record<string, unknown> = {},
  seed?: number,
): ModelSpec {
  const e = MODELS[name];
  const vocabSize = sizes.vocabSize ?? 1;
  const d = sizes.d ?? e.defaults.d;
  if (e.block === 'transformer') {
    return {
      kind: 'transformer',
      vocabSize,
      dModel: d,
      maxLen: sizes.T,
      ...overrides,
      ...(seed === undefined ? {} : { seed }),
    } as ModelSpec;
  }
  const b = e.block;
  return {
    kind: 'mamba',
    vocabSize,
    dModel: d,
    dState: sizes.N ?? e.defaults.N,
    positionalEncoding: b.positionalEncoding,
    mixer: b.mixer,
    conv: b.conv,
    gate: b.gate,
    ...overrides,
    ...(seed === undefined ? {} : { seed }),
  } as ModelSpec;
}

/**
 * The model a sweep results record names. Records written by ssm-core 0.1 carry no `names` field
 * and used the sweep spellings of that version: mamba (= mamba-conv), s4d (= mamba-s4d), mamba-dt.
 */
export function recordModelName(cell: { arch: string; names?: string }): ModelName {
  if (cell.names === RECORD_NAMES) return modelName(cell.arch, 'cell.arch');
  return LEGACY_SWEEP_NAMES[cell.arch] ?? modelName(cell.arch, 'cell.arch');
}

/** The value of `cell.names` in results records whose `arch` is a name of this table. */
export const RECORD_NAMES = 'ssm-lab';

/**
 * ssm-core 0.1's sweep spellings (its spec field `"arch"` and its results records' `cell.arch`) and the
 * names of this table that build the same models.
 */
export const LEGACY_SWEEP_NAMES: Readonly<Record<string, ModelName>> = {
  mamba: 'mamba-conv',
  s4d: 'mamba-s4d',
  mamba2: 'mamba2',
  'mamba-dt': 'mamba-delta-t',
};
