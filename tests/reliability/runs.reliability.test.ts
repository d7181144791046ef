/**
 * Concurrent runs on one run directory and resource bounds. Two `ssm-lab train … --out D` at once: one runs, the
 * other is refused (the directory is locked by a live run), and the run that ran ends exactly as it would alone.
 * Bounds: sizes far beyond memory (--T, --N, --batch, --d, a huge `forward` input, a keep-nth construction with a
 * huge vocabulary), a learning rate that blows the loss up, stray arguments, an empty --out: each a typed error
 * naming the option within seconds, the process never above 768 MiB resident. Edge sizes of ssdMinimal (A = −∞,
 * L = 0, batch = 0) give the reference's result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from 'ssm-core';
import {
  CORE_DIST,
  cli,
  describeOutcome,
  record,
  refusalVerdict,
  runNode,
  successVerdict,
  tempBytes,
  tmp,
  trainArgs,
} from './harness.js';

const GiB = 2 ** 30;
/**
 * The bounds cases model a machine with 768 MiB available (the watchdog's limit): the memory budget, which
 * defaults to the memory this machine has available, is set below it, as a user of such a machine would see it.
 */
const BOUNDED = { SSM_MEMORY_BUDGET: '512MiB' };
const EPOCHS = 20;
let ref = '';

beforeAll(async () => {
  ref = tmp('runs-ref');
  const r = await cli(trainArgs(ref, EPOCHS)).done;
  expect(r.status, describeOutcome(r)).toBe(0);
}, 60_000);

const weights = (file: string) =>
  Object.entries(decodeSafetensors(readFileSync(file)).tensors).map(
    ([k, v]) => [k, Buffer.from(v.data.buffer)] as const,
  );

