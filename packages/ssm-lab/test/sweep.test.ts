/**
 * Sweeps: the grid expands to stable, distinct cells; shards partition it exactly; merging is
 * order-independent; a run killed with SIGKILL and restarted loses nothing and recomputes nothing it had
 * finished; a torn last line is ignored and its cell reruns; the report finds the smallest d and the bound.
 * The CLI runs use tiny grids (seconds); they spawn the built CLI asynchronously (never spawnSync).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from 'ssm-core';
import {
  canonicalJson,
  expandGrid,
  FIG2,
  FIG2_QUICK,
  FIG3,
  FIG3_QUICK,
  hashId,
  mergeResults,
  mergeResultsChecked,
  parseResults,
  parseShard,
  resolveShard,
  sha256Hex,
  shardCells,
  stateSize,
  sweepReport,
  toJsonl,
  validateSweepSpec,
  type ResultRecord,
  type SweepSpec,
} from 'ssm-lab';

const bin = fileURLToPath(new URL('../bin/ssm-lab.js', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'ssm-sweep-'));

/** A grid of `cells` tiny MQAR cells (≈ 0.2–1 s each on wasm). */
function tinySpec(name: string, seeds: number[], steps = 20): SweepSpec {
  return {
    name,
    task: { kind: 'mqar', T: 12, vocabSize: 4 },
    architectures: [
      { model: 'mamba-conv', N: '2*size' },
      { model: 'mamba2', N: 2 },
    ],
    sizes: [2],
    d: [4, 8],
    seeds,
    train: { epochs: 2, stepsPerEpoch: steps, batchSize: 8, lr: 0.01, lrMin: 0.001 },
    samples: { train: 64, val: 16, test: 32 },
  };
}

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): {
  child: ChildProcess;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>;
} {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '',
    stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>(
    (resolve) => child.on('exit', (status, signal) => resolve({ status, signal, stderr, stdout })),
  );
  return { child, done };
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const records = (file: string) =>
  lines(file).flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return [];
    }
  });
const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('grid', () => {
  it('expands the presets to the documented sizes with distinct, stable ids', () => {
    expect(expandGrid(FIG2)).toHaveLength(3 * 4 * 6 * 7);
    expect(expandGrid(FIG3)).toHaveLength(2 * 4 * 5 * 5);
    for (const p of [FIG2, FIG3, FIG2_QUICK, FIG3_QUICK]) {
      const cells = expandGrid(p);
      expect(new Set(cells.map((c) => c.id)).size).toBe(cells.length);
      expect(expandGrid(structuredClone(p)).map((c) => c.id)).toEqual(cells.map((c) => c.id));
      cells.forEach((c, i) => {
        expect(c.index).toBe(i);
        expect(c.job.id).toBe(c.id);
        expect(c.id).toMatch(/^[0-9a-f]{16}$/);
      });
    }
  });

  it('applies the paper’s state sizes and models (Fig. 2: N = 2κ, ⌈8 ln κ⌉, 4; Fig. 3: N = 4|V|)', () => {
    const cells = expandGrid(FIG2);
    const at = (arch: string, size: number) => cells.find((c) => c.arch === arch && c.size === size)!;
    expect(at('mamba-conv', 16).N).toBe(32);
    expect(at('mamba2', 8).N).toBe(Math.ceil(8 * Math.log(8)));
    expect(at('mamba-s4d', 32).N).toBe(4);
    expect(at('mamba-conv', 4).job.model).toMatchObject({ mixer: 's6', gate: false, conv: { kernelSize: 4 } });
    expect(at('mamba-s4d', 4).job.model).toMatchObject({ mixer: 's4d', gate: { activation: 'silu' } });
    expect(at('mamba-conv', 4).job.task).toEqual({ task: 'mqar', mode: 'paper', numKeys: 4, vocabSize: 128, T: 100 });
    const ih = expandGrid(FIG3).find((c) => c.arch === 'mamba-delta-t' && c.size === 20)!;
    expect(ih.N).toBe(80);
    expect(ih.job.model).toMatchObject({ mixer: 'mambaDeltaT', gate: false });
    expect(ih.job.task).toMatchObject({ task: 'induction-heads', setting: 'hard', p: 0.75, gamma: 0.1, T: 100 });
    // the seed sets model init, batch order and data
    const s3 = cells.find((c) => c.seed === 3)!;
    expect(s3.job.train.seed).toBe(3);
    expect((s3.job.model as { seed: number }).seed).toBe(3);
    expect(s3.job.seed).toBe(3);
    expect(stateSize('8*ln(size)', 4)).toBe(12);
    expect(stateSize('2*log2(size)', 32)).toBe(10);
  });

  it('ids hash the canonical JSON: key order does not matter, any change does', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(hashId({ a: 1, b: 2 })).toBe(hashId({ b: 2, a: 1 }));
    expect(hashId({ a: 1, b: 2 })).not.toBe(hashId({ a: 1, b: 3 }));
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    for (const t of ['', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'κ|V|Δ⊤ '.repeat(300)])
      expect(sha256Hex(t)).toBe(createHash('sha256').update(t).digest('hex'));
    const a = expandGrid(tinySpec('x', [0])),
      b = expandGrid({ ...tinySpec('y', [0]), train: { ...tinySpec('y', [0]).train, lr: 0.02 } });
    expect(a[0].id).not.toBe(b[0].id);
  });

  it('rejects bad specs with errors naming the field, the expected and the actual value', () => {
    const bad = (patch: Record<string, unknown>) => () => validateSweepSpec({ ...tinySpec('t', [0]), ...patch });
    expect(bad({ sizes: [5] })).toThrow(/spec\.sizes\[0\]: expected κ ≤ T\/3 = 4 .*got 5/);
    expect(bad({ architectures: [{ model: 'mamba3', N: 2 }] })).toThrow(
      /spec\.architectures\[0\]\.model: expected "mamba\+pe" \| "mamba" \| "s4d" \| .*"mamba-conv" \| "mamba2" \| "mamba-s4d" \| "mamba-delta-t" .*, got "mamba3"/,
    );
    expect(bad({ architectures: [{ model: 'mamba-conv', N: '2*kappa' }] })).toThrow(
      /spec\.architectures\[0\]\.N: expected an integer ≥ 1 or a rule/,
    );
    expect(bad({ d: [] })).toThrow(/spec\.d: expected a non-empty array/);
    expect(bad({ seeds: [0, 0] })).toThrow(/spec\.seeds: expected distinct values/);
    expect(bad({ epochs: 3 })).toThrow(/spec\.epochs: expected one of the fields/);
    expect(bad({ task: { kind: 'induction-heads', T: 20 }, sizes: [10] })).toThrow(
      /spec\.sizes\[0\]: expected \|V\| < \(T − 1\)\/2/,
    );
    expect(bad({ train: { epochs: 0, batchSize: 8, lr: 0.01, lrMin: 0 } })).toThrow(ConfigError);
  });
});

