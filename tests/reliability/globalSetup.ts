/**
 * Global setup of the reliability suite: a ledger directory every case appends its outcome to (one JSONL file
 * per worker process), and at the end the summary table — per group and in total: cases tried, refused
 * cleanly, correct results, hung, crashed, wrong answers, bytes lost, temporary bytes left, skipped.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { CaseRecord } from './harness.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder of the ledger files (one per worker process). */
    reliabilityLedger: string;
    /** Folder of every case's files, removed at the end. */
    reliabilityRoot: string;
  }
}

/** The summary table of `records` as text (one row per group, then the total). */
export function summaryTable(records: CaseRecord[]): string {
  const groups = [...new Set(records.map((r) => r.group))];
  const cols = [
    'group',
    'tried',
    'refused cleanly',
    'correct',
    'hung',
    'crashed',
    'wrong',
    'bytes lost',
    'tmp bytes left',
    'skipped',
  ];
  const row = (name: string, rs: CaseRecord[]) => {
    const n = (v: CaseRecord['verdict']) => rs.filter((r) => r.verdict === v).length;
    return [
      name,
      rs.filter((r) => r.verdict !== 'skipped').length,
      n('refused'),
      n('correct'),
      n('hung'),
      n('crashed'),
      n('wrong'),
      rs.reduce((a, r) => a + r.bytesLost, 0),
      rs.reduce((a, r) => a + r.tmpBytesLeft, 0),
      n('skipped'),
    ].map(String);
  };
  const rows = [
    cols,
    ...groups.map((g) =>
      row(
        g,
        records.filter((r) => r.group === g),
      ),
    ),
    row('total', records),
  ];
  const width = cols.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(width[i]) : c.padStart(width[i]))).join(' | ')} |`;
  const sep = `|${width.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(rows[0]), sep, ...rows.slice(1, -1).map(line), sep, line(rows[rows.length - 1])].join('\n');
}

export default function setup(project: TestProject) {
  const root = mkdtempSync(join(tmpdir(), 'ssm-reliability-'));
  const dir = join(root, 'ledger');
  mkdirSync(dir);
  project.provide('reliabilityLedger', dir);
  project.provide('reliabilityRoot', root);
  return () => {
    const records: CaseRecord[] = readdirSync(dir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) =>
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as CaseRecord),
      );
    try {
      rmSync(root, { recursive: true, force: true });
    } catch (e) {
      process.stdout.write(`could not remove ${root}: ${(e as Error).message}\n`); // e.g. a tmpfs still mounted
    }
    const bad = records.filter((r) => r.verdict !== 'refused' && r.verdict !== 'correct');
    const out = [
      '',
      'Reliability suite — every case in a child process under a time and memory watchdog',
      summaryTable(records),
      ...bad.map((r) => `  ${r.verdict.toUpperCase()}: ${r.group} / ${r.name}${r.note ? ` — ${r.note}` : ''}`),
      '',
    ];
    process.stdout.write(out.join('\n') + '\n');
  };
}
