/**
 * ssm-core's API reference for the site: TypeDoc + typedoc-plugin-markdown over packages/ssm-core/src/index.ts,
 * one page per namespace, into website/docs/api/ (git-ignored). Skipped when ssm-core's sources, its
 * tsconfig and the TypeDoc versions are unchanged since the last run; otherwise generated into a temporary
 * folder and synced file by file (unchanged pages keep their timestamps, so the bundler's cache stays warm).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORE = join(ROOT, 'packages', 'ssm-core');
const OUT = join(ROOT, 'website', 'docs', 'api');
const STAMP = join(ROOT, 'node_modules', '.cache', 'selectivity-lab', 'api-docs.hash');

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

function inputsHash(): string {
  const h = createHash('sha256');
  for (const f of [
    join(CORE, 'tsconfig.json'),
    join(CORE, 'package.json'),
    fileURLToPath(import.meta.url),
    ...walk(join(CORE, 'src')),
  ]) {
    h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  // (typedoc-plugin-markdown's "exports" hide its package.json: read it from node_modules)
  for (const pkg of ['typedoc', 'typedoc-plugin-markdown'])
    h.update(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json')));
  return h.digest('hex');
}

export function main(): number {
  const t0 = Date.now();
  const hash = inputsHash();
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash && existsSync(join(OUT, 'index.md'))) {
    console.log('API reference: ssm-core unchanged, kept website/docs/api/');
    return 0;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'ssm-api-'));
  try {
    const typedoc = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(
      process.execPath,
      [
        typedoc,
        '--plugin',
        'typedoc-plugin-markdown',
        '--entryPoints',
        join(CORE, 'src', 'index.ts'),
        '--tsconfig',
        join(CORE, 'tsconfig.json'),
        '--out',
        tmp,
        '--name',
        'ssm-core',
        '--readme',
        'none',
        '--entryFileName',
        'index',
        '--outputFileStrategy',
        'modules', // one page per namespace, not one per symbol (~300 pages)
        '--excludeExternals', // not the re-exported `tf` namespace of TensorFlow.js (~1400 pages)
        '--excludePrivate',
        '--excludeInternal',
        '--disableSources',
        '--hideBreadcrumbs',
        '--sanitizeComments', // escape MDX-special characters in comments
        '--logLevel',
        'Error',
      ],
      { cwd: ROOT, stdio: 'inherit' },
    );
    if (r.status !== 0) return r.status ?? 1;
    // sync tmp → OUT
    const want = new Set(walk(tmp).map((f) => relative(tmp, f)));
    let written = 0;
    let removed = 0;
    for (const rel of want) {
      const src = readFileSync(join(tmp, rel));
      const dst = join(OUT, rel);
      if (existsSync(dst) && readFileSync(dst).equals(src)) continue;
      mkdirSync(dirname(dst), { recursive: true });
      writeFileSync(dst, src);
      written++;
    }
    for (const f of walk(OUT))
      if (!want.has(relative(OUT, f))) {
        rmSync(f);
        removed++;
      }
    mkdirSync(dirname(STAMP), { recursive: true });
    writeFileSync(STAMP, hash);
    console.log(
      `API reference: ${want.size} page(s), ${written} written, ${removed} removed, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main();