describe('shards', () => {
  it('partition the grid exactly for every n: union = grid, pairwise disjoint, sizes within one', () => {
    const grid = expandGrid(FIG2);
    for (const n of [1, 2, 3, 5, 7, 16, 64, 600]) {
      const parts = Array.from({ length: n }, (_, i) => shardCells(grid, { index: i, count: n }).map((c) => c.id));
      const all = parts.flat();
      expect(all.length, `n=${n}`).toBe(grid.length);
      expect(new Set(all).size, `n=${n}`).toBe(grid.length);
      expect([...new Set(all)].sort()).toEqual(grid.map((c) => c.id).sort());
      const sizes = parts.map((p) => p.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('come from --shard, Slurm array variables or a Kubernetes completion index', () => {
    expect(parseShard('2/5')).toMatchObject({ index: 2, count: 5 });
    expect(() => parseShard('5/5')).toThrow(/--shard: expected i\/n with integers 0 ≤ i < n/);
    expect(() => parseShard('1-4')).toThrow(ConfigError);
    expect(resolveShard(undefined, {})).toMatchObject({ index: 0, count: 1 });
    expect(resolveShard('1/3', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '8' })).toMatchObject({
      index: 1,
      count: 3,
    });
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '8' })).toMatchObject({
      index: 3,
      count: 8,
    });
    expect(
      resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_COUNT: '8', SLURM_ARRAY_TASK_MIN: '1' }),
    ).toMatchObject({ index: 7, count: 8 });
    expect(() => resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '3' })).toThrow(/SLURM_ARRAY_TASK_COUNT/);
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '4', SSM_SWEEP_SHARDS: '6' })).toMatchObject({
      index: 4,
      count: 6,
    });
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '4' })).toThrow(/SSM_SWEEP_SHARDS/);
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '6', SSM_SWEEP_SHARDS: '6' })).toThrow(
      /JOB_COMPLETION_INDEX/,
    );
  });
});

