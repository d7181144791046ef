/**
 * Files written by ssm-core 0.1 (test/fixtures/v0.1: models of every mixer and option, a Transformer and an
 * interrupted trainer checkpoint, with the logits the writing version computed) load unchanged: same
 * parameter names and shapes, the same logits, and — for the Mamba block — the logits of the independent
 * float64 loop of Eq. 14a–14g/15 over the loaded weights.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MambaModel, loadModel, ready, tasks, tf, train } from '../src/index.js';
import { blockRef64 } from './blockReference.js';
import { expectClose } from './helpers.js';

const dir = join(__dirname, 'fixtures', 'v0.1');
const recorded = JSON.parse(readFileSync(join(dir, 'logits.json'), 'utf8')) as {
  tokens: number[][];
  logits: Record<string, number[]>;
};

beforeAll(async () => {
  await ready();
});

describe('checkpoints written by ssm-core 0.1', () => {
  it('covers every model file in the fixture folder', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors') && f !== 'train-checkpoint.safetensors');
    expect(files.map((f) => f.replace('.safetensors', '')).sort()).toEqual(Object.keys(recorded.logits).sort());
  });

  for (const name of Object.keys(recorded.logits)) {
    it(`${name}: loads and reproduces the recorded logits`, async () => {
      const before = tf.memory().numTensors;
      const model = await loadModel(join(dir, `${name}.safetensors`));
      const logits = model.forward(recorded.tokens);
      expectClose(logits.dataSync(), recorded.logits[name], `${name} logits`, 1e-5, 1e-4);
      if (model instanceof MambaModel)
        expectClose(logits.dataSync(), blockRef64(model, recorded.tokens), `${name} vs float64 block`, 1e-5, 1e-4);
      logits.dispose();
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('an interrupted 0.1 training run resumes from its checkpoint at the epoch it stopped', async () => {
    const work = mkdtempSync(join(tmpdir(), 'ssm-compat-'));
    const ckpt = join(work, 'checkpoint.safetensors');
    copyFileSync(join(dir, 'train-checkpoint.safetensors'), ckpt);
    const data = (n: number, seed: number) => tasks.keepNth({ n: 2, vocabSize: 8, T: 6, numSamples: n, seed });
    const m = new MambaModel({
      vocabSize: 8,
      dModel: 6,
      dState: 3,
      conv: false,
      gate: false,
      positionalEncoding: true,
      seed: 5,
    });
    const r = await train(
      m,
      { train: data(64, 1), val: data(16, 2) },
      { epochs: 3, stepsPerEpoch: 4, batchSize: 8, lr: 0.01, lrMin: 0.001, seed: 0 },
      { checkpointPath: ckpt, resume: true, progress: 'off' },
    );
    expect(r.resumedFrom?.epoch).toBe(2);
    expect(r.epochs).toBe(3);
    m.dispose();
  });
});
