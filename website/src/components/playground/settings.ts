/**
 * The playground's settings: what the reader typed (strings, kept as typed), the values a run uses, and a
 * message for every field whose typed value cannot be used as it is (naming the field, its allowed range and
 * the value used instead). Also the token strip's labels. Pure functions, unit-tested in
 * tests/site/playground.test.ts.
 */

export type Task = 'mqar' | 'induction';
export type Mixer = 'mamba' | 'mamba2' | 's4d';
export type Embedding = 'onehot' | 'jl';

/** Number fields, as typed. */
export interface Draft {
  numKeys: string;
  vocabSize: string;
  jlDim: string;
  T: string;
  instances: string;
  seed: string;
}

export interface Settings {
  task: Task;
  mixer: Mixer;
  embedding: Embedding;
  numKeys: number;
  vocabSize: number;
  jlDim: number;
  T: number;
  instances: number;
  seed: number;
}

export const DEFAULT_DRAFT: Draft = { numKeys: '4', vocabSize: '8', jlDim: '0', T: '16', instances: '256', seed: '1' };
/** The sequence length each task starts with (MQAR: 4κ for the default κ = 4; INDUCTION HEADS: > 2|V| + 1). */
export const DEFAULT_T: Record<Task, number> = { mqar: 16, induction: 24 };

export interface FieldRange {
  label: string;
  lo: number;
  hi: number;
  /** Why the lower bound is what it is, when it depends on other fields. */
  why?: string;
}

/** The allowed range of each number field under the other fields' values. */
export function ranges(task: Task, numKeys: number, vocabSize: number): Record<keyof Draft, FieldRange> {
  return {
    numKeys: { label: 'κ (key–value pairs)', lo: 1, hi: 32 },
    vocabSize: { label: `|V| (${task === 'mqar' ? 'values' : 'tokens'})`, lo: 2, hi: 64 },
    jlDim: { label: 'JL value dimension p', lo: 0, hi: 256 },
    T:
      task === 'mqar'
        ? { label: 'sequence length T', lo: 3 * numKeys, hi: 256, why: `MQAR needs T ≥ 3κ = ${3 * numKeys}` }
        : {
            label: 'sequence length T',
            lo: 2 * vocabSize + 2,
            hi: 256,
            why: `INDUCTION HEADS needs T > 2|V| + 1 = ${2 * vocabSize + 1}`,
          },
    instances: { label: 'random sequences', lo: 1, hi: 5000 },
    seed: { label: 'seed', lo: 0, hi: 1_000_000 },
  };
}

/** Read one typed field: the integer to use (nearest allowed), and a message when it differs from what was typed. */
function read(raw: string, r: FieldRange): { value: number; message?: string } {
  const text = raw.trim();
  const n = Number(text);
  const range = `${r.lo}–${r.hi}`;
  if (text === '' || !Number.isFinite(n)) {
    return { value: r.lo, message: `${r.label}: “${raw}” is not a number; allowed ${range}, using ${r.lo}.` };
  }
  const value = Math.min(r.hi, Math.max(r.lo, Math.round(n)));
  if (value === n) return { value };
  const what = !Number.isInteger(n) ? 'is not a whole number' : n < r.lo ? 'is below the range' : 'is above the range';
  const why = r.why && n < r.lo ? ` (${r.why})` : '';
  return { value, message: `${r.label}: ${text} ${what} ${range}${why}; using ${value}.` };
}

/**
 * The settings a run uses and the messages about fields that could not be used as typed. Fields that the
 * current task does not use (κ and the embedding for INDUCTION HEADS, p for one-hot) are not checked.
 */
export function resolve(
  choice: { task: Task; mixer: Mixer; embedding: Embedding },
  draft: Draft,
): { settings: Settings; messages: string[] } {
  const messages: string[] = [];
  const use = (key: keyof Draft, r: FieldRange, checked = true): number => {
    const { value, message } = read(draft[key], r);
    if (message && checked) messages.push(message);
    return value;
  };
  const base = ranges(choice.task, 1, 2);
  const mqar = choice.task === 'mqar';
  const numKeys = use('numKeys', base.numKeys, mqar);
  const vocabSize = use('vocabSize', base.vocabSize);
  const jlDim = use('jlDim', base.jlDim, mqar && choice.embedding === 'jl');
  const r = ranges(choice.task, numKeys, vocabSize);
  const T = use('T', r.T);
  const instances = use('instances', r.instances);
  const seed = use('seed', r.seed);
  return { settings: { ...choice, numKeys, vocabSize, jlDim, T, instances, seed }, messages };
}

export type TokenRole = 'key' | 'value' | 'query' | 'filler' | 'first' | 'repeat';

export interface TokenLabel {
  /** What the strip shows, e.g. `k2`, `v5`. */
  text: string;
  role: TokenRole;
  /** The brute-force answer at this position (e.g. `v5`, `×`), if it is scored. */
  answer?: string;
}

/** Value index → label (1-based, as the paper writes v_1 … v_|V|). */
const valueLabel = (i: number) => `v${i + 1}`;

/**
 * Labels of one sequence's tokens. MQAR (paper layout, eq. (46)): ids 0 … κ−1 are keys k1 … kκ, ids κ … are
 * values v1 … v|V|; the first 2κ positions are key–value pairs, after them a key is a query (scored: the
 * value paired with it) and a value is filler. INDUCTION HEADS: token ids 0 … |V|−1 shown as 1 … |V|; a token
 * seen before is a repeat (answer: the token after its latest earlier occurrence), else a first occurrence
 * (answer: the blank ×). `answers` are the brute-force answers (−2: not scored; −1: the blank).
 */
export function tokenLabels(
  task: Task,
  tokens: readonly number[],
  answers: readonly number[],
  numKeys: number,
): TokenLabel[] {
  if (task === 'induction') {
    return tokens.map((tok, t) => ({
      text: String(tok + 1),
      role: answers[t] === -1 ? 'first' : 'repeat',
      answer: answers[t] === -1 ? '×' : String(answers[t] + 1),
    }));
  }
  return tokens.map((tok, t) => {
    const isKey = tok < numKeys;
    const text = isKey ? `k${tok + 1}` : valueLabel(tok - numKeys);
    if (t < 2 * numKeys) return { text, role: isKey ? 'key' : 'value' };
    if (isKey) return { text, role: 'query', answer: answers[t] >= 0 ? valueLabel(answers[t]) : undefined };
    return { text, role: 'filler' };
  });
}

/** A predicted class as the strip's answer labels write it. */
export function answerLabel(task: Task, cls: number, vocabSize: number): string {
  if (task === 'induction') return cls === -1 || cls === vocabSize ? '×' : String(cls + 1);
  return valueLabel(cls);
}
