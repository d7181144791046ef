/**
 * Memory bounds: sizes whose estimate exceeds the budget (flag MEMORY_BUDGET, the wasm heap for tensors) are
 * refused with a MemoryError naming the option and the bytes, within milliseconds and before anything is
 * allocated; sizes inside the budget run as before.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  MambaModel,
  MemoryError,
  TransformerModel,
  WASM_HEAP_BYTES,
  constructions,
  createModel,
  forwardBytes,
  getFlag,
  maskedCrossEntropy,
  memoryBudget,
  ready,
  resetFlags,
  setFlag,
  tasks,
  tf,
  train,
  trainingMemory,
} from '../src/index.js';

beforeAll(async () => {
  await ready();
});

afterEach(() => {
  resetFlags();
  delete process.env.SSM_MEMORY_BUDGET;
});

const GiB = 2 ** 30;

/** Run `f`, expect a MemoryError, and return it with the milliseconds it took. */
function refused(f: () => unknown): { e: MemoryError; ms: number } {
  const t0 = performance.now();
  try {
    f();
  } catch (e) {
    const ms = performance.now() - t0;
    expect(e).toBeInstanceOf(MemoryError);
    return { e: e as MemoryError, ms };
  }
  throw new Error('expected a MemoryError');
}

/** The Tab. 1 Mamba+PE block at the CLI's default sizes (no conv, no gate). */
const tab1 = () =>
  new MambaModel({ vocabSize: 128, dModel: 32, dState: 8, conv: false, gate: false, positionalEncoding: true });

describe('flag MEMORY_BUDGET', () => {
  it('defaults to the memory available to the process; env SSM_MEMORY_BUDGET and setFlag override it', () => {
    const avail = (process as unknown as { availableMemory: () => number }).availableMemory();
    expect(Math.abs(getFlag('MEMORY_BUDGET') - avail)).toBeLessThan(0.25 * avail); // free memory moves a little
    process.env.SSM_MEMORY_BUDGET = '512MiB';
    expect(getFlag('MEMORY_BUDGET')).toBe(512 * 2 ** 20);
    expect(memoryBudget()).toEqual({ bytes: 512 * 2 ** 20, limitName: 'env SSM_MEMORY_BUDGET' });
    setFlag('MEMORY_BUDGET', 3e9);
    expect(memoryBudget().bytes).toBe(3e9);
    expect(memoryBudget().limitName).toBe('flag MEMORY_BUDGET');
    process.env.SSM_MEMORY_BUDGET = 'lots';
    resetFlags();
    expect(() => getFlag('MEMORY_BUDGET')).toThrow(ConfigError);
    expect(() => getFlag('MEMORY_BUDGET')).toThrow(/SSM_MEMORY_BUDGET: expected a positive number of bytes/);
    expect(() => setFlag('MEMORY_BUDGET', -1)).toThrow(/flag MEMORY_BUDGET: expected a positive number of bytes/);
  });

  it('holds tensors on the wasm backend to its 2 GiB heap as well', () => {
    setFlag('MEMORY_BUDGET', Infinity);
    expect(tf.getBackend()).toBe('wasm');
    expect(WASM_HEAP_BYTES).toBe(2 * GiB);
    expect(memoryBudget(true)).toEqual({ bytes: 2 * GiB, limitName: "the wasm backend's tensor heap" });
    expect(memoryBudget(false).bytes).toBe(Infinity);
    setFlag('MEMORY_BUDGET', GiB);
    expect(memoryBudget(true).bytes).toBe(GiB);
  });
});

