/**
 * Atomic writes: a failed write leaves the previous file and no temporary file; a temporary file left by a
 * process killed mid-write (SIGKILL) is removed by the next write of the same file and when a trainer starts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FileError,
  MambaModel,
  ready,
  removeStaleTempFiles,
  tasks,
  tempPathFor,
  train,
  writeFileAtomic,
} from '../src/index.js';

beforeAll(async () => {
  await ready();
});

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const temps = (dir: string) => readdirSync(dir).filter((f) => f.includes('.tmp-'));

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('writeFileAtomic', () => {
  it('names its temporary file after the target, this host and this process', async () => {
    const t = await tempPathFor('/x/y/model.safetensors');
    expect(t.startsWith('/x/y/model.safetensors.tmp-')).toBe(true);
    expect(t).toContain(`-${process.pid}-`);
    expect(await tempPathFor('/x/a')).not.toBe(await tempPathFor('/x/a')); // two writes in one millisecond never collide
  });

  it('a write cut short (file size limit: a short write, then EFBIG) leaves the old file and no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssm-atomic-'));
    const path = join(dir, 'ckpt.bin');
    writeFileSync(path, 'previous content');
    // `ulimit -f 1`: files of at most 1 KiB for this shell and its node child; the 4 KiB write fails midway.
    const script =
      `import { writeFileAtomic } from ${JSON.stringify(dist)};` +
      `try { await writeFileAtomic(${JSON.stringify(path)}, new Uint8Array(4096).fill(7)); console.log('no error'); }` +
      ` catch (e) { console.log(e.name + ' | ' + e.message); }`;
    const out = execFileSync(
      'bash',
      ['-c', `ulimit -f 1 && exec "$0" --input-type=module -e "$1"`, process.execPath, script],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/^FileError \| .*ckpt\.bin: expected 4096 bytes written, got EFBIG/);
    expect(out).toMatch(/previous file is unchanged/);
    expect(readFileSync(path, 'utf8')).toBe('previous content');
    expect(temps(dir)).toEqual([]);
  });

  it('a rename that fails (the target is a directory) removes the temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssm-atomic-'));
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'x');
    const err = await writeFileAtomic(target, new Uint8Array(10)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileError);
    expect(String(err)).toMatch(/taken: expected 10 bytes written, got E(ISDIR|NOTEMPTY)/);
    expect(temps(dir)).toEqual([]);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('x');
  });

  it('removes a stale temporary file of the same target (its process is gone) and keeps every other file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssm-atomic-'));
    const path = join(dir, 'checkpoint.safetensors');
    const host = (await tempPathFor(path)).split('.tmp-')[1].split('-')[0];
    expect(hostname().replace(/[^A-Za-z0-9]/g, '')).toContain(host.slice(0, 8));
    const dead = deadPid();
    const stale = [
      `checkpoint.safetensors.tmp-${host}-${dead}-1700000000000-0`,
      `checkpoint.safetensors.tmp-${dead}-1700000000000`,
    ];
    const kept = [
      `checkpoint.safetensors.tmp-${host}-${process.pid}-1700000000000-0`, // a live process (this one)
      `checkpoint.safetensors.tmp-otherhost-${dead}-1700000000000-0`, // another machine's: its pids mean nothing here
      `metrics.jsonl.tmp-${host}-${dead}-1700000000000-0`, // another target
      'checkpoint.safetensors.tmp-notes.txt', // not a temporary file's name
      'checkpoint.safetensors.bak',
    ];
    for (const f of [...stale, ...kept]) writeFileSync(join(dir, f), new Uint8Array(1000));
    expect((await removeStaleTempFiles(path)).sort()).toEqual(stale.map((f) => join(dir, f)).sort());
    for (const f of stale) writeFileSync(join(dir, f), new Uint8Array(1000));
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(readdirSync(dir).sort()).toEqual([...kept, 'checkpoint.safetensors'].sort());
    expect(await removeStaleTempFiles(join(dir, 'missing-dir', 'f'))).toEqual([]);
  });

  it('train() removes its checkpoint’s stale temporary files before the first step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssm-atomic-'));
    const ckpt = join(dir, 'checkpoint.safetensors');
    const host = (await tempPathFor(ckpt)).split('.tmp-')[1].split('-')[0];
    const stale = join(dir, `checkpoint.safetensors.tmp-${host}-${deadPid()}-1700000000000-0`);
    writeFileSync(stale, new Uint8Array(4096));
    const data = (n: number, seed: number) => tasks.keepNth({ n: 2, vocabSize: 6, T: 5, numSamples: n, seed });
    const m = new MambaModel({ vocabSize: 6, dModel: 4, dState: 2, conv: false, seed: 1 });
    let seenAtFirstStep: boolean | undefined;
    await train(
      m,
      { train: data(16, 1), val: data(8, 2) },
      { epochs: 1, stepsPerEpoch: 1, batchSize: 8, lr: 0.01, lrMin: 0.001, seed: 0 },
      {
        checkpointPath: ckpt,
        resume: true,
        progress: 'off',
        onStep: () => (seenAtFirstStep ??= existsSync(stale)),
      },
    );
    m.dispose();
    expect(seenAtFirstStep).toBe(false);
    expect(temps(dir)).toEqual([]);
  });
});
