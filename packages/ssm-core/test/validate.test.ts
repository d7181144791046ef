/**
 * src/validate.ts: every check accepts its boundary values and rejects the values just outside them
 * with a typed error (ConfigError for options, ValueError for data) that names the argument, states
 * what was expected and shows what was received.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, SsmError, ValueError } from '../src/errors.js';
import {
  allFinite,
  bool,
  finite,
  finiteArray,
  firstNonFinite,
  fn,
  int,
  negative,
  nonEmptyArray,
  nonNegative,
  numberIn,
  numberWhere,
  object,
  oneOf,
  ownKey,
  positive,
  positiveInt,
  powerOfTwo,
  seed,
  show,
} from '../src/validate.js';

/** `f` throws `Cls` whose argument, expected and actual are as given, and whose message says all three. */
function expectRejects(
  f: () => unknown,
  Cls: typeof ConfigError | typeof ValueError,
  argument: string,
  expected: string,
  actual: string,
) {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(Cls);
  const e = err as SsmError;
  expect(e.argument).toBe(argument);
  expect(e.expected).toBe(expected);
  expect(e.actual).toBe(actual);
  expect(e.message).toBe(`${argument}: expected ${expected}, got ${actual}`);
}

describe('show', () => {
  it('quotes strings, writes objects and arrays as JSON, the rest with String()', () => {
    expect(show('a')).toBe('"a"');
    expect(show({ a: 1 })).toBe('{"a":1}');
    expect(show([1, 2])).toBe('[1,2]');
    expect(show(null)).toBe('null');
    expect(show(undefined)).toBe('undefined');
    expect(show(Number.NaN)).toBe('NaN');
    expect(show(1n)).toBe('1');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(show(cyclic)).toBe('[object Object]');
  });
});

describe('integers', () => {
  it('int: accepts [lo, hi] and refuses lo − 1, hi + 1, fractions, strings and NaN', () => {
    expect(int(3, 'o.n', 3, 7)).toBe(3);
    expect(int(7, 'o.n', 3, 7)).toBe(7);
    expectRejects(() => int(2, 'o.n', 3, 7), ConfigError, 'o.n', 'an integer in [3, 7]', '2');
    expectRejects(() => int(8, 'o.n', 3, 7), ConfigError, 'o.n', 'an integer in [3, 7]', '8');
    expectRejects(() => int(3.5, 'o.n', 3, 7), ConfigError, 'o.n', 'an integer in [3, 7]', '3.5');
    expectRejects(() => int('4', 'o.n', 3, 7), ConfigError, 'o.n', 'an integer in [3, 7]', '"4"');
    expectRejects(() => int(Number.NaN, 'o.n'), ConfigError, 'o.n', 'an integer', 'NaN');
    expectRejects(() => int(0, 'o.n', 1), ConfigError, 'o.n', 'an integer ≥ 1', '0');
    expectRejects(
      () => int(9, 'o.n', 1, 8, 'an integer in [1, T=8]'),
      ConfigError,
      'o.n',
      'an integer in [1, T=8]',
      '9',
    );
    expect(int(Number.MIN_SAFE_INTEGER, 'o.n')).toBe(Number.MIN_SAFE_INTEGER);
    expectRejects(() => int(Infinity, 'o.n'), ConfigError, 'o.n', 'an integer', 'Infinity');
  });

  it('positiveInt: 1 yes, 0 no', () => {
    expect(positiveInt(1, 'c.epochs')).toBe(1);
    expectRejects(() => positiveInt(0, 'c.epochs'), ConfigError, 'c.epochs', 'a positive integer', '0');
    expectRejects(() => positiveInt(1.5, 'c.epochs'), ConfigError, 'c.epochs', 'a positive integer', '1.5');
  });

  it('seed: [0, 2^32)', () => {
    expect(seed(0, 'o.seed')).toBe(0);
    expect(seed(2 ** 32 - 1, 'o.seed')).toBe(2 ** 32 - 1);
    expectRejects(() => seed(-1, 'o.seed'), ConfigError, 'o.seed', 'an integer in [0, 2^32)', '-1');
    expectRejects(() => seed(2 ** 32, 'o.seed'), ConfigError, 'o.seed', 'an integer in [0, 2^32)', '4294967296');
  });

  it('powerOfTwo: powers in [lo, hi] only', () => {
    expect(powerOfTwo(2, 'L')).toBe(2);
    expect(powerOfTwo(1 << 16, 'L')).toBe(1 << 16);
    expect(powerOfTwo(8, 'L', 8, 8)).toBe(8);
    expectRejects(() => powerOfTwo(1, 'L'), ConfigError, 'L', 'a power of two in [2, 65536]', '1');
    expectRejects(() => powerOfTwo(1 << 17, 'L'), ConfigError, 'L', 'a power of two in [2, 65536]', '131072');
    expectRejects(() => powerOfTwo(48, 'L'), ConfigError, 'L', 'a power of two in [2, 65536]', '48');
    expectRejects(() => powerOfTwo('8', 'L'), ConfigError, 'L', 'a power of two in [2, 65536]', '"8"');
  });
});

