/**
 * Up-to-date checks for `npm start` (./start.ts) and `npm run build:site` (./build.ts): a build step is skipped
 * when its outputs exist and the SHA-256 of its inputs (every file's path and bytes, plus any extra strings such
 * as environment settings) equals the one recorded after its last successful run. Stamps live in
 * build/stamps/<name>.json. Anything that changes an input — an edited, added, removed or renamed file, another
 * base URL — changes the hash, so the step runs again.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const STAMP_DIR = join(ROOT, 'build', 'stamps');

export interface Inputs {
  /** Files or folders (walked recursively), relative to `root`. Missing ones count as absent. */
  paths: readonly string[];
  /** Relative paths (or folder prefixes ending in '/') left out, e.g. generated files inside an input folder. */
  exclude?: readonly string[];
  /** Other things the output depends on (environment settings, arguments). */
  extra?: readonly string[];
  /** Folder the paths are relative to (default: the repository root). */
  root?: string;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.docusaurus', '.ipynb_checkpoints']);

function files(root: string, rel: string, exclude: readonly string[], out: string[]): void {
  const abs = join(root, rel);
  if (!existsSync(abs)) return;
  const norm = rel.split('\\').join('/');
  if (exclude.some((e) => (e.endsWith('/') ? `${norm}/`.startsWith(e) : norm === e))) return;
  if (statSync(abs).isDirectory()) {
    for (const f of readdirSync(abs).sort()) if (!SKIP_DIRS.has(f)) files(root, join(rel, f), exclude, out);
  } else out.push(norm);
}

/** SHA-256 over the inputs' relative paths and contents (sorted) and the extra strings. */
export function inputHash(inputs: Inputs): string {
  const root = inputs.root ?? ROOT;
  const list: string[] = [];
  for (const p of inputs.paths) files(root, p, inputs.exclude ?? [], list);
  const h = createHash('sha256');
  for (const f of [...new Set(list)].sort()) {
    h.update(`file ${f}\0`);
    h.update(readFileSync(join(root, f)));
    h.update('\0');
  }
  for (const e of inputs.extra ?? []) h.update(`extra ${e}\0`);
  return h.digest('hex');
}

interface Stamp {
  hash: string;
  at: string;
}

function stampPath(name: string, dir: string): string {
  return join(dir, `${name.replace(/[^\w.-]+/g, '_')}.json`);
}

/**
 * Whether step `name` may be skipped: every output exists and the recorded hash equals `hash`.
 * `outputs` are absolute paths (or relative to the repository root).
 */
export function upToDate(name: string, hash: string, outputs: readonly string[], dir = STAMP_DIR): boolean {
  if (!outputs.every((o) => existsSync(resolve(ROOT, o)))) return false;
  const p = stampPath(name, dir);
  if (!existsSync(p)) return false;
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as Stamp).hash === hash;
  } catch {
    return false;
  }
}

/** Record that step `name` succeeded with inputs of hash `hash`. */
export function writeStamp(name: string, hash: string, dir = STAMP_DIR): void {
  mkdirSync(dir, { recursive: true });
  const stamp: Stamp = { hash, at: new Date().toISOString() };
  writeFileSync(stampPath(name, dir), JSON.stringify(stamp, null, 2) + '\n');
}

/** Forget step `name` (before running it, so a failed run is never taken for an up-to-date one). */
export function clearStamp(name: string, dir = STAMP_DIR): void {
  rmSync(stampPath(name, dir), { force: true });
}

/** Shown when a step is skipped. */
export function skipped(name: string, dir = STAMP_DIR): string {
  const p = stampPath(name, dir);
  const at = existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Stamp).at : '?';
  return `${name}: up to date (inputs unchanged since ${at}; ${relative(ROOT, p)})`;
}

// ---------------------------------------------------------------------------------------------------
// The workspace packages (what `npm run build` builds), in build order.

export interface PackageStep {
  name: 'ssm-core' | 'ssm-plot' | 'ssm-lab';
  inputs: Inputs;
  outputs: string[];
}

const pkg = (name: PackageStep['name'], more: string[] = [], exclude: string[] = []): PackageStep => ({
  name,
  inputs: {
    // tsconfig of ssm-core is the base the others extend; the lock file pins tsc, esbuild and asc
    paths: [
      `packages/${name}/package.json`,
      `packages/${name}/tsconfig.json`,
      `packages/${name}/src`,
      'packages/ssm-core/tsconfig.json',
      'package-lock.json',
      ...more,
    ],
    exclude,
  },
  outputs: [`packages/${name}/dist/index.js`, `packages/${name}/dist/index.cjs`],
});

export const PACKAGES: readonly PackageStep[] = [
  // the wasm kernel's TypeScript wrapper is generated from assembly/ by the build itself
  pkg(
    'ssm-core',
    ['packages/ssm-core/assembly', 'packages/ssm-core/scripts'],
    ['packages/ssm-core/src/ops/kernels/cpu/scanWasm.generated.ts'],
  ),
  pkg('ssm-plot'),
  pkg('ssm-lab', ['packages/ssm-lab/bin']),
];

/** A package's hash also covers the packages built before it (ssm-lab compiles against their types). */
export function packageHashes(): Map<PackageStep['name'], string> {
  const out = new Map<PackageStep['name'], string>();
  const before: string[] = [];
  for (const p of PACKAGES) {
    const h = inputHash({ ...p.inputs, extra: [...(p.inputs.extra ?? []), ...before] });
    out.set(p.name, h);
    before.push(`${p.name}=${h}`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The Docusaurus build (after ./prepare.ts has generated the chapters, vendor files and API pages).

export const SITE_STEP = 'docusaurus-build';

/** Inputs of `docusaurus build`: the site's sources and generated pages, the playground's ssm-core bundle, settings. */
export function siteInputs(args: readonly string[], outDir: string): Inputs {
  return {
    paths: [
      'website',
      'docusaurus.config.ts',
      'scripts/site',
      'package-lock.json',
      'packages/ssm-core/dist',
      'packages/ssm-core/package.json',
    ],
    extra: [
      `SITE_URL=${process.env.SITE_URL ?? ''}`,
      `BASE_URL=${process.env.BASE_URL ?? ''}`,
      `out=${relative(ROOT, outDir)}`,
      `args=${args.join(' ')}`,
    ],
  };
}
