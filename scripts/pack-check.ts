/**
 * `npm run test:pack` — ssm-core and ssm-lab as a user installs them: `npm pack` both (after `npm run build`;
 * `prepack` builds when packed on their own), check what the tarballs hold (dist, README, LICENSE; no src/, no
 * source maps), install them into a fresh project in a temp directory offline from the npm cache (the project's
 * lockfile is cut from this repository's, so the same tfjs versions are installed), type-check ssm-core's README
 * snippet with `"strict": true` — without `skipLibCheck` every error must lie in @tensorflow/tfjs-layers's own
 * declarations (a known tfjs 4.22 defect, see the README), with it there must be none — then run it as an ES module
 * and as CommonJS, run the selective scan's gradient on two worker threads from both (the same bits as one thread,
 * and the process exits by itself), and run the installed `ssm-lab --help`. Exits 1 on the first failure, naming it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['ssm-core', 'ssm-lab'] as const;

interface PackEntry {
  name: string;
  filename: string;
  integrity: string;
  entryCount: number;
  unpackedSize: number;
  files: { path: string }[];
}
interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [k: string]: unknown;
}

const t0 = Date.now();
const step = (what: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
function fail(msg: string): never {
  throw new Error(msg);
}

/** The lockfile entries a package at `from` needs, resolved as Node does (nearest node_modules upwards). */
function closure(lock: Record<string, LockEntry>, roots: Record<string, string>): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, deps: Record<string, string>) => {
    for (const name of Object.keys(deps)) {
      let at = from;
      let key: string | undefined;
      for (;;) {
        const k = `${at ? `${at}/` : ''}node_modules/${name}`;
        if (lock[k]) {
          key = k;
          break;
        }
        if (!at) break;
        const up = at.lastIndexOf('/node_modules/');
        at = up < 0 ? '' : at.slice(0, up);
      }
      if (!key) fail(`package-lock.json has no entry for ${name} (needed from ${from || 'the root'})`);
      if (out[key]) continue;
      const e: LockEntry = { ...lock[key] };
      for (const flag of ['dev', 'devOptional', 'peer', 'extraneous']) delete e[flag];
      out[key] = e;
      visit(key, { ...e.dependencies, ...e.optionalDependencies });
    }
  };
  visit('', roots);
  return out;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-pack-'));
  try {
    step(`npm pack ${PACKAGES.join(', ')} → ${dir}`);
    for (const p of PACKAGES) {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8'));
      if (!pkg.scripts?.prepack) fail(`${p}/package.json: no prepack script (npm pack would ship a stale dist/)`);
    }
    const packed = JSON.parse(
      run(
        'npm',
        ['pack', '--ignore-scripts', '--json', '--pack-destination', dir, ...PACKAGES.flatMap((p) => ['-w', p])],
        ROOT,
      ),
    ) as PackEntry[];
    for (const p of packed) {
      const paths = p.files.map((f) => f.path);
      const bad = paths.filter((f) => f.startsWith('src/') || f.endsWith('.map'));
      if (bad.length) fail(`${p.filename} ships ${bad.length} source file(s) or map(s), e.g. ${bad[0]}`);
      for (const need of ['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts'])
        if (!paths.includes(need)) fail(`${p.filename} lacks ${need}`);
      console.log(`  ${p.filename}: ${p.entryCount} files, ${(p.unpackedSize / 1024).toFixed(0)} KiB unpacked`);
    }

    step('a fresh project with both tarballs, installed offline (npm ci from the npm cache)');
    const proj = join(dir, 'project');
    const lock = (
      JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
    ).packages;
    const tarball = (name: string) => packed.find((p) => p.name === name)!;
    const deps: Record<string, string> = { '@types/node': lock['node_modules/@types/node'].version! }; // a user's
    for (const p of PACKAGES) deps[p] = `file:../${tarball(p).filename}`;
    const packages: Record<string, LockEntry> = {
      '': { name: 'ssm-pack-check', dependencies: deps },
      ...closure(lock, {
        '@types/node': '*',
        ...Object.fromEntries(PACKAGES.flatMap((p) => Object.entries(lock[`packages/${p}`].dependencies ?? {}))),
      }),
    };
    delete packages['node_modules/ssm-core']; // the workspace link; replaced by the tarball below
    for (const p of PACKAGES) {
      const ws = lock[`packages/${p}`];
      packages[`node_modules/${p}`] = {
        version: ws.version,
        resolved: `file:../${tarball(p).filename}`,
        integrity: tarball(p).integrity,
        license: ws.license,
        dependencies: ws.dependencies,
        ...(ws.bin ? { bin: ws.bin } : {}),
        ...(ws.peerDependencies ? { peerDependencies: ws.peerDependencies } : {}),
        ...(ws.peerDependenciesMeta ? { peerDependenciesMeta: ws.peerDependenciesMeta } : {}),
        ...(ws.engines ? { engines: ws.engines } : {}),
      };
    }
    execFileSync('mkdir', ['-p', proj]);
    writeFileSync(
      join(proj, 'package.json'),
      JSON.stringify({ name: 'ssm-pack-check', private: true, dependencies: deps }, null, 2) + '\n',
    );
    writeFileSync(
      join(proj, 'package-lock.json'),
      JSON.stringify({ name: 'ssm-pack-check', lockfileVersion: 3, requires: true, packages }, null, 2) + '\n',
    );
    run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], proj);
    console.log(`  installed ${Object.keys(packages).length - 1} packages`);

    step("ssm-core's README snippet: tsc --strict without skipLibCheck, as .mts (ESM) and .cts (CommonJS)");
    const readme = readFileSync(join(ROOT, 'packages', 'ssm-core', 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? fail('packages/ssm-core/README.md has no ```ts block');
    writeFileSync(join(proj, 'snippet.mts'), snippet);
    writeFileSync(join(proj, 'snippet.cts'), snippet);
    const tsconfig = (skipLibCheck: boolean) =>
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck,
          outDir: 'out',
        },
        files: ['snippet.mts', 'snippet.cts'],
      });
    const tsc = (skipLibCheck: boolean): string[] => {
      writeFileSync(join(proj, 'tsconfig.json'), tsconfig(skipLibCheck));
      try {
        run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], proj);
        return [];
      } catch (e) {
        return ((e as { stdout?: string }).stdout ?? String(e)).split('\n').filter((l) => /error TS\d+/.test(l));
      }
    };
    // @tensorflow/tfjs-layers 4.22's own declarations fail strict mode (TS2411/TS2420); anything else is ours
    const KNOWN = 'node_modules/@tensorflow/tfjs-layers/';
    const strictErrors = tsc(false);
    const ours = strictErrors.filter((l) => !l.startsWith(KNOWN));
    if (ours.length)
      fail(`tsc --strict without skipLibCheck: ${ours.length} error(s) outside ${KNOWN}\n${ours.join('\n')}`);
    console.log(
      `  without skipLibCheck: ${strictErrors.length} error(s), all in ${KNOWN}*.d.ts (tfjs's own declarations)`,
    );
    const withSkip = tsc(true);
    if (withSkip.length) fail(`tsc --strict with skipLibCheck: ${withSkip.length} error(s)\n${withSkip.join('\n')}`);
    console.log('  with skipLibCheck: 0 errors');
    for (const file of ['out/snippet.mjs', 'out/snippet.cjs']) {
      const out = run(process.execPath, [file], proj);
      if (!/logits 1×4×16/.test(out) || !/max \|scan − reference\| = /.test(out))
        fail(`${file} printed an unexpected result:\n${out}`);
      console.log(`  node ${file}: ${out.trim().split('\n').join(' · ')}`);
    }

    step("the scan's gradient on two worker threads (flag SCAN_THREADS), as an ES module and as CommonJS");
    const threadsBody = (load: string) =>
      `(async () => {\n  const m = ${load};\n  await m.ready();\n  const t = m.tf;\n` +
      "  const u = t.randomNormal([4, 8, 32], 0, 1, 'float32', 1);\n" +
      "  const B = t.randomNormal([4, 4, 32], 0, 1, 'float32', 2);\n" +
      "  const C = t.randomNormal([4, 4, 32], 0, 1, 'float32', 3);\n" +
      '  const delta = t.fill([4, 8, 32], 0.1);\n  const A = t.fill([8, 4], -1);\n' +
      "  const grads = (threads) => {\n    m.setFlag('SCAN_THREADS', threads);\n" +
      "    const f = (u, B) => m.selectiveScan({ u, delta, A, B, C, impl: 'fused' }).out;\n" +
      '    return t.grads(f)([u, B]).map((g) => Array.from(g.dataSync()).map(String).join());\n  };\n' +
      '  const one = grads(1);\n  const two = grads(2);\n' +
      '  const same = one.every((g, i) => g === two[i]);\n' +
      '  console.log(`workers ${m.scanThreadsStatus().workers}, same bits as one thread: ${same}`);\n})();\n';
    writeFileSync(join(proj, 'threads.mjs'), threadsBody("await import('ssm-core')"));
    writeFileSync(join(proj, 'threads.cjs'), threadsBody("require('ssm-core')"));
    for (const file of ['threads.mjs', 'threads.cjs']) {
      const out = execFileSync(process.execPath, [file], { cwd: proj, encoding: 'utf8', timeout: 120_000 });
      if (!/workers 1, same bits as one thread: true/.test(out)) fail(`${file} printed an unexpected result:\n${out}`);
      console.log(`  node ${file} (exited by itself): ${out.trim()}`);
    }

    step('the installed ssm-lab command');
    const help = run(join(proj, 'node_modules', '.bin', 'ssm-lab'), ['--help'], proj);
    if (!help.includes('ssm-lab train')) fail('node_modules/.bin/ssm-lab --help did not print the usage');
    step('ok');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (e) {
  const err = e as Error & { stderr?: string };
  console.error(`pack check failed: ${err.message}${err.stderr ? `\n${err.stderr}` : ''}`);
  process.exitCode = 1;
}