/** A synthetic result record, as ssm-core 0.1 wrote them (no `names`: mamba = mamba-conv, s4d = mamba-s4d, mamba-dt = mamba-delta-t). */
function rec(
  cell: { arch: 'mamba' | 'mamba2' | 's4d' | 'mamba-dt'; size: number; d: number; seed: number; N?: number },
  accuracy: number,
  finishedAt = '2026-01-01T00:00:00.000Z',
  vocabSize = 128,
): ResultRecord {
  const id = hashId(cell);
  return {
    type: 'result',
    id,
    sweep: 's',
    finishedAt,
    startedAt: '2026-01-01T00:00:00.000Z',
    cpuSeconds: 1,
    cell: {
      ...cell,
      N: cell.N ?? 8,
      task: { task: 'mqar', mode: 'paper', numKeys: cell.size, vocabSize, T: 100 },
      label: `${cell.arch} ${cell.size} ${cell.d}`,
    },
    result: {
      id,
      label: '',
      accuracy,
      loss: 0,
      params: 1,
      seconds: 1,
      steps: 10,
      epochs: 1,
      stopReason: 'epochs',
      backend: 'wasm',
    },
  };
}

describe('results files and merge', () => {
  it('the reader skips a torn last line and foreign lines, keeping every complete record', () => {
    const a = rec({ arch: 'mamba', size: 4, d: 8, seed: 0 }, 0.5),
      b = rec({ arch: 'mamba', size: 4, d: 16, seed: 0 }, 1);
    const text =
      JSON.stringify({ type: 'start', id: a.id, sweep: 's', label: '', at: '' }) +
      '\n' +
      JSON.stringify(a) +
      '\n' +
      'not json\n' +
      JSON.stringify(b).slice(0, 57);
    const p = parseResults(text);
    expect([...p.results.keys()]).toEqual([a.id]);
    expect(p.records).toHaveLength(2);
    expect(p.skipped.map((s) => s.line)).toEqual([3, 4]);
  });

  it('an append cut short (a file size limit: a short write) throws and leaves only whole lines', () => {
    const out = join(tmp(), 'r.jsonl');
    const r = rec({ arch: 'mamba', size: 4, d: 8, seed: 0 }, 0.5);
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script =
      `import { ResultsWriter } from ${JSON.stringify(dist)};` +
      `const w = await ResultsWriter.open(${JSON.stringify(out)}); let n = 0;` +
      `try { for (;;) { await w.append({ ...${JSON.stringify(r)}, pid: n }); n++; } }` +
      ` catch (e) { console.log(n + ' | ' + e.name + ' | ' + e.message); }`;
    // `ulimit -f 2`: files of at most 2 KiB for this shell and its node child
    const res = execFileSync(
      'bash',
      ['-c', 'ulimit -f 2 && exec "$0" --input-type=module -e "$1"', process.execPath, script],
      { encoding: 'utf8' },
    );
    const len = Buffer.byteLength(JSON.stringify({ ...r, pid: 0 }) + '\n');
    const n = Math.floor(2048 / len);
    expect(res.trim()).toMatch(
      new RegExp(
        `^${n} \\| FileError \\| .*r\\.jsonl: expected ${len} bytes appended, got ${2048 - n * len} \\(a short write`,
      ),
    );
    const text = readFileSync(out, 'utf8');
    expect(text.length).toBe(n * len);
    expect(parseResults(text).records.map((x) => (x as ResultRecord).pid)).toEqual([...Array(n).keys()]);
  });

  it('merge is order-independent: every permutation of the inputs gives byte-identical output', () => {
    const c1 = rec({ arch: 'mamba', size: 4, d: 8, seed: 0 }, 0.4);
    const c1later = {
      ...rec({ arch: 'mamba', size: 4, d: 8, seed: 0 }, 0.9, '2026-01-02T00:00:00.000Z'),
      host: 'other',
    };
    const c1tie = { ...c1, host: 'zzz' };
    const c2 = rec({ arch: 's4d', size: 8, d: 32, seed: 1 }, 1);
    const c3 = rec({ arch: 'mamba2', size: 4, d: 16, seed: 2 }, 0.7);
    const start = JSON.stringify({ type: 'start', id: c2.id, sweep: 's', label: '', at: '' });
    const files = [
      [c1later, c2].map((r) => JSON.stringify(r)).join('\n') + '\n',
      [start, JSON.stringify(c3), JSON.stringify(c1tie)].join('\n') + '\n',
      [JSON.stringify(c1), JSON.stringify(c2).slice(0, 40)].join('\n'),
    ].map(parseResults);
    const perms = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    const outs = perms.map((p) => toJsonl(mergeResults(p.map((i) => files[i]))));
    for (const o of outs) expect(o).toBe(outs[0]);
    const merged = mergeResults(files);
    expect(merged.map((r) => r.id).sort()).toEqual([c1.id, c2.id, c3.id].sort());
    expect(merged.every((r) => r.type === 'result')).toBe(true);
    // duplicates of a cell: the earliest finish wins; a tie is broken by content, not by input order
    const kept = merged.find((r) => r.id === c1.id)!;
    expect(kept.finishedAt).toBe(c1.finishedAt);
    expect(kept.host).toBe(canonicalJson(c1) < canonicalJson(c1tie) ? c1.host : 'zzz');
    // merging a merge changes nothing
    expect(toJsonl(mergeResults([parseResults(outs[0])]))).toBe(outs[0]);
  });
});

