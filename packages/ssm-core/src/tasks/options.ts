/** Option checking shared by the task generators: errors name `options.<name>`. */
import { configError } from '../errors.js';

export const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** An integer option in [lo, hi], or a ConfigError stating `expected`. */
export function int(name: string, v: unknown, lo: number, hi: number, expected: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw configError(`options.${name}`, expected, show(v));
  return v;
}
