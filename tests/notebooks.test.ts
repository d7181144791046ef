/**
 * The stored notebooks (executing them is `npm run notebooks`, which CI runs): committed without
 * outputs, for the tslab kernel, importing the library by package name as a user's project would.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NOTEBOOK_DIR, storedProblems, type Notebook } from '../scripts/jupyter.js';

const files = readdirSync(NOTEBOOK_DIR).filter((f) => f.endsWith('.ipynb')).sort();
const load = (f: string) => JSON.parse(readFileSync(join(NOTEBOOK_DIR, f), 'utf8')) as Notebook;
const source = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);

describe('stored notebooks', () => {
  it('exist (one per chapter, at least the primer)', () => {
    expect(files).toContain('01-selectivity-primer.ipynb');
  });

  it.each(files)('%s is stored without outputs, for the tslab kernel', (f) => {
    expect(storedProblems(load(f))).toEqual([]);
  });

  it.each(files)('%s imports ssm-core by name, never from the packages/ folder', (f) => {
    const code = load(f).cells.filter((c) => c.cell_type === 'code').map((c) => source(c.source)).join('\n');
    expect(code).not.toMatch(/from ['"][./]*packages\//);
    expect(code).toMatch(/from ['"]ssm-core['"]/);
  });
});
