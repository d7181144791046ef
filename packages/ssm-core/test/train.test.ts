/**
 * The trainer: it learns, its Adam is torch's Adam, evaluation counts like a brute-force loop,
 * and an interrupted run resumed from its checkpoint ends bit-for-bit where an uninterrupted
 * run ends. Checkpoints that do not match are refused without touching the model.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  ConfigError,
  MambaModel,
  ready,
  resetFlag,
  Rng,
  setFlag,
  tasks,
  tf,
  type MambaConfig,
} from '../src/index.js';
import { Adam, cosineLr } from '../src/train/adam.js';
import { evaluate, train, type TrainConfig } from '../src/train/trainer.js';
import { expectClose, read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

const dir = mkdtempSync(join(tmpdir(), 'ssm-train-'));
const small = (seed: number, numSamples = 256) => tasks.keepNth({ n: 3, vocabSize: 16, T: 10, numSamples, seed });
const cfg: MambaConfig = {
  vocabSize: 16,
  dModel: 16,
  dState: 4,
  conv: false,
  gate: false,
  positionalEncoding: true,
  seed: 4,
};
const tc: TrainConfig = { epochs: 3, stepsPerEpoch: 12, batchSize: 8, lr: 0.02, lrMin: 1e-4, seed: 9 };

describe('Adam and the schedule', () => {
  it('Adam equals the textbook update computed in float64', () => {
    const p = { w: tf.variable(tf.tensor1d([0.5, -1, 2])) };
    const adam = new Adam(p);
    const ref = { w: [0.5, -1, 2], m: [0, 0, 0], v: [0, 0, 0] };
    for (let t = 1; t <= 5; t++) {
      const g = [0.1 * t, -0.3, 1 / t];
      const lr = 0.01 * t;
      adam.apply({ w: tf.tensor1d(g) }, lr);
      for (let i = 0; i < 3; i++) {
        ref.m[i] = 0.9 * ref.m[i] + 0.1 * g[i];
        ref.v[i] = 0.999 * ref.v[i] + 0.001 * g[i] * g[i];
        ref.w[i] -= (lr * (ref.m[i] / (1 - 0.9 ** t))) / (Math.sqrt(ref.v[i] / (1 - 0.999 ** t)) + 1e-8);
      }
    }
    read(p.w).forEach((v, i) => expect(v).toBeCloseTo(ref.w[i], 5));
    adam.dispose();
    p.w.dispose();
  });

  for (const host of [true, false]) {
    it(`Adam (${host ? 'one typed-array pass per parameter' : 'tf ops'}) follows torch's formula computed in float64`, () => {
      setFlag('HOST_KERNELS', host);
      try {
        const r = new Rng(11);
        const shapes: Record<string, number[]> = { a: [3, 4], b: [5], c: [2, 2, 2] };
        const ref: Record<string, { p: number[]; m: number[]; v: number[] }> = {};
        const params: Record<string, tf.Variable> = {};
        for (const [k, shape] of Object.entries(shapes)) {
          const p0 = Array.from({ length: shape.reduce((a, x) => a * x, 1) }, () => Math.fround(r.normal()));
          params[k] = tf.variable(tf.tensor(p0, shape));
          ref[k] = { p: p0, m: p0.map(() => 0), v: p0.map(() => 0) };
        }
        // c's data is shared with another live tensor: it must not be written in place (the alias keeps its values)
        const alias = params.c.reshape([8]);
        const aliasBefore = Array.from(read(alias));
        const [b1, b2, eps] = [0.8, 0.99, 1e-6];
        const adam = new Adam(params, { beta1: b1, beta2: b2, epsilon: eps });
        const before = tf.memory().numTensors;
        for (let t = 1; t <= 8; t++) {
          const lr = 0.05 / t;
          const grads: Record<string, tf.Tensor> = {};
          for (const [k, shape] of Object.entries(shapes)) {
            const g = ref[k].p.map(() => Math.fround(r.normal() * 0.3));
            grads[k] = tf.tensor(g, shape);
            const e = ref[k];
            // torch.optim.Adam (single-tensor): m.mul_(β₁).add_(g, 1−β₁); v.mul_(β₂).addcmul_(g, g, 1−β₂);
            // denom = √v / √(1−β₂ᵗ) + ε; p.addcdiv_(m, denom, −lr/(1−β₁ᵗ))
            for (let i = 0; i < g.length; i++) {
              e.m[i] = b1 * e.m[i] + (1 - b1) * g[i];
              e.v[i] = b2 * e.v[i] + (1 - b2) * g[i] * g[i];
              e.p[i] -= (lr / (1 - b1 ** t)) * (e.m[i] / (Math.sqrt(e.v[i]) / Math.sqrt(1 - b2 ** t) + eps));
            }
          }
          adam.apply(grads, lr);
          tf.dispose(Object.values(grads));
          expect(tf.memory().numTensors).toBe(before);
        }
        for (const k of Object.keys(shapes)) {
          expectClose(read(params[k]), ref[k].p, `p ${k}`, 1e-6, 1e-5);
          expectClose(read(adam.m[k]), ref[k].m, `m ${k}`, 1e-7, 1e-5);
          expectClose(read(adam.v[k]), ref[k].v, `v ${k}`, 1e-9, 1e-5);
        }
        expect(adam.step).toBe(8);
        expect(Array.from(read(alias))).toEqual(aliasBefore);
        adam.dispose();
        tf.dispose([alias, ...Object.values(params)]);
      } finally {
        resetFlag('HOST_KERNELS');
      }
    });
  }

  it('cosine annealing goes from η to η_min through their mean', () => {
    expect(cosineLr(0, 100, 0.03, 1e-6)).toBe(0.03);
    expect(cosineLr(50, 100, 0.03, 1e-6)).toBeCloseTo((0.03 + 1e-6) / 2, 12);
    expect(cosineLr(100, 100, 0.03, 1e-6)).toBeCloseTo(1e-6, 15);
  });
});

describe('evaluate', () => {
  it('counts exactly the non-ignored positions whose argmax is the target', () => {
    const m = new MambaModel(cfg);
    const d = small(3, 20);
    const r = evaluate(m, d, 7);
    const logits = read(m.forward(tf.tensor2d(d.inputs, [20, 10], 'int32')));
    let correct = 0,
      count = 0,
      nll = 0;
    for (let i = 0; i < 200; i++) {
      if (d.targets[i] < 0) continue;
      const row = logits.subarray(i * 16, i * 16 + 16);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      nll += lse - row[d.targets[i]];
      correct += row.indexOf(max) === d.targets[i] ? 1 : 0;
      count++;
    }
    expect([r.correct, r.count]).toEqual([correct, count]);
    expect(r.loss).toBeCloseTo(nll / count, 4);
    m.dispose();
  });
});

describe('train', () => {
  it('learns KEEP n-TH with PE (small) and leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    const m = new MambaModel(cfg);
    const r = await train(
      m,
      { train: small(1, 4096), val: small(2, 256) },
      { epochs: 12, stepsPerEpoch: 50, batchSize: 32, lr: 0.03, lrMin: 1e-5, seed: 0, stopValAccuracy: 0.995 },
      { progress: 'off' },
    );
    expect(r.final!.valAccuracy).toBeGreaterThanOrEqual(0.99);
    expect(r.stopReason).toBe('valAccuracy');
    expect(evaluate(m, small(5, 512)).accuracy).toBeGreaterThanOrEqual(0.98);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an interrupted run resumed from its checkpoint ends bit-for-bit like an uninterrupted one', async () => {
    const data = { train: small(1), val: small(2, 64) };
    const full = new MambaModel(cfg);
    const a = await train(full, data, tc, {
      checkpointPath: join(dir, 'a.safetensors'),
      metricsPath: join(dir, 'a.jsonl'),
      progress: 'off',
    });

    const ckpt = join(dir, 'b.safetensors');
    const metrics = join(dir, 'b.jsonl');
    for (const stopAt of [17, 24, 31]) {
      // stop mid-epoch 2, at the end of epoch 2, and mid-epoch 3 — each time in a fresh model object
      const m = new MambaModel(cfg);
      const ctl = new AbortController();
      const r = await train(m, data, tc, {
        checkpointPath: ckpt,
        metricsPath: metrics,
        resume: true,
        progress: 'off',
        signal: ctl.signal,
        onStep: (s) => s.step === stopAt && ctl.abort(),
      });
      expect(r.stopReason).toBe('interrupted');
      expect(r.steps).toBe(stopAt);
      m.dispose();
    }
    const resumed = new MambaModel({ ...cfg });
    const b = await train(resumed, data, tc, {
      checkpointPath: ckpt,
      metricsPath: metrics,
      resume: true,
      progress: 'off',
    });
    expect(b.resumedFrom).toEqual({ epoch: 2, step: 31 });
    expect(b.stopReason).toBe(a.stopReason);
    const strip = (h: typeof a.history) => h.map(({ seconds: _s, ...rest }) => rest);
    expect(strip(b.history)).toEqual(strip(a.history));
    for (const n of full.paramNames())
      expect(Array.from(read(resumed.getParam(n)))).toEqual(Array.from(read(full.getParam(n))));
    const lines = readFileSync(metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(strip(lines)).toEqual(strip(a.history)); // one line per epoch, none lost or repeated
    // resuming a finished run is a no-op
    const again = await train(resumed, data, tc, { checkpointPath: ckpt, resume: true, progress: 'off' });
    expect(again.steps).toBe(b.steps);
    full.dispose();
    resumed.dispose();
  });

  it('refuses a checkpoint made with other options, data or model, and changes nothing', async () => {
    const data = { train: small(1), val: small(2, 64) };
    const ckpt = join(dir, 'c.safetensors');
    const m = new MambaModel(cfg);
    await train(m, data, { ...tc, epochs: 1 }, { checkpointPath: ckpt, progress: 'off' });
    const fresh = new MambaModel(cfg);
    const w0 = read(fresh.getParam('mixer.A_log')).slice();
    await expect(
      train(fresh, data, { ...tc, epochs: 1, batchSize: 4 }, { checkpointPath: ckpt, resume: true, progress: 'off' }),
    ).rejects.toThrow(/trainConfig/);
    await expect(
      train(
        fresh,
        { ...data, train: small(7) },
        { ...tc, epochs: 1 },
        { checkpointPath: ckpt, resume: true, progress: 'off' },
      ),
    ).rejects.toThrow(/data/);
    const other = new MambaModel({ ...cfg, dState: 5 });
    await expect(
      train(other, data, { ...tc, epochs: 1 }, { checkpointPath: ckpt, resume: true, progress: 'off' }),
    ).rejects.toThrow(CheckpointError);
    const bytes = readFileSync(ckpt);
    writeFileSync(ckpt, bytes.subarray(0, bytes.length - 100));
    await expect(
      train(fresh, data, { ...tc, epochs: 1 }, { checkpointPath: ckpt, resume: true, progress: 'off' }),
    ).rejects.toThrow(CheckpointError);
    expect(Array.from(read(fresh.getParam('mixer.A_log')))).toEqual(Array.from(w0));
    [m, fresh, other].forEach((x) => x.dispose());
  });

  it('training and evaluating through headInput + linearCrossEntropy matches forward + maskedCrossEntropy', async () => {
    const data = { train: small(21), val: small(22, 64) };
    const fusedModel = new MambaModel(cfg);
    const plainModel = new MambaModel(cfg);
    // the same model seen through forward() only: the trainer's op-by-op path
    const plain = new Proxy(plainModel, {
      get: (target, key) => (key === 'headInput' ? undefined : Reflect.get(target, key, target)),
    }) as MambaModel;
    expect(plain.headInput).toBeUndefined();
    const e0 = [evaluate(fusedModel, data.val, 24), evaluate(plain, data.val, 24)];
    expect(e0[0].count).toBe(e0[1].count);
    expect(e0[0].correct).toBe(e0[1].correct);
    expect(e0[0].loss).toBeCloseTo(e0[1].loss, 5);
    const losses: number[][] = [[], []];
    const config = { ...tc, epochs: 1 };
    await train(fusedModel, data, config, { progress: 'off', onStep: (s) => losses[0].push(s.loss) });
    await train(plain, data, config, { progress: 'off', onStep: (s) => losses[1].push(s.loss) });
    expectClose(losses[0], losses[1], 'loss curve', 1e-4, 1e-4);
    for (const name of fusedModel.paramNames())
      expectClose(read(fusedModel.params[name]), read(plainModel.params[name]), name, 1e-4, 1e-3);
    fusedModel.dispose();
    plainModel.dispose();
  });

  it('stops on the wall-clock budget and on the validation-loss threshold', async () => {
    const data = { train: small(1), val: small(2, 64) };
    const m = new MambaModel(cfg);
    const t = await train(m, data, { ...tc, epochs: 1000, maxSeconds: 0.5 }, { progress: 'off' });
    expect(t.stopReason).toBe('time');
    expect(t.epochs).toBeLessThan(1000);
    const l = await train(m, data, { ...tc, epochs: 5, stopValLoss: 100 }, { progress: 'off' });
    expect([l.stopReason, l.epochs]).toEqual(['valLoss', 1]);
    m.dispose();
  });

  it('rejects bad options and data that do not fit the model, naming them', async () => {
    const m = new MambaModel(cfg);
    const data = { train: small(1), val: small(2, 64) };
    await expect(train(m, data, { ...tc, batchSize: 0 })).rejects.toThrow(/trainConfig.batchSize/);
    await expect(train(m, data, { ...tc, lrMin: 1 })).rejects.toThrow(/trainConfig.lrMin/);
    const wide = tasks.keepNth({ n: 3, vocabSize: 32, T: 10, numSamples: 8, seed: 1 });
    await expect(train(m, { train: wide, val: wide }, tc)).rejects.toThrow(ConfigError);
    m.dispose();
  });
});
