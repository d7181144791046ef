/**
 * `npm start` — the whole explainer from a fresh clone, then serve it:
 *   1. build the workspace packages whose inputs changed   (npm run build -w <package>; ./stamps.ts)
 *   2. execute the notebooks whose inputs changed          (../notebooks.ts --cached; quick mode unless --full)
 *   3. build the static site if its inputs changed         (./build.ts → build/site/)
 *   4. serve build/site/ on http://localhost:PORT and print the URL (Ctrl-C stops)
 * Steps whose inputs (sources, lock file, settings; see ./stamps.ts) are unchanged since their last successful
 * run are skipped, so a second `npm start` with nothing changed goes straight to serving. --rebuild runs every step.
 * A failing or impossible notebook run (e.g. no Jupyter installed) is reported and the site is built from
 * the executed notebooks that exist. Options: --full (paper-size notebook runs), --port N (default 3000,
 * or the next free port), --no-serve (stop after building), --serve-only (just serve the last build:
 * `npm run serve:site`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtBaseUrl, serveStatic } from './static-server.js';
import { clearStamp, packageHashes, PACKAGES, skipped, upToDate, writeStamp } from './stamps.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SITE = join(ROOT, 'build', 'site');
const args = process.argv.slice(2);
const full = args.includes('--full');
const rebuild = args.includes('--rebuild');
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : 3000;

function run(label: string, cmd: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = Date.now();
  console.log(`\n▸ ${label}`);
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: 'inherit', env });
  console.log(`${r.status === 0 ? '✓' : '✗'} ${label}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r.status ?? 1;
}

const tsx = (script: string, ...rest: string[]): [string, string[]] => [
  process.execPath,
  ['--import', 'tsx', join(ROOT, script), ...rest],
];

/** Build each workspace package whose inputs changed since its last build (in dependency order). */
function buildPackages(): void {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const hashes = packageHashes();
  for (const p of PACKAGES) {
    const hash = hashes.get(p.name)!;
    if (!rebuild && upToDate(p.name, hash, p.outputs)) {
      console.log(`✓ ${skipped(p.name)}`);
      continue;
    }
    clearStamp(p.name);
    if (run(`build ${p.name}`, npm, ['run', 'build', '-w', p.name, '--silent'])) process.exit(1);
    writeStamp(p.name, hash);
  }
}

function buildAll(): void {
  const t0 = Date.now();
  buildPackages();
  const nbEnv = { ...process.env, NOTEBOOK_QUICK: full ? '0' : '1' };
  if (
    run(
      `notebooks (${full ? 'full' : 'quick'} mode, cached)`,
      ...tsx('scripts/notebooks.ts', '--cached', ...(full ? [] : ['--quick'])),
      nbEnv,
    )
  ) {
    console.warn(
      '! some notebooks could not be executed; the site is built from the executed copies that exist (see above)',
    );
  }
  if (run('build site', ...tsx('scripts/site/build.ts', ...(rebuild ? ['--force'] : [])))) process.exit(1);
  console.log(`\nReady in ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
}

async function serve(): Promise<void> {
  if (!existsSync(join(SITE, 'index.html'))) {
    console.error('build/site/ is missing: run `npm run build:site` (or `npm start`) first');
    process.exit(1);
  }
  for (let p = port; p < port + 20; p++) {
    try {
      // a build made for BASE_URL=/x/ is served under /x/, as its host will
      const basePath = builtBaseUrl(SITE);
      const { url } = await serveStatic(SITE, p, '127.0.0.1', basePath);
      console.log(
        `\nSelectivity Lab is served at ${url.replace('127.0.0.1', 'localhost')}${basePath}  (Ctrl-C to stop)`,
      );
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    }
  }
  throw new Error(`no free port in ${port}…${port + 19}`);
}

if (!args.includes('--serve-only')) buildAll();
if (!args.includes('--no-serve')) await serve();
