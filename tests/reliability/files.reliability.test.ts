/**
 * Crafted files against the `ssm-lab` command line: model files for `eval`, trainer checkpoints for
 * `train --resume`, results files for `sweep merge` / `sweep report`, sweep specs for `sweep run`. Each must be
 * refused within seconds with exit code 2 and a message naming what is wrong, and a refused checkpoint must
 * stay byte-identical; an unusual but valid file (A_log = −∞, the constructions' Λ = 0) must be accepted.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from 'ssm-core';
import {
  cli,
  describeOutcome,
  record,
  refusalVerdict,
  successVerdict,
  tempBytes,
  tmp,
  trainArgs,
  type Outcome,
} from './harness.js';

const GROUP_MODEL = 'model files (eval)';
const GROUP_CKPT = 'checkpoints (train --resume)';
const GROUP_SWEEP = 'results and spec files (sweep)';

const dir = tmp('files');
const base = join(dir, 'base');

/** A safetensors file with header text `json` (as is) and `dataBytes` zero bytes after it. */
function rawSafetensors(json: string, dataBytes = 0): Uint8Array {
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  return out;
}

type Tensors = ReturnType<typeof decodeSafetensors>['tensors'];

/** The base run's model or checkpoint file with `edit` applied to its tensors and metadata. */
function edited(file: string, edit: (t: Tensors, meta: Record<string, string>) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(readFileSync(file));
  edit(tensors, metadata);
  return encodeSafetensors(tensors, metadata);
}

const nameEnding = (t: Tensors, suffix: string) => Object.keys(t).find((k) => k.endsWith(suffix))!;

beforeAll(async () => {
  const r = await cli(trainArgs(base, 3)).done;
  expect(r.status, describeOutcome(r)).toBe(0);
}, 60_000);

/** Run `args`, judge it as a refusal matching `message`, record it, assert it. */
async function refused(group: string, name: string, args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}) {
  const r = await cli(args, { env, timeoutMs: 20_000 }).done;
  const verdict = refusalVerdict(r, message);
  record({ group, name, verdict, seconds: r.seconds, note: verdict === 'refused' ? undefined : describeOutcome(r) });
  expect(verdict, describeOutcome(r)).toBe('refused');
  return r;
}

