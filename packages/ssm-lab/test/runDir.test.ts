/**
 * Run directories: an exclusive lock (a second run is refused while one runs; a lock left by a killed run is
 * taken over), no run replaced without --resume or --force, --force moves the old run aside intact and says
 * where, and `--out ""` is refused — as functions and through the `ssm-lab` command.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, lockRunDir, prepareRunDir, RunDirError } from '../src/index.js';
import { BIN, smallTrain } from './helpers.js';

const bin = BIN;
const run = (args: string[], cwd?: string) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, cwd });
const root = mkdtempSync(join(tmpdir(), 'ssm-rundir-'));

/** A small keep-nth run: `epochs` epochs of 40 steps (about 0.3 s each on 2 cores), saved in `out`. */
const small = (out: string, epochs = 3) => smallTrain(epochs, 40, ['--out', out]);

/** sha256 of every file in `dir`, by name. */
function digest(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(dir, f)))
          .digest('hex'),
      ]),
  );
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('lockRunDir', () => {
  it('is exclusive: a second lock on the directory is refused naming the owner, and free again after release', () => {
    const d = join(root, 'lock');
    mkdirSync(d);
    const lock = lockRunDir(d);
    expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => lockRunDir(d)).toThrow(RunDirError);
    expect(() => lockRunDir(d)).toThrow(new RegExp(`got one locked by pid ${process.pid} since `));
    lock.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
    lockRunDir(d).release();
  });

  it('takes over a stale lock: its pid is gone, or now belongs to a process started at another time', () => {
    const d = join(root, 'stale');
    mkdirSync(d);
    const stale = (pid: number, procStart?: string) =>
      writeFileSync(
        join(d, LOCK_FILE),
        JSON.stringify({ pid, host: hostname(), procStart, startedAt: '2026-01-01T00:00:00.000Z', token: 'old' }),
      );
    stale(deadPid());
    const a = lockRunDir(d);
    expect(a.info.pid).toBe(process.pid);
    expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).token).toBe(a.info.token);
    a.release();
    if (existsSync('/proc/self/stat')) {
      stale(process.pid, '1'); // this pid, but a process started at tick 1 after boot: not us
      lockRunDir(d).release();
    }
    expect(readdirSync(d)).toEqual([]); // no stale copies or temporary files left behind
  });

  it("never takes over another host's lock (its pid means nothing here)", () => {
    const d = join(root, 'remote');
    mkdirSync(d);
    writeFileSync(
      join(d, LOCK_FILE),
      JSON.stringify({ pid: deadPid(), host: 'elsewhere', startedAt: 'x', token: 't' }),
    );
    expect(() => lockRunDir(d)).toThrow(/on host elsewhere .*remove .*run\.lock only if that run is over/);
  });
});

describe('prepareRunDir', () => {
  it('refuses a directory holding a run unless resuming; force moves it aside intact', () => {
    const d = join(root, 'prep');
    mkdirSync(d);
    writeFileSync(join(d, 'metrics.jsonl'), '{"epoch":1}\n');
    writeFileSync(join(d, 'notes.txt'), 'mine');
    const before = digest(d);
    expect(() => prepareRunDir(d)).toThrow(
      /expected a directory without a run, got one holding a run \(metrics\.jsonl\)/,
    );
    expect(digest(d)).toEqual(before); // refused: untouched, and no lock left behind
    prepareRunDir(d, { resume: true }).lock.release();
    const lines: string[] = [];
    const { lock, movedTo } = prepareRunDir(d, { force: true, log: (l) => lines.push(l) });
    expect(movedTo).toMatch(/prep\.old-\d{4}-\d\d-\d\dT[\d-]+Z$/);
    expect(lines).toEqual([`moved the previous run in ${d} aside to ${movedTo}`]);
    expect(digest(movedTo!)).toEqual(before);
    expect(readdirSync(d)).toEqual([LOCK_FILE]);
    lock.release();
    expect(readdirSync(d)).toEqual([]);
  });

  it('does not move aside the directory the process runs in, or one above it', () => {
    const d = join(root, 'cwd');
    mkdirSync(join(d, 'sub'), { recursive: true });
    writeFileSync(join(d, 'result.json'), '{}');
    const r = run(['train', 'keep-nth', '--out', d, '--force'], join(d, 'sub'));
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/expected a directory that is not the current directory or one above it/);
    expect(readdirSync(d).sort()).toEqual(['result.json', 'sub']);
  });
});

describe('ssm-lab train --out DIR', () => {
  it('a second run on a locked directory exits 2 naming the lock; the first run finishes with its files intact', async () => {
    const d = join(root, 'concurrent');
    const first = spawn(process.execPath, [bin, ...small(d, 30), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    first.stdout.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((r) => first.on('exit', r));
    while (!existsSync(join(d, 'metrics.jsonl'))) await new Promise((r) => setTimeout(r, 20));
    for (const extra of [[], ['--resume'], ['--force']]) {
      const second = run([...small(d), ...extra]);
      expect(second.status, extra.join(' ')).toBe(2);
      expect(second.stderr).toMatch(
        new RegExp(`${d}: expected a run directory no other run holds, got one locked by pid ${first.pid} since`),
      );
    }
    expect(await exited).toBe(0);
    const result = JSON.parse(out);
    const metrics = readFileSync(join(d, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1)); // one run's lines only
    expect(JSON.parse(readFileSync(join(d, 'result.json'), 'utf8'))).toEqual(result);
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('rerunning without --resume is refused and changes nothing; --force moves the old run aside and prints where', () => {
    const d = join(root, 'rerun');
    expect(run(small(d)).status).toBe(0);
    const before = digest(d);
    const again = run(small(d));
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(
      /expected a directory without a run, got one holding a run \(checkpoint\.safetensors, metrics\.jsonl, model\.safetensors, result\.json\) \(--resume continues it, --force moves it aside/,
    );
    expect(digest(d)).toEqual(before);
    const forced = run([...small(d), '--force']);
    expect(forced.status, forced.stderr).toBe(0);
    const moved = /moved the previous run in .* aside to (\S+)/.exec(forced.stderr)?.[1];
    expect(moved).toBeDefined();
    expect(digest(moved!)).toEqual(before);
    expect(Object.keys(digest(d))).toEqual(Object.keys(before));
    const both = run([...small(d), '--force', '--resume']);
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--force: expected not with --resume/);
  });

  it('a lock left by a SIGKILLed run is taken over by --resume', async () => {
    const d = join(root, 'killed');
    const child = spawn(process.execPath, [bin, ...small(d, 15)], { stdio: 'ignore' });
    while (!existsSync(join(d, 'checkpoint.safetensors'))) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(JSON.parse(readFileSync(join(d, LOCK_FILE), 'utf8')).pid).toBe(child.pid);
    const resumed = run([...small(d, 15), '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resumed from/);
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('--out "" is refused (it trained and saved nothing), for train, reproduce and sweep run', () => {
    for (const args of [
      ['train', 'keep-nth', '--out', ''],
      ['reproduce', 'table1', '--out', ''],
      ['sweep', 'run', 'fig2', '--out', ''],
      ['sweep', 'run', 'fig2', '--runs', ''],
    ]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--(out|runs): expected a non-empty path, got ""/);
    }
  });
});
