/**
 * Untrusted model and checkpoint files: a file is checked (header, shapes, the parameter count its config
 * implies) before it costs anything, and refused with a CheckpointError naming what is wrong.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  ConfigError,
  FileError,
  MambaModel,
  TransformerModel,
  configFromSafetensors,
  decodeSafetensors,
  encodeSafetensors,
  loadModel,
  modelFromSafetensors,
  ready,
  readFileChecked,
  readSafetensorsHeader,
  resetFlag,
  setFlag,
  tasks,
  tf,
  train,
} from '../src/index.js';

beforeAll(async () => {
  await ready();
});

const dir = mkdtempSync(join(tmpdir(), 'ssm-untrusted-'));

/** A safetensors file with the header text `json` (taken as is) followed by `dataBytes` zero bytes. */
function rawFile(json: string, dataBytes = 0): Uint8Array {
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  return out;
}

const hugeConfig = JSON.stringify({ vocabSize: 20000, dModel: 20000, dState: 4 });
const hugeFile = () => rawFile(JSON.stringify({ __metadata__: { model: 'mamba', config: hugeConfig } }));

describe('a model file is checked before anything is allocated', () => {
  it('refuses a tiny file whose config claims vocabSize 20000 × dModel 20000, in well under a second', async () => {
    const bytes = hugeFile();
    expect(bytes.length).toBeLessThan(200);
    const path = join(dir, 'huge.safetensors');
    writeFileSync(path, bytes);
    const before = tf.memory().numTensors;
    const t0 = performance.now();
    let err: unknown;
    try {
      await loadModel(path);
    } catch (e) {
      err = e;
    }
    const seconds = (performance.now() - t0) / 1000;
    expect(err).toBeInstanceOf(CheckpointError);
    expect(String(err)).toMatch(/vocabSize 20000/);
    expect(String(err)).toMatch(/dModel 20000/);
    expect(String(err)).toMatch(/MAX_PARAMS/);
    expect(String(err)).toMatch(/got 1250420000 parameters/);
    console.log(`huge-config file refused in ${(seconds * 1000).toFixed(1)} ms`);
    expect(seconds).toBeLessThan(1);
    expect(tf.memory().numTensors).toBe(before);
    for (const f of [() => modelFromSafetensors(bytes), () => MambaModel.fromSafetensors(bytes)])
      expect(f).toThrow(CheckpointError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a Transformer file whose config implies too many parameters, before building it', () => {
    const config = JSON.stringify({ vocabSize: 30000, dModel: 30000, maxLen: 8 });
    const bytes = rawFile(JSON.stringify({ __metadata__: { model: 'transformer', config } }));
    const before = tf.memory().numTensors;
    expect(() => TransformerModel.fromSafetensors(bytes)).toThrow(/MAX_PARAMS/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a file lacking a parameter of its config, or with one of the wrong shape, before building', () => {
    const m = new MambaModel({ vocabSize: 5, dModel: 4, dState: 2 });
    const good = m.toSafetensors();
    const { tensors, metadata } = decodeSafetensors(good);
    m.dispose();
    const before = tf.memory().numTensors;
    const rest = { ...tensors };
    delete rest['lm_head.bias'];
    expect(() => modelFromSafetensors(encodeSafetensors(rest, metadata))).toThrow(/missing \[lm_head\.bias\]/);
    const wrong = { ...tensors, 'lm_head.bias': { shape: [1, 5], data: tensors['lm_head.bias'].data } };
    expect(() => modelFromSafetensors(encodeSafetensors(wrong, metadata))).toThrow(/lm_head\.bias.*\[5\]/s);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('safetensors headers are read with own, unique keys only', () => {
  const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
  const cases: [string, string, RegExp][] = [
    ['a __proto__ tensor', `{"__proto__":${entry}}`, /__proto__/],
    ['a constructor tensor', `{"constructor":${entry}}`, /constructor/],
    [
      'a __proto__ key inside an entry',
      `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"__proto__":{}}}`,
      /__proto__/,
    ],
    ['a duplicate tensor name', `{"a":${entry},"a":${entry}}`, /duplicate keys.*"a" twice/],
    [
      'a duplicate key in an entry',
      `{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`,
      /"dtype" twice/,
    ],
    ['a duplicate __metadata__', `{"__metadata__":{},"__metadata__":{},"a":${entry}}`, /__metadata__" twice/],
    ['an inherited dtype', `{"a":{"shape":[1],"data_offsets":[0,4]}}`, /dtype/],
    ['a non-string metadata value', `{"__metadata__":{"config":{}},"a":${entry}}`, /__metadata__\.config.*a string/],
    ['a fractional shape', `{"a":{"dtype":"F32","shape":[0.5],"data_offsets":[0,4]}}`, /shape/],
    ['offsets past the end', `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, /data_offsets/],
    ['three offsets', `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, /data_offsets/],
  ];
  for (const [what, json, msg] of cases) {
    it(`refuses ${what}`, () => {
      const bytes = rawFile(json, 4);
      expect(() => readSafetensorsHeader(bytes, 'f')).toThrow(CheckpointError);
      expect(() => readSafetensorsHeader(bytes, 'f')).toThrow(msg);
      expect(() => decodeSafetensors(bytes, 'f')).toThrow(CheckpointError);
    });
  }

  it('accepts a duplicate-looking key in different objects and escaped quotes in strings', () => {
    const json = `{"__metadata__":{"a":"x\\"y","b":"{\\"a\\":1}"},"a":${entry}}`;
    const h = readSafetensorsHeader(rawFile(json, 4), 'f');
    expect(Object.keys(h.entries)).toEqual(['a']);
    expect(h.metadata).toEqual({ a: 'x"y', b: '{"a":1}' });
  });

  it('refuses a model config naming an inherited mixer (__proto__, toString) with a ConfigError, not a TypeError', () => {
    for (const mixer of ['__proto__', 'toString']) {
      const config = JSON.stringify({ vocabSize: 4, dModel: 4, dState: 2, mixer });
      const bytes = rawFile(JSON.stringify({ __metadata__: { model: 'mamba', config } }));
      expect(() => modelFromSafetensors(bytes, 'f')).toThrow(ConfigError);
      expect(() => modelFromSafetensors(bytes, 'f')).toThrow(/config\.mixer/);
    }
  });

  it('refuses a model config with __proto__, constructor or a duplicate key', () => {
    for (const config of [
      '{"vocabSize":4,"vocabSize":5,"dModel":4,"dState":2}',
      '{"__proto__":{"vocabSize":5}}',
      '{"constructor":1}',
    ]) {
      const bytes = rawFile(JSON.stringify({ __metadata__: { model: 'mamba', config } }));
      expect(() => configFromSafetensors(bytes, 'f')).toThrow(CheckpointError);
      expect(() => modelFromSafetensors(bytes, 'f')).toThrow(/__metadata__\.config/);
    }
  });
});

describe('files are read whole only when regular and below a size cap', () => {
  const fifo = join(dir, 'pipe.safetensors');
  execFileSync('mkfifo', [fifo]);
  const zero = join(dir, 'zero.safetensors');
  symlinkSync('/dev/zero', zero);
  const sub = join(dir, 'a-directory.safetensors');
  mkdirSync(sub);

  const refusedFast = async (p: Promise<unknown>, msg: RegExp) => {
    const t0 = performance.now();
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(FileError);
    expect(String(err)).toMatch(msg);
    expect(performance.now() - t0).toBeLessThan(1000);
  };

  it('refuses a FIFO within a second (no writer ever opens it)', async () => {
    await refusedFast(
      readFileChecked(fifo, { maxBytes: 1e6 }),
      /pipe\.safetensors: expected a regular file, got a FIFO/,
    );
    await refusedFast(loadModel(fifo), /expected a regular model file, got a FIFO/);
  });

  it('refuses a symlink to /dev/zero (judged by its target, never read)', async () => {
    await refusedFast(loadModel(zero), /zero\.safetensors: expected a regular model file, got a character device/);
  });

  it('refuses a directory', async () => {
    await refusedFast(
      readFileChecked(sub, { maxBytes: 1e6, what: 'sweep spec' }),
      /expected a regular sweep spec, got a directory/,
    );
  });

  it('refuses a file above the cap from its size, by option or by the MAX_FILE_BYTES flag', async () => {
    const big = join(dir, 'big.safetensors');
    writeFileSync(big, new Uint8Array(4096));
    await refusedFast(readFileChecked(big, { maxBytes: 4095 }), /at most 4095 bytes \(4\.0 KiB\), got 4096 bytes/);
    setFlag('MAX_FILE_BYTES', 1000);
    try {
      await refusedFast(loadModel(big), /at most 1000 B, got 4096 bytes.*MAX_FILE_BYTES/);
    } finally {
      resetFlag('MAX_FILE_BYTES');
    }
    expect((await readFileChecked(big, { maxBytes: 4096 })).length).toBe(4096);
  });

  it('reads a regular file through a symlink, and passes ENOENT on unchanged', async () => {
    const m = new MambaModel({ vocabSize: 5, dModel: 4, dState: 2 });
    const path = join(dir, 'ok.safetensors');
    writeFileSync(path, m.toSafetensors());
    const link = join(dir, 'link.safetensors');
    symlinkSync(path, link);
    const loaded = await loadModel(link);
    expect(loaded.numParams()).toBe(m.numParams());
    loaded.dispose();
    m.dispose();
    await expect(readFileChecked(join(dir, 'missing'), { maxBytes: 1e6 })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a trainer checkpoint is restored all or nothing', () => {
  const data = (n: number, seed: number) => tasks.keepNth({ n: 2, vocabSize: 8, T: 6, numSamples: n, seed });
  const sets = { train: data(32, 1), val: data(8, 2) };
  const config = { epochs: 3, stepsPerEpoch: 2, batchSize: 8, lr: 0.01, lrMin: 0.001, seed: 0 };
  const newModel = () => new MambaModel({ vocabSize: 8, dModel: 6, dState: 3, conv: false, seed: 5 });
  const ckptDir = mkdtempSync(join(tmpdir(), 'ssm-restore-'));
  let good: { tensors: Record<string, { shape: number[]; data: Float32Array }>; metadata: Record<string, string> };

  beforeAll(async () => {
    const path = join(ckptDir, 'good.safetensors');
    const m = newModel();
    const ctl = new AbortController();
    const r = await train(m, sets, config, {
      checkpointPath: path,
      progress: 'off',
      signal: ctl.signal,
      onEpochEnd: () => ctl.abort(),
    });
    expect(r.stopReason).toBe('interrupted');
    m.dispose();
    good = decodeSafetensors(readFileSync(path));
    expect(JSON.parse(good.metadata.trainer).epoch).toBe(1);
  });

  /** Resume from `good` changed by `edit` into a fresh model: the error thrown, if any, after checking that it left every weight bit-identical. */
  async function resumeFrom(edit: (t: typeof good.tensors, state: Record<string, unknown>) => void): Promise<unknown> {
    const tensors = Object.fromEntries(
      Object.entries(good.tensors).map(([k, v]) => [k, { shape: [...v.shape], data: v.data.slice() }]),
    );
    const state = JSON.parse(good.metadata.trainer) as Record<string, unknown>;
    edit(tensors, state);
    const path = join(ckptDir, `bad-${Math.random().toString(36).slice(2)}.safetensors`);
    writeFileSync(path, encodeSafetensors(tensors, { ...good.metadata, trainer: JSON.stringify(state) }));
    const m = newModel();
    const before = Object.fromEntries(
      Object.entries(m.params).map(([k, v]) => [k, (v.dataSync() as Float32Array).slice()]),
    );
    let err: unknown;
    try {
      await train(m, sets, config, { checkpointPath: path, resume: true, progress: 'off' });
    } catch (e) {
      err = e;
    }
    if (err !== undefined)
      for (const [k, v] of Object.entries(m.params))
        expect(Buffer.from((v.dataSync() as Float32Array).buffer).equals(Buffer.from(before[k].buffer)), k).toBe(true);
    m.dispose();
    return err;
  }

  const name = 'mixer.A_log';
  const cases: [string, (t: typeof good.tensors, s: Record<string, unknown>) => void, RegExp][] = [
    [
      'NaN in adam.v.*',
      (t) => (t[`adam.v.${name}`].data[0] = NaN),
      /tensor "adam\.v\.mixer\.A_log": expected finite values, got NaN/,
    ],
    [
      '+Infinity in adam.m.*',
      (t) => (t[`adam.m.${name}`].data[1] = Infinity),
      /"adam\.m\.mixer\.A_log": expected finite values, got Infinity/,
    ],
    [
      'a negative adam.v.*',
      (t) => (t[`adam.v.${name}`].data[0] = -1),
      /"adam\.v\.mixer\.A_log": expected non-negative values/,
    ],
    [
      'a wrong-shaped adam.m.*',
      (t) => (t[`adam.m.${name}`].shape = [...t[`adam.m.${name}`].shape].reverse()),
      /"adam\.m\.mixer\.A_log": expected shape \[6,3\], got \[3,6\]/,
    ],
    [
      '+Infinity in a model weight',
      (t) => t['model.lm_head.weight'].data.fill(Infinity, 0, 1),
      /"model\.lm_head\.weight": expected no NaN or \+Infinity, got Infinity/,
    ],
    [
      'epoch −1e6',
      (_, s) => (s.epoch = -1e6),
      /trainer\.epoch: expected an integer ≥ 0 and ≤ epochs = 3, got -1000000/,
    ],
    ['epoch "x"', (_, s) => (s.epoch = 'x'), /trainer\.epoch: expected an integer ≥ 0.*got "x"/],
    ['epoch beyond the run', (_, s) => (s.epoch = 4), /trainer\.epoch: .*≤ epochs = 3, got 4/],
    ['globalStep −5', (_, s) => (s.globalStep = -5), /trainer\.globalStep: expected an integer ≥ 0/],
    [
      'globalStep beyond the steps taken',
      (_, s) => (s.globalStep = 99),
      /trainer\.globalStep: .*≤ epoch · stepsPerEpoch/,
    ],
    [
      'a missing partial',
      (_, s) => delete s.partial,
      /trainer\.partial: expected an object \{lossSum, correct, count\}, got none/,
    ],
    [
      'partial without lossSum',
      (_, s) => delete (s.partial as Record<string, unknown>).lossSum,
      /trainer\.partial\.lossSum: expected a finite number/,
    ],
    [
      'a history shorter than epoch',
      (_, s) => (s.history = []),
      /trainer\.history: expected a list of 1 epoch records/,
    ],
    ['an unknown finished', (_, s) => (s.finished = 'done'), /trainer\.finished: expected absent or one of/],
  ];
  for (const [what, edit, msg] of cases) {
    it(`refuses ${what}, naming the field, with every weight unchanged`, async () => {
      const err = await resumeFrom(edit);
      expect(err).toBeInstanceOf(CheckpointError);
      expect(String(err)).toMatch(msg);
    });
  }

  it('resumes from the unmodified checkpoint', async () => {
    const err = await resumeFrom(() => {});
    expect(err).toBeUndefined();
  });

  it('loads a model file with −∞ weights (A_log = −∞ ⇒ Λ = 0) but refuses +∞ and NaN', () => {
    const m = newModel();
    m.setParam(name, new Float32Array(18).fill(-Infinity));
    const bytes = m.toSafetensors();
    const loaded = modelFromSafetensors(bytes);
    expect(Array.from(loaded.params[name].dataSync())).toEqual(new Array(18).fill(-Infinity));
    loaded.dispose();
    for (const bad of [Infinity, NaN]) {
      const { tensors, metadata } = decodeSafetensors(bytes);
      tensors[name].data[3] = bad;
      expect(() => m.loadSafetensors(encodeSafetensors(tensors, metadata))).toThrow(/expected no NaN or \+Infinity/);
    }
    expect(Array.from(m.params[name].dataSync())).toEqual(new Array(18).fill(-Infinity));
    m.dispose();
  });
});
