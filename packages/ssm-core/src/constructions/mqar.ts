/**
 * `mqarConstruction` — the three analytic MQAR solutions of Sec. 5.1 / App. C.1 as weights of the
 * ordinary block: Thm. 2 (mixer 'mamba'), Thm. 3 ('mamba2'), Thm. 4 ('s4d'). Token ids and classes
 * follow `tasks.mqar` (mode 'paper'): keys 0 … κ−1, values κ … κ+|V|−1, prediction = value index
 * 0 … |V|−1 at every position (meaningful at the query positions). See ./mqarOptions.ts.
 */
import type { Construction } from './common.js';
import { mqarMambaConstruction } from './mqarMamba.js';
import { mqarMamba2Construction } from './mqarMamba2.js';
import { checkMqarOptions, type MqarConstructionOptions } from './mqarOptions.js';
import { mqarS4dConstruction } from './mqarS4d.js';

/**
 * MQAR (eq. (46)) solved by the construction of Thm. 2 (mixer 'mamba'), Thm. 3 ('mamba2') or Thm. 4 ('s4d'), with
 * one-hot embeddings (Step 1, exact) or JL embeddings (Step 2, Lem. 4). Token ids follow `tasks.mqar` mode
 * 'paper': keys 0 … κ−1, values κ … κ+|V|−1; predict(tokens [b][L]) → the value index 0 … |V|−1 per position
 * (meaningful at the queries).
 * @throws ConfigError naming `options.<field>`, e.g. `options.numKeys: expected an integer in [1, 2^20], got 0`,
 *   or `options.numKeys/vocabSize` when the weights would exceed 2^26.
 * @example
 * ```ts
 * const c = constructions.mqarConstruction({ mixer: 'mamba2', numKeys: 8, vocabSize: 64 });
 * c.dims.d; // 72 = κ + |V| (Step 1)
 * const pred = c.predict([tokens]); // tokens: number[] laid out as tasks.mqar
 * c.dispose();
 * ```
 */
export function mqarConstruction(options: MqarConstructionOptions): Construction {
  const o = checkMqarOptions(options);
  if (o.mixer === 'mamba') return mqarMambaConstruction(o);
  if (o.mixer === 'mamba2') return mqarMamba2Construction(o);
  return mqarS4dConstruction(o);
}
