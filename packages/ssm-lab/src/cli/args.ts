/** Typed access to parsed CLI options: every bad value is an error naming its `--option` (ssm-core's `validate`). */
import { configError, validate } from 'ssm-core';

export type Raw = Record<string, string | boolean | undefined>;

/** Range of a numeric option: integer or not, bounds (inclusive unless `above` is set: then x > above). */
export interface NumRange {
  int?: boolean;
  min?: number;
  /** Exclusive lower bound (x > above), for rates that must be positive. */
  above?: number;
  max?: number;
}

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

  /** A path option: like `str`, but an empty value is refused (it would silently mean "nowhere"). */
  path(name: string, fallback: string): string;
  path(name: string): string | undefined;
  path(name: string, fallback?: string): string | undefined {
    const v = this.str(name, fallback as string);
    if (v !== undefined && v.trim() === '') throw configError(`--${name}`, 'a non-empty path', JSON.stringify(v));
    return v;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const v = this.str(name, fallback);
    if (!choices.includes(v as T)) throw configError(`--${name}`, choices.join(' | '), JSON.stringify(v));
    return v as T;
  }

  num(name: string, fallback: number, o?: NumRange): number;
  num(name: string, fallback: undefined, o?: NumRange): number | undefined;
  num(name: string, fallback: number | undefined, o: NumRange = {}): number | undefined {
    const s = this.str(name);
    if (s === undefined) return fallback;
    const arg = `--${name}`;
    // a string that is not a number is checked as the string itself, so the message shows what was typed
    const v: unknown = s.trim() === '' || Number.isNaN(Number(s)) ? s : Number(s);
    const lo = o.above ?? o.min ?? -Infinity,
      hi = o.max ?? Infinity;
    const open = o.above !== undefined;
    const range =
      lo > -Infinity && hi < Infinity
        ? ` in ${open ? '(' : '['}${lo}, ${hi}]`
        : lo > -Infinity
          ? ` ${open ? '>' : '≥'} ${lo}`
          : hi < Infinity
            ? ` ≤ ${hi}`
            : '';
    const what = `${o.int ? 'an integer' : 'a number'}${range}`;
    if (o.int) return validate.int(v, arg, open ? Math.floor(lo) + 1 : lo, hi, what);
    if (open) return validate.numberWhere(v, arg, (x) => x > lo && x <= hi, what);
    return validate.numberIn(v, arg, lo, hi, what);
  }

  flag(name: string): boolean {
    return this.raw[name] === true;
  }
}

/**
 * Refuse positional arguments beyond the `allowed` that `usage` (the command, e.g. "ssm-lab train <task>")
 * takes, so an extra word is an error naming it rather than ignored.
 */
export function noExtraPositionals(args: readonly string[], allowed: number, usage: string): void {
  if (args.length <= allowed) return;
  const q = (xs: readonly string[]) => xs.map((x) => JSON.stringify(x)).join(' ');
  const extra = args.slice(allowed);
  throw configError(
    usage,
    allowed === 0 ? 'no arguments' : `at most ${allowed} argument${allowed === 1 ? '' : 's'}`,
    q(args),
    `unexpected argument${extra.length === 1 ? '' : 's'} ${q(extra)}`,
  );
}
