/**
 * `npm run build:site` — the static explainer site in build/site/ (ready for any static host):
 *   1. executed notebooks (build/notebooks/*.ipynb) → MDX pages, vendor files, ssm-core's TSDoc → API
 *      reference (TypeDoc)                                       (scripts/site/prepare.ts)
 *   2. docusaurus build --out-dir build/site, skipped when its inputs (website/, the generated pages, the
 *      config, scripts/site/, ssm-core's dist, the lock file, SITE_URL/BASE_URL, arguments) are unchanged
 *      since the last successful build (./stamps.ts); --force builds anyway
 * It does not execute notebooks (`npm run notebooks`) or build the packages (`npm run build`); run those first.
 * Prints the time of each step. `--out-dir DIR` builds into DIR instead (e.g. a second build for another
 * BASE_URL); other arguments go to `docusaurus build` (e.g. --no-minify).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearStamp, inputHash, SITE_STEP, siteInputs, skipped, upToDate, writeStamp } from './stamps.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SITE_OUT = join(ROOT, 'build', 'site');

function step(label: string, cmd: string, args: string[]): number {
  const t0 = Date.now();
  console.log(`\n▸ ${label}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: process.env });
  const s = (Date.now() - t0) / 1000;
  if (r.status !== 0) {
    console.error(`✗ ${label} failed (exit ${r.status ?? r.signal}) after ${s.toFixed(1)} s`);
    process.exit(r.status ?? 1);
  }
  console.log(`✓ ${label}: ${s.toFixed(1)} s`);
  return s;
}

if (!existsSync(join(ROOT, 'packages', 'ssm-core', 'dist', 'browser.js'))) {
  console.error('packages/ssm-core/dist/browser.js is missing (the playground bundles it): run `npm run build` first');
  process.exit(1);
}
const force = process.argv.includes('--force');
const rest = process.argv.slice(2).filter((a) => a !== '--force');
// --out-dir DIR builds elsewhere (e.g. a second build for another BASE_URL); the default is build/site/
const outAt = rest.indexOf('--out-dir');
const out = outAt >= 0 && rest[outAt + 1] ? resolve(ROOT, rest[outAt + 1]) : SITE_OUT;
const docusaurusArgs = outAt >= 0 ? [...rest.slice(0, outAt), ...rest.slice(outAt + 2)] : rest;
const outName = `${relative(ROOT, out).split('\\').join('/')}/`;
// one stamp per output folder
const stepName = out === SITE_OUT ? SITE_STEP : `${SITE_STEP}-${relative(ROOT, out)}`;
const t0 = Date.now();
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const times: [string, number][] = [];
times.push([
  'prepare',
  step('notebooks → MDX, vendor files, API reference', process.execPath, [
    '--import',
    'tsx',
    join(ROOT, 'scripts/site/prepare.ts'),
  ]),
]);
const siteHash = inputHash(siteInputs(docusaurusArgs, out));
if (!force && upToDate(stepName, siteHash, [join(out, 'index.html')])) {
  console.log(`\n✓ ${skipped(stepName)}`);
} else {
  clearStamp(stepName);
  times.push([
    'docusaurus build',
    step(`docusaurus build → ${outName}`, bin('docusaurus'), ['build', '--out-dir', out, ...docusaurusArgs]),
  ]);
  writeStamp(stepName, siteHash);
}
const total = (Date.now() - t0) / 1000;
const built = times.some(([l]) => l === 'docusaurus build') ? 'Site built' : 'Site up to date (Docusaurus skipped)';
console.log(
  `\n${built} in ${total.toFixed(1)} s (${times.map(([l, s]) => `${l} ${s.toFixed(1)} s`).join(', ')}) → ${outName}`,
);
console.log('Serve it: npm run serve:site');
