/**
 * Argument checks shared by the `theory` module. Every failure names the argument, says what
 * was expected and what was received (ConfigError for options, ValueError for data).
 *
 * Notation: none beyond the argument names used in the error messages.
 */
import { configError, valueError } from '../errors.js';

/** The received value as shown in messages. */
const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** A finite number. */
export function finite(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw configError(name, 'a finite number', show(v));
  return v;
}

/** A finite number > 0. */
export function positive(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw configError(name, 'a finite positive number', show(v));
  return v;
}

/** A finite number ≥ 0. */
export function nonNegative(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw configError(name, 'a finite number ≥ 0', show(v));
  return v;
}

/** w_Δ of the Heaviside construction (Eq. 22): finite and negative. */
export function wDelta(v: unknown, name = 'options.wDelta'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v >= 0) throw configError(name, 'a finite negative number', show(v));
  return v;
}

/** An integer in [lo, hi]. */
export function intIn(v: unknown, name: string, lo: number, hi = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) {
    const range = hi === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${lo}` : `an integer in [${lo}, ${hi}]`;
    throw configError(name, range, show(v));
  }
  return v as number;
}

/** A power of two ≥ lo (grids on which dyadic points are cell edges). */
export function powerOfTwo(v: unknown, name: string, lo = 2, hi = 1 << 16): number {
  const n = v as number;
  if (!Number.isInteger(n) || n < lo || n > hi || (n & (n - 1)) !== 0) throw configError(name, `a power of two in [${lo}, ${hi}]`, show(v));
  return n;
}

/** Every entry finite (data, not options: ValueError). */
export function finiteArray(a: ArrayLike<number>, name: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw valueError(name, 'finite numbers', `${a[i]} at index ${i}`);
  }
}

/** A function argument. */
export function fn<T extends (...args: never[]) => unknown>(v: unknown, name: string): T {
  if (typeof v !== 'function') throw configError(name, 'a function', typeof v);
  return v as T;
}