describe.concurrent('model files given to ssm-lab eval', () => {
  const file = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const evalRefuses = (name: string, path: () => string, message: RegExp, env?: NodeJS.ProcessEnv) =>
    it(`refuses ${name}`, async () => {
      await refused(GROUP_MODEL, name, ['eval', path()], message, env);
    });

  evalRefuses(
    'a 160-byte file whose config claims a 20000 × 20000 model',
    () =>
      file(
        'huge.safetensors',
        rawSafetensors(
          JSON.stringify({
            __metadata__: { model: 'mamba', config: JSON.stringify({ vocabSize: 20000, dModel: 20000, dState: 4 }) },
          }),
        ),
      ),
    /MAX_PARAMS/,
  );
  evalRefuses(
    'a FIFO',
    () => {
      const p = join(dir, 'fifo.safetensors');
      execFileSync('mkfifo', [p]);
      return p;
    },
    /expected a regular model file, got a FIFO/,
  );
  evalRefuses(
    'a symlink to /dev/zero',
    () => {
      const p = join(dir, 'zero.safetensors');
      symlinkSync('/dev/zero', p);
      return p;
    },
    /got a character device/,
  );
  evalRefuses('an empty file', () => file('empty.safetensors', new Uint8Array()), /≥ 8 bytes/);
  evalRefuses(
    'a header length past the end of the file',
    () => {
      const b = rawSafetensors('{}');
      new DataView(b.buffer).setBigUint64(0, 1000n, true);
      return file('trunc.safetensors', b);
    },
    /truncated or not safetensors/,
  );
  evalRefuses(
    'a header length of 2^64 − 1',
    () => {
      const b = rawSafetensors('{}');
      new DataView(b.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
      return file('maxlen.safetensors', b);
    },
    /truncated or not safetensors/,
  );
  evalRefuses('a header that is not JSON', () => file('notjson.safetensors', rawSafetensors('{"a":')), /JSON/);
  evalRefuses(
    'a tensor named __proto__',
    () =>
      file('proto.safetensors', rawSafetensors('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4)),
    /__proto__/,
  );
  evalRefuses(
    'a tensor named constructor',
    () =>
      file('ctor.safetensors', rawSafetensors('{"constructor":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4)),
    /constructor/,
  );
  evalRefuses(
    'a duplicate tensor name',
    () => {
      const e = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
      return file('dup.safetensors', rawSafetensors(`{"a":${e},"a":${e}}`, 4));
    },
    /duplicate keys/,
  );
  evalRefuses(
    'a config naming the mixer __proto__',
    () =>
      file(
        'mixer.safetensors',
        rawSafetensors(
          JSON.stringify({
            __metadata__: {
              model: 'mamba',
              config: JSON.stringify({ vocabSize: 4, dModel: 4, dState: 2, mixer: '__proto__' }),
            },
          }),
        ),
      ),
    /config\.mixer/,
  );
  evalRefuses(
    '+Infinity in a weight',
    () =>
      file(
        'inf.safetensors',
        edited(join(base, 'model.safetensors'), (t) => (t[nameEnding(t, 'lm_head.weight')].data[0] = Infinity)),
      ),
    /no NaN or \+Infinity, got Infinity/,
  );
  evalRefuses(
    'NaN in a weight',
    () =>
      file(
        'nan.safetensors',
        edited(join(base, 'model.safetensors'), (t) => (t[nameEnding(t, 'A_log')].data[1] = NaN)),
      ),
    /no NaN or \+Infinity, got NaN/,
  );
  evalRefuses('a file above MAX_FILE_BYTES', () => file('big.safetensors', new Uint8Array(4096)), /MAX_FILE_BYTES/, {
    SSM_MAX_FILE_BYTES: '1000',
  });
  it('refuses a run directory without a model file (exit 1, the path named)', async () => {
    const empty = join(dir, 'empty-run');
    mkdirSync(empty);
    const r = await cli(['eval', empty], { timeoutMs: 20_000 }).done;
    const verdict = refusalVerdict(r, /ENOENT.*empty-run\/model\.safetensors/, { code: 1 });
    record({ group: GROUP_MODEL, name: 'a run directory without model.safetensors', verdict, seconds: r.seconds });
    expect(verdict, describeOutcome(r)).toBe('refused');
  });

  it('accepts A_log = −∞ everywhere (Λ = 0, as the constructions save it) and evaluates it', async () => {
    const p = file(
      'neginf.safetensors',
      edited(join(base, 'model.safetensors'), (t) => t[nameEnding(t, 'A_log')].data.fill(-Infinity)),
    );
    const r: Outcome = await cli(['eval', p, '--json'], { timeoutMs: 20_000 }).done;
    let ok = false;
    try {
      const j = JSON.parse(r.stdout);
      ok = Number.isFinite(j.loss) && j.accuracy >= 0 && j.accuracy <= 1;
    } catch {
      /* not JSON: wrong */
    }
    const verdict = successVerdict(r, ok);
    record({ group: GROUP_MODEL, name: 'A_log = −∞ (valid)', verdict, seconds: r.seconds });
    expect(verdict, describeOutcome(r)).toBe('correct');
  });
});

describe.concurrent('trainer checkpoints given to ssm-lab train --resume', () => {
  let n = 0;
  /** A copy of the base run with its checkpoint replaced by `bytes` (or made by `make`). */
  const runWith = (make: (ckpt: string) => void) => {
    const d = join(dir, `resume-${n++}`);
    cpSync(base, d, { recursive: true });
    make(join(d, 'checkpoint.safetensors'));
    return d;
  };
  const ckptRefused = (name: string, make: (ckpt: string) => void, message: RegExp) =>
    it(`refuses ${name}, leaving the checkpoint byte-identical`, async () => {
      const d = runWith(make);
      const ckpt = join(d, 'checkpoint.safetensors');
      const before = statSync(ckpt).isFile() ? readFileSync(ckpt) : undefined; // never read a FIFO
      const r = await cli([...trainArgs(d, 3), '--resume'], { timeoutMs: 20_000 }).done;
      let verdict = refusalVerdict(r, message);
      const after = before ? readFileSync(ckpt) : undefined;
      const lost = before && after && !before.equals(after) ? before.length : 0;
      if (lost) verdict = 'wrong';
      record({
        group: GROUP_CKPT,
        name,
        verdict,
        seconds: r.seconds,
        bytesLost: lost,
        tmpBytesLeft: tempBytes(d),
        note: verdict === 'refused' ? undefined : describeOutcome(r),
      });
      expect(verdict, describeOutcome(r)).toBe('refused');
      expect(lost).toBe(0);
      expect(tempBytes(d)).toBe(0);
    });
  const editCkpt = (edit: (t: Tensors, state: Record<string, unknown>) => void) => (ckpt: string) =>
    writeFileSync(
      ckpt,
      edited(ckpt, (t, meta) => {
        const state = JSON.parse(meta.trainer) as Record<string, unknown>;
        edit(t, state);
        meta.trainer = JSON.stringify(state);
      }),
    );

  ckptRefused(
    'NaN in adam.v.*',
    editCkpt((t) => (t[Object.keys(t).find((k) => k.startsWith('adam.v.'))!].data[0] = NaN)),
    /adam\.v\..*expected finite values, got NaN/,
  );
  ckptRefused(
    '+Infinity in model.*',
    editCkpt((t) => (t[Object.keys(t).find((k) => k.startsWith('model.'))!].data[0] = Infinity)),
    /no NaN or \+Infinity/,
  );
  ckptRefused(
    'epoch −1e6',
    editCkpt((_, s) => (s.epoch = -1e6)),
    /trainer\.epoch: expected an integer ≥ 0/,
  );
  ckptRefused(
    'a state without partial',
    editCkpt((_, s) => delete s.partial),
    /trainer\.partial/,
  );
  ckptRefused(
    'a checkpoint that is a FIFO',
    (ckpt) => {
      execFileSync('rm', ['-f', ckpt]);
      execFileSync('mkfifo', [ckpt]);
    },
    /got a FIFO/,
  );
  ckptRefused(
    'a checkpoint cut in half',
    (ckpt) => writeFileSync(ckpt, readFileSync(ckpt).subarray(0, 2000)),
    /checkpoint\.safetensors/,
  );
});

describe.concurrent('results and spec files given to ssm-lab sweep', () => {
  const good = {
    type: 'result',
    id: '0123456789abcdef',
    sweep: 's',
    cell: {
      arch: 'mamba-conv',
      size: 2,
      d: 4,
      N: 4,
      seed: 0,
      task: { task: 'mqar', mode: 'paper', numKeys: 2, vocabSize: 4, T: 12 },
      label: 'x',
      names: 'ssm-lab',
    },
    result: {
      id: '0123456789abcdef',
      label: 'x',
      accuracy: 1,
      loss: 0.1,
      params: 10,
      seconds: 1,
      steps: 2,
      epochs: 1,
      stopReason: 'epochs',
      backend: 'wasm',
    },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
  };
  const results = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const sweepRefuses = (name: string, args: () => string[], message: RegExp) =>
    it(`refuses ${name}`, async () => {
      await refused(GROUP_SWEEP, name, ['sweep', ...args()], message);
    });

  sweepRefuses(
    'a result with size "big" (merge)',
    () => [
      'merge',
      results('big.jsonl', JSON.stringify({ ...good, cell: { ...good.cell, size: 'big' } }) + '\n'),
      '--out',
      join(dir, 'm1.jsonl'),
    ],
    /big\.jsonl:1: .*cell\.size: expected an integer ≥ 1, got "big"/,
  );
  sweepRefuses(
    'a result with a numeric finishedAt (merge)',
    () => [
      'merge',
      results('num.jsonl', JSON.stringify({ ...good, finishedAt: 1767225600000 }) + '\n'),
      '--out',
      join(dir, 'm2.jsonl'),
    ],
    /num\.jsonl:1: .*finishedAt: expected an ISO 8601 time/,
  );
  sweepRefuses(
    'a result without finishedAt (report)',
    () => {
      const { finishedAt: _drop, ...rest } = good;
      return ['report', results('nofinish.jsonl', JSON.stringify(rest) + '\n')];
    },
    /nofinish\.jsonl:1: .*finishedAt: expected an ISO 8601 time/,
  );
  sweepRefuses(
    'a result with a __proto__ key (report)',
    () => [
      'report',
      results('proto.jsonl', JSON.stringify(good).replace('"cell":{', '"cell":{"__proto__":{},') + '\n'),
    ],
    /proto\.jsonl:1: .*__proto__/,
  );
  sweepRefuses(
    'a results file that is a symlink to /dev/zero (merge)',
    () => {
      const p = join(dir, 'zero.jsonl');
      symlinkSync('/dev/zero', p);
      return ['merge', p, '--out', join(dir, 'm3.jsonl')];
    },
    /got a character device/,
  );
  const spec = JSON.stringify({
    name: 'rel',
    task: { kind: 'mqar', T: 12, vocabSize: 4 },
    architectures: [{ model: 'mamba-conv', N: 2 }],
    sizes: [2],
    d: [4],
    seeds: [0],
    train: { epochs: 1, stepsPerEpoch: 2, batchSize: 8, lr: 0.01, lrMin: 0.001 },
    samples: { train: 16, val: 8, test: 8 },
  });
  sweepRefuses(
    'a spec with a duplicate key',
    () => ['run', results('dup.json', spec.replace('"name":"rel"', '"name":"rel","name":"x"')), '--dry-run'],
    /dup\.json: expected JSON without duplicate keys, got key "name" twice/,
  );
  sweepRefuses(
    'a spec naming the model __proto__',
    () => ['run', results('protomodel.json', spec.replace('"mamba-conv"', '"__proto__"')), '--dry-run'],
    /architectures\[0\]\.model/,
  );
  sweepRefuses(
    'a spec that is a FIFO',
    () => {
      const p = join(dir, 'fifo-spec.json');
      execFileSync('mkfifo', [p]);
      return ['run', p, '--dry-run'];
    },
    /expected a regular sweep spec, got a FIFO/,
  );
  it('merges a valid file and a copy of it to the same single record (control)', async () => {
    const a = results('ok-a.jsonl', JSON.stringify(good) + '\n');
    const b = join(dir, 'ok-b.jsonl');
    copyFileSync(a, b);
    const out = join(dir, 'ok-m.jsonl');
    const r = await cli(['sweep', 'merge', a, b, '--out', out], { timeoutMs: 20_000 }).done;
    const lines = r.status === 0 ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    const verdict = successVerdict(r, lines.length === 1 && JSON.parse(lines[0]).id === good.id);
    record({ group: GROUP_SWEEP, name: 'a valid file merged with its copy', verdict, seconds: r.seconds });
    expect(verdict, describeOutcome(r)).toBe('correct');
  });
});