describe('numbers', () => {
  it('finite: any finite number; not ±Infinity, NaN or a string', () => {
    expect(finite(-1e308, 'x')).toBe(-1e308);
    expectRejects(() => finite(Infinity, 'x'), ConfigError, 'x', 'a finite number', 'Infinity');
    expectRejects(() => finite(Number.NaN, 'x'), ConfigError, 'x', 'a finite number', 'NaN');
    expectRejects(() => finite('1', 'x'), ConfigError, 'x', 'a finite number', '"1"');
  });

  it('positive: > 0 (the smallest denormal passes, 0 and Infinity do not)', () => {
    expect(positive(Number.MIN_VALUE, 'c.lr')).toBe(Number.MIN_VALUE);
    expectRejects(() => positive(0, 'c.lr'), ConfigError, 'c.lr', 'a finite positive number', '0');
    expectRejects(() => positive(Infinity, 'c.lr'), ConfigError, 'c.lr', 'a finite positive number', 'Infinity');
  });

  it('nonNegative: ≥ 0', () => {
    expect(nonNegative(0, 'lambda')).toBe(0);
    expectRejects(
      () => nonNegative(-Number.MIN_VALUE, 'lambda'),
      ConfigError,
      'lambda',
      'a finite number ≥ 0',
      '-5e-324',
    );
  });

  it('negative: < 0', () => {
    expect(negative(-Number.MIN_VALUE, 'wDelta')).toBe(-Number.MIN_VALUE);
    expectRejects(() => negative(0, 'wDelta'), ConfigError, 'wDelta', 'a finite negative number', '0');
    expectRejects(() => negative(-Infinity, 'wDelta'), ConfigError, 'wDelta', 'a finite negative number', '-Infinity');
  });

  it('numberIn: [lo, hi] closed, with an optional wording', () => {
    expect(numberIn(0, 'p', 0, 1)).toBe(0);
    expect(numberIn(1, 'p', 0, 1)).toBe(1);
    expectRejects(
      () => numberIn(1 + Number.EPSILON, 'p', 0, 1),
      ConfigError,
      'p',
      'a number in [0, 1]',
      String(1 + Number.EPSILON),
    );
    expectRejects(() => numberIn(-1e-300, 'p', 0, 1), ConfigError, 'p', 'a number in [0, 1]', '-1e-300');
    expectRejects(
      () => numberIn(2, 'c.lrMin', 0, 1, 'a number in [0, lr=1]'),
      ConfigError,
      'c.lrMin',
      'a number in [0, lr=1]',
      '2',
    );
  });

  it('numberWhere: a finite number passing the rule, e.g. (0, 0.1]', () => {
    const rule = (x: number) => x > 0 && x <= 0.1;
    expect(numberWhere(0.1, 'gamma', rule, 'a number in (0, 0.1]')).toBe(0.1);
    expect(numberWhere(Number.MIN_VALUE, 'gamma', rule, 'a number in (0, 0.1]')).toBe(Number.MIN_VALUE);
    expectRejects(
      () => numberWhere(0, 'gamma', rule, 'a number in (0, 0.1]'),
      ConfigError,
      'gamma',
      'a number in (0, 0.1]',
      '0',
    );
    expectRejects(
      () => numberWhere(0.10000000000000002, 'gamma', rule, 'a number in (0, 0.1]'),
      ConfigError,
      'gamma',
      'a number in (0, 0.1]',
      '0.10000000000000002',
    );
    expectRejects(
      () => numberWhere(Number.NaN, 'gamma', () => true, 'anything finite'),
      ConfigError,
      'gamma',
      'anything finite',
      'NaN',
    );
  });
});

