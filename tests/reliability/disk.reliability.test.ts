/**
 * A full disk and what a killed writer leaves. Always: a file size limit (`ulimit -f`: a write crossing it is
 * cut short, then EFBIG — what a full disk does to one file) during a resumed run, and a stale temporary file
 * of a killed writer beside the checkpoint. On a small tmpfs, where this machine lets us mount one (CI runs as
 * root in a container, where mounting may be refused: then these cases are skipped with the reason printed):
 * ENOSPC during a resumed run, a stale temporary file that fills the disk, and a sweep whose result line is cut
 * short by ENOSPC. In every case the saved checkpoint stays byte-identical, no temporary file stays, no torn
 * line stays, and once space is back the run completes equal to an uninterrupted one.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from 'ssm-core';
import { expandGrid, parseResults, type SweepSpec } from 'ssm-lab';
import {
  BIN,
  cli,
  describeOutcome,
  record,
  refusalVerdict,
  runNode,
  sleep,
  successVerdict,
  tempBytes,
  tmp,
  trainArgs,
} from './harness.js';

const EPOCHS = 20;
/** `ssm-lab train … --resume` in `d`, as node arguments. */
const resumeArgs = (d: string) => [BIN, ...trainArgs(d, EPOCHS), '--resume'];
const GROUP = 'full disk, stale temporary files';
let ref = '';

beforeAll(async () => {
  ref = tmp('disk-ref');
  const r = await cli(trainArgs(ref, EPOCHS)).done;
  expect(r.status, describeOutcome(r)).toBe(0);
}, 60_000);

const tensors = (file: string) =>
  Object.entries(decodeSafetensors(readFileSync(file)).tensors).map(
    ([k, v]) => [k, Buffer.from(v.data.buffer)] as const,
  );
/** Whether the run in `d` ended with the reference run's weights, bit for bit. */
function equalsReference(d: string): boolean {
  if (!existsSync(join(d, 'model.safetensors'))) return false;
  const a = tensors(join(ref, 'model.safetensors')),
    b = new Map(tensors(join(d, 'model.safetensors')));
  return a.every(([k, v]) => b.get(k)?.equals(v));
}

/** Start a training run in `d` and SIGKILL it once its first checkpoint is saved; the checkpoint's bytes. */
async function killAfterFirstCheckpoint(d: string): Promise<Buffer> {
  const run = cli(trainArgs(d, EPOCHS), { timeoutMs: 30_000 });
  const ckpt = join(d, 'checkpoint.safetensors');
  for (let i = 0; i < 1500 && !existsSync(ckpt); i++) await sleep(10);
  run.child.kill('SIGKILL');
  const r = await run.done;
  expect(r.signal, `the run ended before its first checkpoint could be killed: ${describeOutcome(r)}`).toBe('SIGKILL');
  return readFileSync(ckpt);
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return Number(
    execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }),
  );
}
const staleName = (file: string) =>
  `${file}.tmp-${
    hostname()
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 32) || 'host'
  }-${deadPid()}-1700000000000-0`;