describe('two runs on one --out at once', () => {
  it('the second is refused while the first holds the directory; the first ends as it would alone', async () => {
    const d = tmp('concurrent');
    const [a, b] = await Promise.all([
      cli(trainArgs(d, EPOCHS), { timeoutMs: 60_000 }).done,
      cli(trainArgs(d, EPOCHS), { timeoutMs: 60_000 }).done,
    ]);
    const [ran, other] = a.status === 0 ? [a, b] : [b, a];
    const refused = refusalVerdict(other, /lock|in use|another run|already|held by/i);
    // the run that ran: every epoch once, in order, and the weights of the same run made alone
    const epochs = existsSync(join(d, 'metrics.jsonl'))
      ? readFileSync(join(d, 'metrics.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l).epoch as number)
      : [];
    const inOrder = JSON.stringify(epochs) === JSON.stringify(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    const alone = weights(join(ref, 'model.safetensors'));
    const got = existsSync(join(d, 'model.safetensors')) ? new Map(weights(join(d, 'model.safetensors'))) : new Map();
    const sameWeights = alone.every(([k, v]) => got.get(k)?.equals(v));
    const lost = inOrder && sameWeights ? 0 : readFileSync(join(ref, 'metrics.jsonl')).length;
    let verdict = refused;
    if (verdict === 'refused' && successVerdict(ran, inOrder && sameWeights) !== 'correct') verdict = 'wrong';
    record({
      group: 'concurrent runs on one --out',
      name: 'two train runs started together',
      verdict,
      seconds: Math.max(a.seconds, b.seconds),
      bytesLost: lost,
      tmpBytesLeft: tempBytes(d),
      note:
        verdict === 'refused'
          ? undefined
          : `first: ${describeOutcome(a)}; second: ${describeOutcome(b)}; epochs in metrics: ${epochs.length}, in order: ${inOrder}`,
    });
    expect(ran.status, describeOutcome(ran)).toBe(0);
    expect(refused, `the second run was not refused: ${describeOutcome(other)}`).toBe('refused');
    expect(inOrder, `metrics epochs ${JSON.stringify(epochs)}`).toBe(true);
    expect(sameWeights).toBe(true);
  });
});

describe.concurrent('bounds: typed errors in seconds, never a memory blow-up', () => {
  const GROUP = 'bounds';
  const small = (extra: string[]) => ['train', 'keep-nth', '--n', '2', '--vocab', '8', '--epochs', '1', ...extra];
  const cases: [string, string[], RegExp][] = [
    ['--T 10000000', small(['--T', '10000000']), /--T\b/],
    ['--N 100000000', small(['--T', '8', '--N', '100000000']), /--N\b/],
    ['--batch 2000000', small(['--T', '8', '--batch', '2000000']), /--batch\b/],
    ['--d 3000000', small(['--T', '8', '--d', '3000000']), /--d\b/],
    [
      '--lr 1e30',
      small(['--T', '8', '--d', '8', '--train-samples', '64', '--val-samples', '16', '--lr', '1e30']),
      /--lr\b/,
    ],
    ['an extra positional argument', ['train', 'keep-nth', 'extra', '--epochs', '1'], /extra/],
    ['--out ""', small(['--T', '8', '--out', '']), /--out\b/],
  ];
  for (const [name, args, message] of cases)
    it(`refuses ${name}`, async () => {
      const r = await cli(args, { timeoutMs: 20_000, rssLimitBytes: 0.75 * GiB, env: BOUNDED }).done;
      const verdict = refusalVerdict(r, message);
      record({
        group: GROUP,
        name,
        verdict,
        seconds: r.seconds,
        note:
          verdict === 'refused'
            ? undefined
            : `${describeOutcome(r)}; peak ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
      });
      expect(verdict, describeOutcome(r)).toBe('refused');
    });

  /** Run an ES module `body` (ssm-core imported as `m`) in a child; its stdout's last line as JSON. */
  const script = (body: string) =>
    runNode(
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(CORE_DIST)}); await m.ready(); ${body}`],
      {
        timeoutMs: 30_000,
        rssLimitBytes: 0.75 * GiB,
        env: BOUNDED,
      },
    ).done;
  const typedError = `catch (e) { console.log(JSON.stringify({ typed: e instanceof m.SsmError, name: e.name, message: String(e.message).slice(0, 300) })); }`;

  const libraryRefuses = (name: string, call: string, message: RegExp) =>
    it(`refuses ${name}`, async () => {
      const r = await script(
        `try { ${call}; console.log(JSON.stringify({ typed: false, name: 'accepted' })); } ${typedError}`,
      );
      let out: { typed: boolean; name: string; message?: string } = { typed: false, name: '' };
      try {
        out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
      } catch {
        /* no JSON: crashed or hung */
      }
      let verdict = refusalVerdict(
        { ...r, status: r.status === 0 && out.typed ? 2 : r.status, stderr: `${r.stderr}\n${out.message ?? ''}` },
        message,
      );
      if (verdict === 'refused' && !out.typed) verdict = 'wrong';
      record({
        group: GROUP,
        name,
        verdict,
        seconds: r.seconds,
        note: verdict === 'refused' ? undefined : `${describeOutcome(r)} ${JSON.stringify(out)}`,
      });
      expect(verdict, `${describeOutcome(r)} ${JSON.stringify(out)}`).toBe('refused');
    });

  libraryRefuses(
    'constructions.keepNth with |V| = 40000',
    `m.constructions.keepNth({ n: 2, vocabSize: 40000 })`,
    /vocabSize|weights|parameters|bytes/i,
  );
  libraryRefuses(
    'forward on a [1, 2e7] input',
    `const model = new m.MambaModel({ vocabSize: 4, dModel: 4, dState: 2 }); model.forward(m.tf.zeros([1, 20000000], 'int32'))`,
    /bytes|memory|tokens|length|T\b/i,
  );

  it('ssdMinimal with A = −∞, L = 0 and batch = 0 gives the reference’s results', async () => {
    const r = await script(`
      const t = (shape, f) => m.tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, f), shape);
      const close = (a, b) => a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - b[i]) <= 1e-5 + 1e-4 * Math.abs(b[i]));
      const run = (b, l) => {
        const args = { X: t([b, l, 2, 3], (_, i) => Math.sin(i)), A: t([b, l, 2], (_, i) => (i % 3 === 0 ? -Infinity : -0.1 * (i % 5))),
          B: t([b, l, 2, 2], (_, i) => Math.cos(i)), C: t([b, l, 2, 2], (_, i) => Math.sin(2 * i)), blockLen: 4 };
        const got = m.ssdMinimal(args);
        const want = m.ssdMinimalRef64(m.validateSsdArgs(args), { X: args.X.dataSync(), A: args.A.dataSync(), B: args.B.dataSync(), C: args.C.dataSync() });
        return close(got.Y.dataSync(), want.Y) && close(got.finalState.dataSync(), want.finalState) && got.Y.dataSync().every(Number.isFinite);
      };
      console.log(JSON.stringify({ ok: run(2, 9) && run(2, 0) && run(0, 5) }));
    `);
    let ok = false;
    try {
      ok = JSON.parse(r.stdout.trim().split('\n').pop() ?? '').ok === true;
    } catch {
      /* no JSON */
    }
    const verdict = successVerdict(r, ok);
    record({
      group: GROUP,
      name: 'ssdMinimal A = −∞, L = 0, batch = 0',
      verdict,
      seconds: r.seconds,
      note: ok ? undefined : describeOutcome(r),
    });
    expect(verdict, describeOutcome(r)).toBe('correct');
  });
});