describe('choices, keys and shapes of values', () => {
  it('oneOf: one of the listed values (===)', () => {
    expect(oneOf('hard', 'options.setting', ['standard', 'hard'] as const)).toBe('hard');
    expectRejects(
      () => oneOf('medium', 'options.setting', ['standard', 'hard']),
      ConfigError,
      'options.setting',
      "'standard' | 'hard'",
      '"medium"',
    );
    expectRejects(() => oneOf(2, 'k', [1, 3]), ConfigError, 'k', '1 | 3', '2');
    expectRejects(() => oneOf('toString', 'k', ['a']), ConfigError, 'k', "'a'", '"toString"');
  });

  it("ownKey: the table's own keys only, never an inherited name such as __proto__ or constructor", () => {
    const table = { s4d: 1, s6: 2 };
    expect(ownKey('s6', 'mixer', table)).toBe('s6');
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expectRejects(() => ownKey(name, 'mixer', table), ConfigError, 'mixer', 's4d | s6', JSON.stringify(name));
    }
    expectRejects(() => ownKey(1, 'mixer', table), ConfigError, 'mixer', 's4d | s6', '1');
    expectRejects(
      () => ownKey('x', 'options.params', table, 'names among s4d, s6'),
      ConfigError,
      'options.params',
      'names among s4d, s6',
      '"x"',
    );
    // a key stored as an own property is accepted even when it shadows a prototype name
    const parsed = JSON.parse('{"__proto__": 1, "constructor": 2}') as object;
    expect(ownKey('__proto__', 't', parsed)).toBe('__proto__');
    expect(ownKey('constructor', 't', parsed)).toBe('constructor');
  });

  it('object: a plain object; not null, an array, a number or a string', () => {
    const o = { a: 1 };
    expect(object(o, 'options', 'an object {a}')).toBe(o);
    expectRejects(() => object(null, 'options', 'an object {a}'), ConfigError, 'options', 'an object {a}', 'null');
    expectRejects(
      () => object(undefined, 'options', 'an object {a}'),
      ConfigError,
      'options',
      'an object {a}',
      'undefined',
    );
    expectRejects(() => object([1], 'options', 'an object {a}'), ConfigError, 'options', 'an object {a}', '[1]');
    expectRejects(() => object('a', 'options', 'an object {a}'), ConfigError, 'options', 'an object {a}', '"a"');
  });

  it('nonEmptyArray: at least one entry', () => {
    expect(nonEmptyArray([0], 'tHats', 'a non-empty array')).toEqual([0]);
    expectRejects(
      () => nonEmptyArray([], 'tHats', 'a non-empty array'),
      ConfigError,
      'tHats',
      'a non-empty array',
      '[]',
    );
    expectRejects(
      () => nonEmptyArray({ length: 1 }, 'tHats', 'a non-empty array'),
      ConfigError,
      'tHats',
      'a non-empty array',
      '{"length":1}',
    );
  });

  it('bool and fn', () => {
    expect(bool(false, 'flag')).toBe(false);
    expectRejects(() => bool(0, 'flag'), ConfigError, 'flag', 'true | false', '0');
    const f = () => 1;
    expect(fn(f, 'delta')).toBe(f);
    expectRejects(() => fn(1, 'delta'), ConfigError, 'delta', 'a function', 'number');
  });
});

describe('data', () => {
  it('finiteArray / firstNonFinite / allFinite: a ValueError naming the first bad index and the shape', () => {
    const a = Float32Array.of(0, -3.4e38, Number.NaN, Infinity);
    expect(firstNonFinite(a)).toBe(2);
    expect(allFinite(a)).toBe(false);
    expect(allFinite(a.subarray(0, 2))).toBe(true);
    expect(firstNonFinite([])).toBe(-1);
    expect(() => finiteArray(a.subarray(0, 2), 'x')).not.toThrow();
    expectRejects(() => finiteArray(a, 'x'), ValueError, 'x', 'finite values', 'NaN at flat index 2');
    expectRejects(
      () => finiteArray([1, -Infinity], 'u', [1, 2]),
      ValueError,
      'u',
      'finite values',
      '-Infinity at flat index 1 of shape [1,2]',
    );
  });
});