describe('a file size limit and stale temporary files (any machine)', () => {
  it('EFBIG while a resumed run saves: refused with the file named, checkpoint intact, no temporary file; then it completes', async () => {
    const d = tmp('efbig');
    const before = await killAfterFirstCheckpoint(d);
    const limitKiB = Math.max(1, Math.floor(before.length / 1024) - 2); // the checkpoint no longer fits
    const r = await runNode(resumeArgs(d), { fileSizeLimitKiB: limitKiB, timeoutMs: 30_000 }).done;
    let verdict = refusalVerdict(r, /(checkpoint\.safetensors|metrics\.jsonl): expected \d+ bytes written, got EFBIG/);
    const intact = readFileSync(join(d, 'checkpoint.safetensors')).equals(before);
    const left = tempBytes(d);
    if (!intact || left) verdict = 'wrong';
    record({
      group: GROUP,
      name: `file size limit ${limitKiB} KiB during a resumed run`,
      verdict,
      seconds: r.seconds,
      bytesLost: intact ? 0 : before.length,
      tmpBytesLeft: left,
      note: verdict === 'refused' ? undefined : describeOutcome(r),
    });
    expect(verdict, describeOutcome(r)).toBe('refused');
    const again = await runNode(resumeArgs(d), { timeoutMs: 30_000 }).done;
    const v2 = successVerdict(again, equalsReference(d) && tempBytes(d) === 0);
    record({ group: GROUP, name: 'the same run resumed without the limit', verdict: v2, seconds: again.seconds });
    expect(v2, describeOutcome(again)).toBe('correct');
  });

  it('a stale temporary file of a killed writer is removed at the next start and never read', async () => {
    const d = tmp('stale');
    const before = await killAfterFirstCheckpoint(d);
    const stale = join(d, staleName('checkpoint.safetensors').split('/').pop()!);
    writeFileSync(stale, before.subarray(0, before.length >> 1)); // half a checkpoint, as a kill mid-write leaves
    const r = await runNode(resumeArgs(d), { timeoutMs: 30_000 }).done;
    const left = tempBytes(d);
    const verdict = successVerdict(r, !existsSync(stale) && left === 0 && equalsReference(d));
    record({
      group: GROUP,
      name: 'stale temporary checkpoint of a dead writer',
      verdict,
      seconds: r.seconds,
      tmpBytesLeft: left,
    });
    expect(verdict, describeOutcome(r)).toBe('correct');
  });
});