describe('forward on a huge input', () => {
  it('refuses tokens [1, 2e7] at once, naming tokens and the bytes (the issue: 10 s, 5.3 GB, then a RangeError)', () => {
    const m = tab1();
    const tok = tf.zeros([1, 2e7], 'int32');
    try {
      const { e, ms } = refused(() => m.forward(tok));
      // embedding x and output y [d = 32] and the logits [|V| = 128] per position, float32
      expect(e.bytes).toBe(4 * 2e7 * (32 + 32 + 128));
      expect(e.budget).toBe(Math.min(getFlag('MEMORY_BUDGET'), 2 * GiB));
      expect(e.argument).toBe('tokens');
      expect(e.message).toMatch(/^tokens: expected a size whose memory fits in /);
      expect(e.message).toMatch(
        /got shape \[1,20000000\] \(the forward pass of this mamba model needs at least 14\.3 GiB; pass fewer rows/,
      );
      expect(ms).toBeLessThan(1000);
      expect(() => m.logitsAt(tok, new Int32Array([0]))).toThrow(MemoryError);
      expect(() => m.forwardWithInternals(tok)).toThrow(MemoryError);
    } finally {
      tok.dispose();
      m.dispose();
    }
  });

  it('holds a forward pass to the budget set, and counts the states a training pass keeps', () => {
    const m = tab1();
    const small = tf.zeros([1, 100], 'int32');
    const big = tf.zeros([4, 1000], 'int32');
    try {
      setFlag('MEMORY_BUDGET', 2 ** 20);
      const before = tf.memory().numTensors;
      const { e } = refused(() => m.forward(big));
      expect(e.bytes).toBe(4 * 4000 * 192);
      expect(e.budget).toBe(2 ** 20);
      expect(e.message).toContain('(flag MEMORY_BUDGET)');
      expect(tf.memory().numTensors).toBe(before); // nothing allocated, nothing leaked
      const y = m.forward(small); // 76.8 KB
      expect(y.shape).toEqual([1, 100, 128]);
      y.dispose();
      // under a gradient tape the d·N states count too: 100 · (192 + 32·8) floats = 179.2 KB
      setFlag('MEMORY_BUDGET', 150_000);
      const t = refused(() =>
        tf.variableGrads(() => maskedCrossEntropy(m.forward(small), tf.zeros([1, 100], 'int32'))),
      );
      expect(t.e.bytes).toBe(4 * 100 * (192 + 32 * 8));
      expect(t.e.message).toContain('the training forward pass');
      expect(forwardBytes('mamba', m.config, 1, 100, true)).toBe(t.e.bytes);
    } finally {
      tf.dispose([small, big]);
      m.dispose();
    }
  });

  it("counts the Transformer's attention rows (quadratic in L)", () => {
    const m = new TransformerModel({ vocabSize: 16, dModel: 8, maxLen: 4096, numHeads: 2 });
    const tok = tf.zeros([64, 4096], 'int32');
    try {
      setFlag('MEMORY_BUDGET', GiB);
      const { e } = refused(() => m.forward(tok));
      expect(e.bytes).toBe(4 * 64 * 4096 * (8 + 8 + 16 + 2 * 4096));
    } finally {
      tok.dispose();
      m.dispose();
    }
  });
});

describe('models, datasets and training runs too large for the budget', () => {
  it('refuses a model whose weights would not fit before allocating any (the issue: --d 3000000, untyped)', () => {
    const { e, ms } = refused(() => createModel({ kind: 'mamba', vocabSize: 128, dModel: 3e6, dState: 8 }));
    expect(e.argument).toBe('config');
    expect(e.bytes).toBeGreaterThan(4 * 9e12); // the gate alone is d × d
    expect(e.message).toMatch(
      /got \{vocabSize 128, numClasses 128, dModel 3000000, dState 8, .*largest: mixer\.gate\.weight \[3000000,3000000\]/,
    );
    expect(ms).toBeLessThan(1000);
    refused(() => createModel({ kind: 'mamba', vocabSize: 128, dModel: 32, dState: 1e8 })); // --N 100000000
  });

  it('refuses a dataset whose arrays would not fit (the issue: --T 10000000, OOM-killed after 9 s)', () => {
    const { e, ms } = refused(() => tasks.keepNth({ n: 5, vocabSize: 128, T: 1e7, numSamples: 1e5, seed: 1 }));
    expect(e.argument).toBe('options.numSamples, options.T');
    expect(e.bytes).toBe(8 * 1e12);
    expect(e.message).toContain('got numSamples 100000 × T 10000000');
    expect(ms).toBeLessThan(1000);
    refused(() => tasks.mqar({ numKeys: 2, vocabSize: 16, T: 1e7, numSamples: 1e5, seed: 1 }));
    refused(() => tasks.inductionHeads({ vocabSize: 4, T: 1e7, numSamples: 1e5, seed: 1 }));
  });

  it('refuses a training run whose batch would not fit, naming trainConfig.batchSize (the issue: --batch 2000000)', async () => {
    const m = tab1();
    const data = {
      train: tasks.keepNth({ n: 2, vocabSize: 128, T: 50, numSamples: 64, seed: 1 }),
      val: tasks.keepNth({ n: 2, vocabSize: 128, T: 50, numSamples: 16, seed: 2 }),
    };
    try {
      const cfg = { epochs: 1, batchSize: 2e6, lr: 0.01, lrMin: 0, seed: 0, stepsPerEpoch: 1 };
      const t0 = performance.now();
      const err = await train(m, data, cfg, { progress: 'off' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MemoryError);
      const e = err as MemoryError;
      expect(e.argument).toBe('trainConfig.batchSize');
      const expected = trainingMemory('mamba', m.config, m.numParams(), 50, 2e6, 16);
      // weights + gradients + Adam's m and v, and 2e6 rows · 50 positions · (192 + 32·8) floats
      expect(expected.total).toBe(16 * m.numParams() + 4 * 2e6 * 50 * (192 + 256));
      expect(e.bytes).toBe(expected.total);
      expect(performance.now() - t0).toBeLessThan(1000);
      // the default batch trains
      const r = await train(m, data, { ...cfg, batchSize: 16 }, { progress: 'off' });
      expect(r.steps).toBe(1);
    } finally {
      m.dispose();
    }
  });

  it('constructions.keepNth has the weight cap of the other builders (the issue: vocabSize 40000 ran past a minute)', () => {
    const t0 = performance.now();
    expect(() => constructions.keepNth({ n: 2, vocabSize: 40000 })).toThrow(ConfigError);
    expect(() => constructions.keepNth({ n: 2, vocabSize: 40000 })).toThrow(
      /options\.vocabSize: expected sizes giving at most 2\^26 weights, got \d+ weights \(d = 40001, N = 1\)/,
    );
    expect(performance.now() - t0).toBeLessThan(1000);
    const c = constructions.keepNth({ n: 2, vocabSize: 4 }); // small sizes build as before
    expect(c.predict([[3, 1, 0, 2]])[0].slice(1)).toEqual([1, 1, 1]);
    c.dispose();
  });
});
