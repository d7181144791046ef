/** Typed access to parsed CLI options: every bad value is an error naming its `--option`. */
import { configError } from 'ssm-core';

export type Raw = Record<string, string | boolean | undefined>;

export class Opts {
  constructor(private readonly raw: Raw) {}

  has(name: string): boolean {
    return this.raw[name] !== undefined;
  }

  str(name: string, fallback: string): string;
  str(name: string): string | undefined;
  str(name: string, fallback?: string): string | undefined {
    const v = this.raw[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'string') throw configError(`--${name}`, 'a value', 'no value');
    return v;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const v = this.str(name, fallback);
    if (!choices.includes(v as T)) throw configError(`--${name}`, choices.join(' | '), JSON.stringify(v));
    return v as T;
  }

  num(name: string, fallback: number, o?: { int?: boolean; min?: number; max?: number }): number;
  num(name: string, fallback: undefined, o?: { int?: boolean; min?: number; max?: number }): number | undefined;
  num(name: string, fallback: number | undefined, o: { int?: boolean; min?: number; max?: number } = {}): number | undefined {
    const s = this.str(name);
    if (s === undefined) return fallback;
    const v = Number(s);
    const lo = o.min ?? -Infinity, hi = o.max ?? Infinity;
    const range = lo > -Infinity && hi < Infinity ? ` in [${lo}, ${hi}]` : lo > -Infinity ? ` ≥ ${lo}` : hi < Infinity ? ` ≤ ${hi}` : '';
    const what = `${o.int ? 'an integer' : 'a number'}${range}`;
    if (s.trim() === '' || !Number.isFinite(v) || (o.int && !Number.isInteger(v)) || v < lo || v > hi) throw configError(`--${name}`, what, JSON.stringify(s));
    return v;
  }

  flag(name: string): boolean {
    return this.raw[name] === true;
  }
}