describe('ENOSPC on a small tmpfs (where this machine allows mounting one)', () => {
  let mnt = '';
  let why = '';
  beforeAll(() => {
    const dir = tmp('tmpfs');
    try {
      if (process.platform !== 'linux') throw new Error(`${process.platform} is not Linux`);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
      mnt = dir;
    } catch (e) {
      const err = e as { stderr?: Buffer; message: string };
      why = (err.stderr?.toString().trim() || err.message).split('\n')[0];
      const uid = process.getuid?.();
      console.log(`ENOSPC cases skipped: mounting a tmpfs failed (uid ${uid}): ${why}`);
    }
  });
  afterEach(() => {
    // whatever a case left (also when it failed midway): the next case starts on an empty tmpfs
    if (mnt) for (const f of readdirSync(mnt)) rmSync(join(mnt, f), { recursive: true, force: true });
  });
  afterAll(() => {
    if (mnt) execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
  });

  /** Fill the tmpfs: one file of 4 KiB writes, then single bytes, until ENOSPC. */
  function fill(path: string): number {
    const fd = openSync(path, 'w');
    let n = 0;
    try {
      for (const chunk of [Buffer.alloc(4096, 1), Buffer.alloc(1, 1)])
        for (;;) {
          try {
            const w = writeSync(fd, chunk);
            n += w;
            if (w < chunk.length) break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw e;
          }
        }
    } finally {
      closeSync(fd);
    }
    return n;
  }

  const skipUnlessMounted = (ctx: { skip: (note?: string) => void }) => {
    if (!mnt) {
      record({ group: GROUP, name: 'tmpfs cases', verdict: 'skipped', seconds: 0, note: why });
      ctx.skip(`no tmpfs: ${why}`);
    }
  };

  it('ENOSPC while a resumed run saves: refused with the file named, checkpoint intact; resumes once space is back', async (ctx) => {
    skipUnlessMounted(ctx);
    const d = join(mnt, 'run-a');
    mkdirSync(d);
    const before = await killAfterFirstCheckpoint(d);
    const filler = join(mnt, 'filler');
    fill(filler);
    const r = await runNode(resumeArgs(d), { timeoutMs: 30_000 }).done;
    // the first write that fails is named: the run directory's lock file (a full disk has no room even for it), or
    // the checkpoint / metrics file when the lock fits
    let verdict = refusalVerdict(
      r,
      /(checkpoint\.safetensors|metrics\.jsonl): expected \d+ bytes written, got ENOSPC|got ENOSPC writing \S+run\.lock/,
    );
    const intact = readFileSync(join(d, 'checkpoint.safetensors')).equals(before);
    const left = tempBytes(d);
    if (!intact || left) verdict = 'wrong';
    record({
      group: GROUP,
      name: 'ENOSPC (tmpfs) during a resumed run',
      verdict,
      seconds: r.seconds,
      bytesLost: intact ? 0 : before.length,
      tmpBytesLeft: left,
      note: verdict === 'refused' ? undefined : describeOutcome(r),
    });
    expect(verdict, describeOutcome(r)).toBe('refused');
    rmSync(filler);
    const again = await runNode(resumeArgs(d), { timeoutMs: 30_000 }).done;
    const v2 = successVerdict(again, equalsReference(d) && tempBytes(d) === 0);
    record({ group: GROUP, name: 'ENOSPC run resumed once space is back', verdict: v2, seconds: again.seconds });
    expect(v2, describeOutcome(again)).toBe('correct');
    rmSync(d, { recursive: true });
  });

  it('a stale temporary file that fills the disk is removed at the next start, and the run completes', async (ctx) => {
    skipUnlessMounted(ctx);
    const d = join(mnt, 'run-b');
    mkdirSync(d);
    await killAfterFirstCheckpoint(d);
    const stale = join(d, staleName('checkpoint.safetensors').split('/').pop()!);
    const bytes = fill(stale);
    const r = await runNode(resumeArgs(d), { timeoutMs: 30_000 }).done;
    const left = tempBytes(d);
    const verdict = successVerdict(r, !existsSync(stale) && left === 0 && equalsReference(d));
    record({
      group: GROUP,
      name: `stale temporary file of ${bytes} bytes filling the tmpfs`,
      verdict,
      seconds: r.seconds,
      tmpBytesLeft: left,
    });
    expect(verdict, describeOutcome(r)).toBe('correct');
    rmSync(d, { recursive: true });
  });

  it('a sweep whose result line meets ENOSPC: refused, no torn line, the cell not counted; reruns once space is back', async (ctx) => {
    skipUnlessMounted(ctx);
    const spec: SweepSpec = {
      name: 'enospc',
      task: { kind: 'mqar', T: 12, vocabSize: 4 },
      architectures: [{ model: 'mamba-conv', N: 2 }],
      sizes: [2],
      d: [4],
      seeds: [0],
      train: { epochs: 1, stepsPerEpoch: 4, batchSize: 8, lr: 0.01, lrMin: 0.001 },
      samples: { train: 32, val: 8, test: 8 },
    };
    const [cell] = expandGrid(spec);
    const specFile = join(tmp('enospc-spec'), 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    // The start line fits in the results file's last page, the result line does not: a short write on tmpfs.
    const startMax =
      Buffer.byteLength(
        JSON.stringify({
          type: 'start',
          id: cell.id,
          sweep: spec.name,
          label: cell.label,
          at: new Date().toISOString(),
          host: hostname(),
          pid: 9_999_999,
        }),
      ) + 1;
    const room = startMax + 40;
    const out = join(mnt, 'results.jsonl');
    writeFileSync(out, '\n'.repeat(4096 - room)); // blank lines: ignored by readers
    const filler = join(mnt, 'filler');
    fill(filler);
    const r = await cli(['sweep', 'run', specFile, '--out', out, '--workers', '1', '--runs', 'off'], {
      timeoutMs: 60_000,
    }).done;
    const text = readFileSync(out, 'utf8');
    const p = parseResults(text);
    const whole = text.endsWith('\n') && p.skipped.length === 0 && p.invalid.length === 0;
    let verdict = refusalVerdict(r, /results\.jsonl: expected \d+ bytes appended, got \d+ \(a short write/);
    if (!whole || p.results.size) verdict = 'wrong';
    record({
      group: GROUP,
      name: 'ENOSPC (tmpfs) cutting a sweep result line short',
      verdict,
      seconds: r.seconds,
      note: verdict === 'refused' ? undefined : `${describeOutcome(r)}; whole lines: ${whole}`,
    });
    expect(verdict, describeOutcome(r)).toBe('refused');
    rmSync(filler);
    const again = await cli(['sweep', 'run', specFile, '--out', out, '--workers', '1', '--runs', 'off'], {
      timeoutMs: 60_000,
    }).done;
    const p2 = parseResults(readFileSync(out, 'utf8'));
    const v2 = successVerdict(again, p2.results.has(cell.id) && p2.skipped.length === 0 && p2.invalid.length === 0);
    record({ group: GROUP, name: 'the sweep rerun once space is back', verdict: v2, seconds: again.seconds });
    expect(v2, describeOutcome(again)).toBe('correct');
  });
});
