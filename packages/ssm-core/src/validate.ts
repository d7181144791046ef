/**
 * Argument checking for every public entry point. Each check returns the value it accepted (narrowed) or
 * throws a typed error that names the argument, the expected value and the received one (errors.ts):
 * `ConfigError` for options, `ValueError` for data. Tensor shapes are checked by the ops themselves.
 */
import { configError, valueError } from './errors.js';

/** A received value as shown in messages: strings and objects as JSON, the rest as `String(v)`. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object' && v !== null) {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

/** An integer in [lo, hi]; `expected` overrides the message's wording (e.g. "an integer in [1, T=50]"). */
export function int(
  v: unknown,
  name: string,
  lo = Number.MIN_SAFE_INTEGER,
  hi = Number.MAX_SAFE_INTEGER,
  expected?: string,
): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    const range =
      expected ??
      (hi === Number.MAX_SAFE_INTEGER
        ? lo === Number.MIN_SAFE_INTEGER
          ? 'an integer'
          : `an integer ≥ ${lo}`
        : `an integer in [${lo}, ${hi}]`);
    throw configError(name, range, show(v));
  }
  return v;
}

/** An integer ≥ 1, reported as "a positive integer". */
export const positiveInt = (v: unknown, name: string): number =>
  int(v, name, 1, Number.MAX_SAFE_INTEGER, 'a positive integer');

/** A seed: an integer in [0, 2^32). */
export const seed = (v: unknown, name: string): number => int(v, name, 0, 2 ** 32 - 1, 'an integer in [0, 2^32)');

/** A finite number. */
export function finite(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw configError(name, 'a finite number', show(v));
  return v;
}

/** A finite number > 0. */
export function positive(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    throw configError(name, 'a finite positive number', show(v));
  return v;
}

/** A finite number ≥ 0. */
export function nonNegative(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw configError(name, 'a finite number ≥ 0', show(v));
  return v;
}

/** A finite number < 0. */
export function negative(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v >= 0)
    throw configError(name, 'a finite negative number', show(v));
  return v;
}

/**
 * A finite number for which `ok` holds, for ranges `numberIn` cannot state (open or half-open
 * intervals); `expected` states the rule, e.g. "a number in (0, 0.1]".
 */
export function numberWhere(v: unknown, name: string, ok: (x: number) => boolean, expected: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw configError(name, expected, show(v));
  return v;
}

/** A finite number in [lo, hi]. */
export function numberIn(
  v: unknown,
  name: string,
  lo: number,
  hi: number,
  expected = `a number in [${lo}, ${hi}]`,
): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) throw configError(name, expected, show(v));
  return v;
}

/** One of `choices` (compared with ===; own values only). */
export function oneOf<T extends string | number | boolean>(v: unknown, name: string, choices: readonly T[]): T {
  if (!choices.includes(v as T))
    throw configError(name, choices.map((c) => (typeof c === 'string' ? `'${c}'` : String(c))).join(' | '), show(v));
  return v as T;
}

/**
 * A key of `table` that is the table's own (never an inherited name such as `__proto__` or `constructor`).
 * `expected` overrides the message's wording (default: the keys joined by ' | ').
 */
export function ownKey<T extends object>(v: unknown, name: string, table: T, expected?: string): keyof T & string {
  if (typeof v !== 'string' || !Object.prototype.hasOwnProperty.call(table, v)) {
    throw configError(name, expected ?? Object.keys(table).join(' | '), show(v));
  }
  return v as keyof T & string;
}

/** A plain object (not null, not an array); `expected` describes its fields, e.g. "an object {n, T, ...}". */
export function object<T>(v: T, name: string, expected: string): T & object {
  if (v == null || typeof v !== 'object' || Array.isArray(v)) throw configError(name, expected, show(v));
  return v as T & object;
}

/**
 * A non-empty array (entries unchecked: check each with its own rule, naming it `${name}[i]`);
 * `expected` describes the entries, e.g. "a non-empty array of finite negative numbers".
 */
export function nonEmptyArray<T>(v: unknown, name: string, expected: string): T[] {
  if (!Array.isArray(v) || v.length === 0) throw configError(name, expected, show(v));
  return v as T[];
}

/** A boolean. */
export function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw configError(name, 'true | false', show(v));
  return v;
}

/** A function. */
export function fn<T extends (...args: never[]) => unknown>(v: unknown, name: string): T {
  if (typeof v !== 'function') throw configError(name, 'a function', typeof v);
  return v as T;
}

/** A power of two in [lo, hi]. */
export function powerOfTwo(v: unknown, name: string, lo = 2, hi = 1 << 16): number {
  const n = v as number;
  if (!Number.isInteger(n) || n < lo || n > hi || (n & (n - 1)) !== 0)
    throw configError(name, `a power of two in [${lo}, ${hi}]`, show(v));
  return n;
}

/** Index of the first non-finite entry, or −1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

/** True when every entry is finite. */
export const allFinite = (a: ArrayLike<number>): boolean => firstNonFinite(a) < 0;

/** Every entry finite (data, not options: a ValueError naming the first bad index, and the shape when given). */
export function finiteArray(a: ArrayLike<number>, name: string, shape?: readonly number[]): void {
  const i = firstNonFinite(a);
  if (i >= 0)
    throw valueError(
      name,
      'finite values',
      `${a[i]} at flat index ${i}${shape ? ` of shape [${shape.join(',')}]` : ''}`,
    );
}
