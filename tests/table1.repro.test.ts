/**
 * Tab. 1 end to end, as `npm run reproduce` and users run it: `ssm-lab reproduce table1 --preset quick`
 * must reach the paper's verdicts — Mamba+PE and the Transformer solve KEEP FIFTH (≥ 0.99),
 * Mamba without PE, S4D and S4D+PE stay near chance (≤ 0.15) — and write the documented JSON.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../packages/ssm-lab/bin/ssm-lab.js', import.meta.url));

/** Run the CLI without blocking this worker's event loop (vitest's RPC times out on a 5-minute spawnSync). */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

it(
  'reproduce table1 --preset quick reaches the paper verdicts',
  async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'table1-')), 'table1.json');
    const r = await runCli(['reproduce', 'table1', '--preset', 'quick', '--out', out]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.preset).toBe('quick');
    expect(typeof doc.backend).toBe('string');
    expect(doc.seed).toBe(0);
    const acc = Object.fromEntries(
      doc.rows.map((row: { model: string; accuracy: number }) => [row.model, row.accuracy]),
    );
    expect(Object.keys(acc)).toEqual(['Mamba+PE', 'Mamba', 'S4D', 'S4D+PE', 'Transformer']);
    expect(acc['Mamba+PE']).toBeGreaterThanOrEqual(0.99);
    expect(acc['Transformer']).toBeGreaterThanOrEqual(0.99);
    for (const m of ['Mamba', 'S4D', 'S4D+PE']) expect(acc[m], m).toBeLessThanOrEqual(0.15);
    for (const row of doc.rows) {
      expect(row.params).toBeGreaterThan(5000);
      expect(row.seconds).toBeGreaterThan(0);
    }
    expect(r.stdout).toMatch(/\| Mamba\+PE \| 1\.000 \| 1\.00 \| 9152/);
    expect(r.stdout).toMatch(/Verdict \(same as the paper\)/);
  },
  25 * 60_000,
);