describe('results records are validated; merge reports conflicts', () => {
  const a = rec({ arch: 'mamba', size: 4, d: 8, seed: 0 }, 0.5);
  const b = rec({ arch: 'mamba', size: 4, d: 16, seed: 0 }, 1);
  const line = (r: unknown) => (typeof r === 'string' ? r : JSON.stringify(r));
  const withField = (path: string[], value: unknown) => {
    const r = JSON.parse(JSON.stringify(b));
    let o = r;
    for (const k of path.slice(0, -1)) o = o[k];
    if (value === undefined) delete o[path[path.length - 1]];
    else o[path[path.length - 1]] = value;
    return r;
  };
  const cases: [string, unknown, RegExp][] = [
    ['finishedAt missing', withField(['finishedAt'], undefined), /finishedAt: expected an ISO 8601 time/],
    [
      'finishedAt numeric',
      withField(['finishedAt'], 1767225600000),
      /finishedAt: expected an ISO 8601 time.*1767225600000/,
    ],
    ['finishedAt not a date', withField(['finishedAt'], 'yesterday'), /finishedAt: expected an ISO 8601 time/],
    ['size "big"', withField(['cell', 'size'], 'big'), /cell\.size: expected an integer ≥ 1, got "big"/],
    ['d 0', withField(['cell', 'd'], 0), /cell\.d: expected an integer ≥ 1, got 0/],
    ['seed −1', withField(['cell', 'seed'], -1), /cell\.seed: expected an integer ≥ 0/],
    [
      'accuracy 1.5',
      withField(['result', 'accuracy'], 1.5),
      /result\.accuracy: expected a number in \[0, 1\], got 1\.5/,
    ],
    ['accuracy "1"', withField(['result', 'accuracy'], '1'), /result\.accuracy: expected a number in \[0, 1\]/],
    ['a result of another id', withField(['result', 'id'], a.id), /result\.id: expected .*the record's id/],
    ['an unknown type', { ...b, type: 'done' }, /type: expected "start" \| "result" \| "error", got "done"/],
    ['a duplicate key', line(b).replace('{"type":"result",', '{"type":"result","type":"result",'), /"type" twice/],
    ['a __proto__ key', line(b).replace('"cell":{', '"cell":{"__proto__":{"size":4},'), /__proto__/],
    ['a constructor key', line(b).replace('"result":{', '"result":{"constructor":1,'), /constructor/],
  ];
  for (const [what, bad, msg] of cases) {
    it(`a line with ${what} is invalid, named with its field, and left out of every merge order`, () => {
      const text = [line(a), line(bad)].join('\n') + '\n';
      const p = parseResults(text);
      expect([...p.results.keys()]).toEqual([a.id]);
      expect(p.invalid.map((x) => x.line)).toEqual([2]);
      expect(p.invalid[0].reason).toMatch(msg);
      expect(p.skipped).toEqual([]);
      const other = parseResults(line(b) + '\n');
      expect(toJsonl(mergeResults([p, other]))).toBe(toJsonl(mergeResults([other, p])));
    });
  }

  it('merge orders duplicates by time, not by text, so equal instants in other spellings tie on content', () => {
    const early = { ...b, finishedAt: '2026-01-01T00:00:00Z', host: 'x' };
    const late = { ...b, finishedAt: '2025-12-31T23:00:00.000-02:00', host: 'y' }; // 01:00Z: later, though it sorts first as text
    const p1 = parseResults(line(early) + '\n'),
      p2 = parseResults(line(late) + '\n');
    for (const order of [
      [p1, p2],
      [p2, p1],
    ]) {
      const m = mergeResults(order);
      expect(m).toHaveLength(1);
      expect(m[0].host).toBe('x');
    }
  });

  it('two different outcomes for one cell are reported as a conflict (reruns with equal outcomes are not)', () => {
    const b2 = { ...b, result: { ...b.result, accuracy: 0.25 }, finishedAt: '2026-01-03T00:00:00.000Z', host: 'h2' };
    const b3 = { ...b, result: { ...b.result, seconds: 99 }, finishedAt: '2026-01-04T00:00:00.000Z', host: 'h3' };
    const inputs = [a, b, b2, b3].map((r) => parseResults(line(r) + '\n'));
    const r1 = mergeResultsChecked(inputs);
    const r2 = mergeResultsChecked([...inputs].reverse());
    expect(toJsonl(r1.records)).toBe(toJsonl(r2.records));
    expect(r1.conflicts).toEqual(r2.conflicts);
    expect(r1.conflicts).toHaveLength(1);
    expect(r1.conflicts[0].id).toBe(b.id);
    expect(r1.conflicts[0].kept.result.accuracy).toBe(1);
    expect(r1.conflicts[0].others.map((o) => o.result.accuracy)).toEqual([0.25]);
    expect(mergeResultsChecked([inputs[0], inputs[1], inputs[3]]).conflicts).toEqual([]);
  });
});

describe('report', () => {
  it('finds the smallest d reaching the threshold per architecture and κ, next to the constructions’ bounds, with a verdict', () => {
    const rs: ResultRecord[] = [];
    for (const d of [8, 16, 32])
      for (const seed of [0, 1]) {
        rs.push(rec({ arch: 'mamba', size: 4, d, seed }, d >= 16 && seed === 1 ? 1 : 0.5));
        rs.push(rec({ arch: 'mamba2', size: 8, d, seed, N: 17 }, d >= 8 ? 1 : 0.3));
        rs.push(rec({ arch: 's4d', size: 4, d, seed, N: 4 }, 0.2 + d / 100));
        rs.push(rec({ arch: 'mamba', size: 2, d, seed, N: 4 }, d === 32 ? 1 : 0.4));
      }
    const r = sweepReport(rs);
    const row = (arch: string, size: number) => r.summary.find((s) => s.arch === arch && s.size === size)!;
    expect(row('mamba-conv', 4)).toMatchObject({ smallestD: 16, boundD: 4 + 7, verdict: 'tight', bestAccuracy: 1 }); // Thm. 2: κ + log₂|V|
    expect(row('mamba2', 8)).toMatchObject({ smallestD: 8, boundD: 3 + 7, verdict: 'below' }); // Thm. 3: log₂κ + log₂|V|
    expect(row('mamba-conv', 2)).toMatchObject({ smallestD: 32, boundD: 2 + 7, verdict: 'above' }); // 16 ≥ 9 failed
    expect(row('mamba-s4d', 4)).toMatchObject({ smallestD: null, boundD: 4 * 7, verdict: 'not reached' }); // Thm. 4: κ log₂|V|
    const p = r.panels.find((x) => x.arch === 'mamba-conv')!;
    expect(p.x).toEqual([2, 4]);
    expect(p.y).toEqual([8, 16, 32]);
    expect(p.z).toEqual([
      [0.4, 0.5],
      [0.4, 1],
      [1, 1],
    ]);
    expect(p.seeds).toEqual([
      [2, 2],
      [2, 2],
      [2, 2],
    ]);
    expect(p.bound?.theorem).toBe('Thm. 2');
    expect(r.text).toMatch(/Smallest d reaching ≥ 99\.9% vs the theorem's bound/);
    expect(sweepReport(rs, { threshold: 1 }).text).toMatch(/Smallest d reaching 100% vs/);
    expect(r.text).toMatch(/Mamba-2 +8 +17 +8 +10/);
  });
});

describe('ssm-lab sweep (CLI, tiny grids)', () => {
  it('resume after SIGKILL loses nothing and recomputes nothing that had finished', async () => {
    const dir = tmp();
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(tinySpec('resume', [0, 1, 2], 40)));
    const out = join(dir, 'r.jsonl');
    const grid = expandGrid(tinySpec('resume', [0, 1, 2], 40));
    const first = runCli(['sweep', 'run', specFile, '--out', out, '--workers', '1']);
    let killedAfter: string[] = [];
    for (let i = 0; i < 1200; i++) {
      const done = records(out).filter((r) => r.type === 'result');
      if (done.length >= 1) {
        first.child.kill('SIGKILL');
        break;
      }
      await sleep(25);
    }
    const r1 = await first.done;
    expect(r1.signal).toBe('SIGKILL');
    killedAfter = records(out)
      .filter((r) => r.type === 'result')
      .map((r) => r.id);
    expect(killedAfter.length).toBeGreaterThanOrEqual(1);
    expect(killedAfter.length, 'the kill came too late to test anything').toBeLessThan(grid.length);
    await sleep(300); // the orphaned worker process exits on IPC disconnect
    const before = lines(out);

    const second = runCli(['sweep', 'run', specFile, '--out', out, '--workers', '2']);
    const r2 = await second.done;
    expect(r2.status, r2.stderr.slice(-1500)).toBe(0);
    expect(r2.stderr).toMatch(new RegExp(`${killedAfter.length} already in`));
    const all = records(out);
    // nothing finished was lost or rewritten: the old lines are a prefix of the file
    expect(lines(out).slice(0, before.length)).toEqual(before);
    const results = count(all.filter((r) => r.type === 'result').map((r) => r.id));
    expect([...results.keys()].sort()).toEqual(grid.map((c) => c.id).sort());
    for (const [id, n] of results) expect(n, id).toBe(1);
    const starts = count(all.filter((r) => r.type === 'start').map((r) => r.id));
    for (const id of killedAfter) expect(starts.get(id), `finished cell ${id} was started again`).toBe(1);
    // a third run has nothing to do
    const r3 = await runCli(['sweep', 'run', specFile, '--out', out]).done;
    expect(r3.status).toBe(0);
    expect(r3.stderr).toMatch(new RegExp(`${grid.length} already in .*0 to run`));
    expect(records(out).length).toBe(all.length);
  }, 180_000);

  it('Ctrl-C checkpoints the running cells; the rerun resumes them and ends where an uninterrupted run ends', async () => {
    const spec: SweepSpec = {
      ...tinySpec('sigint', [0, 1], 50),
      architectures: [{ model: 'mamba-conv', N: 4 }],
      d: [8],
      train: { ...tinySpec('x', [0]).train, epochs: 10, stepsPerEpoch: 50 },
    };
    const dir = tmp();
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const ref = join(dir, 'ref.jsonl'),
      out = join(dir, 'int.jsonl');
    const first = runCli(['sweep', 'run', specFile, '--out', out, '--workers', '2']);
    const uninterrupted = runCli(['sweep', 'run', specFile, '--out', ref, '--workers', '2', '--runs', 'off']).done;
    for (let i = 0; i < 2400 && records(out).filter((r) => r.type === 'start').length < 2; i++) await sleep(25);
    await sleep(1000);
    first.child.kill('SIGINT');
    const r1 = await first.done;
    expect(r1.status, r1.stderr.slice(-1500)).toBe(130);
    expect(r1.stderr).toMatch(/interrupted: Mamba .*checkpoint in/);
    expect(records(out).filter((r) => r.type === 'result')).toHaveLength(0);
    const r2 = await runCli(['sweep', 'run', specFile, '--out', out, '--workers', '2', '--verbose']).done;
    expect(r2.status, r2.stderr.slice(-1500)).toBe(0);
    expect(r2.stderr).toMatch(/resumed from .*checkpoint\.safetensors/);
    expect((await uninterrupted).status).toBe(0);
    const acc = (f: string) =>
      Object.fromEntries(
        records(f)
          .filter((r) => r.type === 'result')
          .map((r) => [r.id, [r.result.accuracy, r.result.loss, r.result.steps]]),
      );
    expect(acc(out)).toEqual(acc(ref));
    expect(Object.keys(acc(out))).toHaveLength(2);
  }, 180_000);

  it('a torn last line is ignored and that cell reruns', async () => {
    const dir = tmp();
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(tinySpec('torn', [0], 5)));
    const out = join(dir, 't.jsonl');
    const r1 = await runCli(['sweep', 'run', specFile, '--out', out, '--workers', '2', '--runs', 'off']).done;
    expect(r1.status, r1.stderr.slice(-1500)).toBe(0);
    const ls = lines(out);
    const lastResult = ls
      .map((l) => JSON.parse(l))
      .filter((r) => r.type === 'result')
      .pop()!;
    const idx = ls.findIndex((l) => JSON.parse(l).type === 'result' && JSON.parse(l).id === lastResult.id);
    const kept = ls.slice(0, idx).concat(ls.slice(idx + 1));
    writeFileSync(out, kept.join('\n') + '\n' + ls[idx].slice(0, Math.floor(ls[idx].length / 2))); // no trailing newline: torn mid-write
    const r2 = await runCli(['sweep', 'run', specFile, '--out', out, '--runs', 'off']).done;
    expect(r2.status, r2.stderr.slice(-1500)).toBe(0);
    expect(r2.stderr).toMatch(/ignored 1 incomplete line/);
    expect(r2.stderr).toMatch(/1 to run/);
    const p = parseResults(readFileSync(out, 'utf8'));
    expect(p.skipped).toHaveLength(1); // the fragment stays on its own line and is skipped
    expect(p.results.size).toBe(4);
    const results = count(p.records.filter((r) => r.type === 'result').map((r) => r.id));
    for (const n of results.values()) expect(n).toBe(1);
    expect(count(p.records.filter((r) => r.type === 'start').map((r) => r.id)).get(lastResult.id)).toBe(2);
  }, 120_000);

  it('shards from --shard and from Slurm variables partition the run; merge combines them', async () => {
    const dir = tmp();
    const specFile = join(dir, 'spec.json');
    const spec = tinySpec('shards', [0, 1], 3);
    writeFileSync(specFile, JSON.stringify(spec));
    const out = join(dir, 's.jsonl');
    const [a, b, c] = await Promise.all([
      runCli(['sweep', 'run', specFile, '--out', out, '--workers', '1', '--shard', '0/3', '--runs', 'off']).done,
      runCli(['sweep', 'run', specFile, '--out', out, '--workers', '1', '--runs', 'off'], {
        SLURM_ARRAY_TASK_ID: '2',
        SLURM_ARRAY_TASK_COUNT: '3',
        SLURM_ARRAY_TASK_MIN: '1',
      }).done,
      runCli(['sweep', 'run', specFile, '--out', out, '--workers', '1', '--runs', 'off'], {
        JOB_COMPLETION_INDEX: '2',
        SSM_SWEEP_SHARDS: '3',
      }).done,
    ]);
    for (const r of [a, b, c]) expect(r.status, r.stderr.slice(-1500)).toBe(0);
    const files = [0, 1, 2].map((i) => join(dir, `s.shard-${i}-of-3.jsonl`));
    const ids = files.map((f) =>
      records(f)
        .filter((r) => r.type === 'result')
        .map((r) => r.id),
    );
    const grid = expandGrid(spec);
    ids.forEach((x, i) =>
      expect(x.sort()).toEqual(
        shardCells(grid, { index: i, count: 3 })
          .map((c) => c.id)
          .sort(),
      ),
    );
    const m1 = join(dir, 'm1.jsonl'),
      m2 = join(dir, 'm2.jsonl');
    const [x, y] = await Promise.all([
      runCli(['sweep', 'merge', ...files, '--out', m1]).done,
      runCli(['sweep', 'merge', files[2], files[0], files[1], files[0], '--out', m2]).done,
    ]);
    expect(x.status, x.stderr).toBe(0);
    expect(y.status, y.stderr).toBe(0);
    expect(readFileSync(m1, 'utf8')).toBe(readFileSync(m2, 'utf8'));
    expect(
      records(m1)
        .map((r) => r.id)
        .sort(),
    ).toEqual(grid.map((c) => c.id).sort());
    const rep = await runCli(['sweep', 'report', m1, '--json', join(dir, 'fig.json')]).done;
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stdout).toMatch(/Smallest d reaching ≥ 99\.9%/);
    const fig = JSON.parse(readFileSync(join(dir, 'fig.json'), 'utf8'));
    expect(fig.figure).toBe('fig2');
    expect(fig.panels.map((p: { arch: string }) => p.arch)).toEqual(['mamba-conv', 'mamba2']);
    expect(fig.panels[0].bound.points[0]).toMatchObject({ size: 2, d: 2 + 2 }); // Thm. 2 at κ = 2, |V| = 4
  }, 120_000);

  it('a failing cell gets an error line, the others finish, and a rerun retries only the failed cell', async () => {
    const dir = tmp();
    const spec: SweepSpec = {
      ...tinySpec('fail', [0], 3),
      architectures: [
        { model: 'mamba-conv', N: 2 },
        { model: 'mamba2', N: 2, overrides: { dtRank: 0 } },
      ],
      d: [4],
    };
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const out = join(dir, 'f.jsonl');
    const [good, bad] = expandGrid(spec);
    const r1 = await runCli(['sweep', 'run', specFile, '--out', out, '--workers', '2', '--runs', 'off']).done;
    expect(r1.status).toBe(1);
    expect(r1.stderr).toMatch(/FAILED: Mamba-2 κ=2 d=4 .*config\.dtRank: expected a positive integer, got 0/);
    const recs = records(out);
    expect(recs.filter((r) => r.type === 'result').map((r) => r.id)).toEqual([good.id]);
    expect(recs.filter((r) => r.type === 'error').map((r) => r.id)).toEqual([bad.id]);
    const r2 = await runCli(['sweep', 'run', specFile, '--out', out, '--runs', 'off']).done;
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/1 already in .*1 to run/);
    const starts = count(
      records(out)
        .filter((r) => r.type === 'start')
        .map((r) => r.id),
    );
    expect(starts.get(good.id)).toBe(1);
    expect(starts.get(bad.id)).toBe(2);
  }, 60_000);

  it('merge and report refuse invalid records naming file, line and field; merge warns of conflicts', async () => {
    const dir = tmp();
    const a = rec({ arch: 'mamba', size: 4, d: 8, seed: 0 }, 0.5);
    const b = rec({ arch: 'mamba', size: 4, d: 16, seed: 0 }, 1);
    const good = join(dir, 'good.jsonl'),
      big = join(dir, 'big.jsonl'),
      other = join(dir, 'other.jsonl');
    writeFileSync(good, [a, b].map((r) => JSON.stringify(r) + '\n').join(''));
    writeFileSync(big, JSON.stringify({ ...a, cell: { ...a.cell, size: 'big' } }) + '\n');
    const b2 = {
      ...b,
      result: { ...b.result, accuracy: 0.25 },
      finishedAt: '2026-01-02T00:00:00.000Z',
      host: 'elsewhere',
    };
    writeFileSync(other, JSON.stringify(b2) + '\n');
    const [m, r] = await Promise.all([
      runCli(['sweep', 'merge', good, big, '--out', join(dir, 'm.jsonl')]).done,
      runCli(['sweep', 'report', big]).done,
    ]);
    for (const x of [m, r]) {
      expect(x.status, x.stderr).toBe(2);
      expect(x.stderr).toMatch(
        /big\.jsonl:1: expected a valid sweep record, got cell\.size: expected an integer ≥ 1, got "big"/,
      );
    }
    expect(existsSync(join(dir, 'm.jsonl'))).toBe(false);
    const c = await runCli(['sweep', 'merge', good, other, '--out', join(dir, 'c.jsonl')]).done;
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(
      new RegExp(`conflict: cell ${b.id} .*: 2 different outcomes.*kept accuracy 1 .*also accuracy 0\\.25`),
    );
    expect(c.stderr).toMatch(/1 conflicting cell\(s\)/);
  }, 60_000);

  it('sweep run ignores an invalid result line, naming it, and reruns that cell', async () => {
    const dir = tmp();
    const spec: SweepSpec = { ...tinySpec('invalid', [0], 3), architectures: [{ model: 'mamba2', N: 2 }], d: [4] };
    const specFile = join(dir, 'spec.json');
    writeFileSync(specFile, JSON.stringify(spec));
    const [cell] = expandGrid(spec);
    const bad = { ...rec({ arch: 'mamba2', size: 2, d: 4, seed: 0 }, 1), id: cell.id };
    const out = join(dir, 'r.jsonl');
    writeFileSync(
      out,
      JSON.stringify({ ...bad, result: { ...bad.result, id: cell.id }, cell: { ...bad.cell, size: 'big' } }) + '\n',
    );
    const r = await runCli(['sweep', 'run', specFile, '--out', out, '--workers', '1', '--runs', 'off']).done;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /0 already in .*ignored 1 invalid line\(s\) \(first: line 1: cell\.size: expected an integer ≥ 1, got "big"\)/,
    );
    const p = parseResults(readFileSync(out, 'utf8'));
    expect([...p.results.keys()]).toEqual([cell.id]);
    expect(p.invalid.map((x) => x.line)).toEqual([1]);
  }, 60_000);

  it('a spec file with a duplicate or __proto__ key is refused with the key named', async () => {
    const dir = tmp();
    const spec = JSON.stringify(tinySpec('keys', [0]));
    const dup = join(dir, 'dup.json'),
      proto = join(dir, 'proto.json');
    writeFileSync(dup, spec.replace('"name":"keys"', '"name":"keys","name":"other"'));
    writeFileSync(proto, spec.replace('"train":{', '"train":{"__proto__":{"epochs":1000},'));
    const [d, p] = await Promise.all([
      runCli(['sweep', 'run', dup, '--dry-run']).done,
      runCli(['sweep', 'run', proto, '--dry-run']).done,
    ]);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/dup\.json: expected JSON without duplicate keys, got key "name" twice/);
    expect(p.status).toBe(2);
    expect(p.stderr).toMatch(/proto\.json: expected JSON without the keys __proto__, constructor, prototype/);
  }, 60_000);

  it('lists presets and refuses bad input with the field named', async () => {
    const l = await runCli(['sweep', 'list']).done;
    expect(l.status).toBe(0);
    expect(l.stdout).toMatch(/fig2 +504 cells/);
    expect(l.stdout).toMatch(/fig3-quick/);
    const bad = await runCli(['sweep', 'run', 'fig9']).done;
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /<spec\|preset>: expected a spec file \(\.json\) or one of the presets fig2, fig3, fig2-quick, fig3-quick, got "fig9"/,
    );
    const shard = await runCli(['sweep', 'run', 'fig2-quick', '--shard', '3/3', '--dry-run']).done;
    expect(shard.status).toBe(2);
    expect(shard.stderr).toMatch(/--shard: expected i\/n/);
  }, 60_000);
});
