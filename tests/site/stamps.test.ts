// Up-to-date decisions of `npm start` / `npm run build:site` (scripts/site/stamps.ts) on a scratch folder:
// unchanged inputs with outputs present → skip; any edit, addition, removal, rename, setting or missing output
// → build again. The hash is checked against an independent SHA-256 of the same bytes.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clearStamp,
  inputHash,
  packageHashes,
  PACKAGES,
  siteInputs,
  upToDate,
  writeStamp,
  type Inputs,
} from '../../scripts/site/stamps.js';

let dir: string;
let stamps: string;
let inputs: Inputs;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stamps-'));
  stamps = join(dir, 'stamps');
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(dir, 'src', 'sub', 'b.ts'), 'export const b = 2;\n');
  writeFileSync(join(dir, 'src', 'generated.ts'), 'x');
  writeFileSync(join(dir, 'package.json'), '{}');
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist', 'index.js'), '');
  inputs = { root: dir, paths: ['package.json', 'src', 'missing.json'], exclude: ['src/generated.ts'] };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const decide = (extra: string[] = []) => {
  const h = inputHash({ ...inputs, extra });
  return upToDate('pkg', h, [join(dir, 'dist', 'index.js')], stamps);
};
const build = (extra: string[] = []) => writeStamp('pkg', inputHash({ ...inputs, extra }), stamps);

describe('input hashes and stamps', () => {
  it('hashes sorted relative paths and bytes (an independent SHA-256 of the same stream)', () => {
    const h = createHash('sha256');
    for (const [f, body] of [
      ['package.json', '{}'],
      ['src/a.ts', 'export const a = 1;\n'],
      ['src/sub/b.ts', 'export const b = 2;\n'],
    ])
      h.update(`file ${f}\0`).update(body).update('\0');
    h.update('extra X=1\0');
    expect(inputHash({ ...inputs, extra: ['X=1'] })).toBe(h.digest('hex'));
  });

  it('never built → build; built, nothing changed → skip', () => {
    expect(decide()).toBe(false);
    build();
    expect(decide()).toBe(true);
  });

  it('an edit, an added file, a removed file or a rename → build again', () => {
    build();
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 2;\n');
    expect(decide()).toBe(false);
    build();
    writeFileSync(join(dir, 'src', 'sub', 'c.ts'), '');
    expect(decide()).toBe(false);
    build();
    rmSync(join(dir, 'src', 'sub', 'c.ts'));
    expect(decide()).toBe(false);
    build();
    renameSync(join(dir, 'src', 'sub', 'b.ts'), join(dir, 'src', 'sub', 'b2.ts'));
    expect(decide()).toBe(false);
    build();
    writeFileSync(join(dir, 'missing.json'), '1'); // an input that did not exist before
    expect(decide()).toBe(false);
  });

  it('excluded and unlisted files do not count', () => {
    build();
    writeFileSync(join(dir, 'src', 'generated.ts'), 'y');
    writeFileSync(join(dir, 'README.md'), 'z');
    mkdirSync(join(dir, 'src', 'node_modules'));
    writeFileSync(join(dir, 'src', 'node_modules', 'x.js'), '');
    expect(decide()).toBe(true);
  });

  it('another setting (e.g. BASE_URL) or a missing output → build again; a cleared stamp is not up to date', () => {
    build(['BASE_URL=/']);
    expect(decide(['BASE_URL=/'])).toBe(true);
    expect(decide(['BASE_URL=/repo/'])).toBe(false);
    rmSync(join(dir, 'dist', 'index.js'));
    expect(decide(['BASE_URL=/'])).toBe(false);
    writeFileSync(join(dir, 'dist', 'index.js'), '');
    clearStamp('pkg', stamps);
    expect(decide(['BASE_URL=/'])).toBe(false);
  });

  it('packages: a change in ssm-core changes ssm-lab’s hash too (it builds against core)', () => {
    expect(PACKAGES.map((p) => p.name)).toEqual(['ssm-core', 'ssm-plot', 'ssm-lab']);
    const h = packageHashes();
    expect(new Set(h.values()).size).toBe(3);
    expect(h.get('ssm-lab')).not.toBe(
      inputHash(PACKAGES[2].inputs), // without the hashes of the packages before it
    );
  });

  it('the site build depends on SITE_URL and BASE_URL', () => {
    const saved = process.env.BASE_URL;
    try {
      process.env.BASE_URL = '/a/';
      const a = siteInputs([], '/x/build/site').extra;
      process.env.BASE_URL = '/b/';
      expect(siteInputs([], '/x/build/site').extra).not.toEqual(a);
    } finally {
      if (saved === undefined) delete process.env.BASE_URL;
      else process.env.BASE_URL = saved;
    }
  });
});
