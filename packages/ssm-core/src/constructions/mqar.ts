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

/** MQAR solved exactly by the construction of Thm. 2, 3 or 4 (one-hot Step 1, or JL Step 2). */
export function mqarConstruction(options: MqarConstructionOptions): Construction {
  const o = checkMqarOptions(options);
  if (o.mixer === 'mamba') return mqarMambaConstruction(o);
  if (o.mixer === 'mamba2') return mqarMamba2Construction(o);
  return mqarS4dConstruction(o);
}
