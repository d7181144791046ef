/**
 * `npm run site:prepare` — everything the site needs generated before Docusaurus runs (all git-ignored):
 *   website/docs/chapters/, website/static/notebooks/   executed notebooks → MDX (./notebooks-to-mdx.ts)
 *   website/static/vendor/plotly.min.js                  plotly.js-dist-min, served as-is (not re-bundled)
 *   website/static/vendor/tfjs-wasm/*.wasm               TensorFlow.js wasm binaries for the playground
 *   website/docs/api/                                    ssm-core API reference (./api-docs.ts, TypeDoc), unless --no-api
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as apiDocs } from './api-docs.js';
import { main as convertNotebooks } from './notebooks-to-mdx.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VENDOR = join(ROOT, 'website', 'static', 'vendor');
const require = createRequire(join(ROOT, 'package.json'));

function copyIfChanged(src: string, dst: string): boolean {
  if (existsSync(dst) && readFileSync(dst).equals(readFileSync(src))) return false;
  mkdirSync(dirname(dst), { recursive: true });
  copyFileSync(src, dst);
  return true;
}

export function copyVendor(): void {
  let n = 0;
  if (copyIfChanged(require.resolve('plotly.js-dist-min/plotly.min.js'), join(VENDOR, 'plotly.min.js'))) n++;
  // tfjs-backend-wasm's package.json "exports" hides dist/, so locate it through its main file
  const wasmDir = dirname(
    require.resolve('@tensorflow/tfjs-backend-wasm', { paths: [join(ROOT, 'packages', 'ssm-core')] }),
  );
  const wasm = readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'));
  if (!wasm.length) throw new Error(`no .wasm files next to ${wasmDir}`);
  for (const f of wasm) if (copyIfChanged(join(wasmDir, f), join(VENDOR, 'tfjs-wasm', f))) n++;
  console.log(`vendor files: plotly.min.js, ${wasm.length} tfjs wasm binaries (${n} copied)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let code = convertNotebooks([]);
  copyVendor();
  if (!process.argv.includes('--no-api')) code ||= apiDocs();
  process.exitCode = code;
}
