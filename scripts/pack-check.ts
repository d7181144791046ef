/**
 * `npm run test:pack` — ssm-core and ssm-lab as a user installs them: run both packages' `prepack` (their build,
 * then scripts/strip-source-maps.mjs) and `npm pack` them, check what the tarballs hold (dist, README, LICENSE; no
 * src/, no source maps and no comment pointing to one), install them into a fresh project in a temp directory offline
 * from the npm cache (the project's lockfile is cut from this repository's, so the same tfjs versions are installed),
 * print the installed size (and fail above {@link MAX_INSTALLED_MB}), type-check ssm-core's README snippet with
 * `"strict": true` and without `skipLibCheck` (every declaration file the import reaches is checked) as an ES module
 * and as CommonJS under NodeNext, as CommonJS under the classic `node10` resolution and under `bundler` resolution,
 * then run it as an ES module and as CommonJS, run the selective scan's gradient on two worker threads from both
 * (the same bits as one thread, and the process exits by itself), and run the installed `ssm-lab --help`. Exits 1 on
 * the first failure, naming it. `npm run test:pack -- --no-build` packs dist/ as it is (after `npm run build`), stripping only
 * its source maps.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = ['ssm-core', 'ssm-lab'] as const;
/** Upper bound of the fresh project's node_modules (both packages and everything they pull), in MB (10^6 bytes). */
const MAX_INSTALLED_MB = 120;
/**
 * Packages whose own declaration files may fail `strict` without skipLibCheck. A defect of a dependency's typings
 * would be listed here with the reason; ssm-core's own and its dependencies' declarations must be clean.
 */
const TOLERATED_TYPINGS: string[] = [];

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

/** Bytes of the files under `dir` (apparent sizes; symbolic links counted as links) and the count of packages. */
function sizeOf(dir: string): number {
  let bytes = 0;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    const st = lstatSync(p);
    bytes += st.isDirectory() ? sizeOf(p) : st.size;
  }
  return bytes;
}

/** Every file under `dir`, relative to it. */
function filesOf(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return lstatSync(p).isDirectory() ? filesOf(p, `${prefix}${f}/`) : [`${prefix}${f}`];
  });
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-pack-'));
  try {
    step(`prepack ${PACKAGES.join(', ')} (build, strip source maps)`);
    for (const p of PACKAGES) {
      const pkg = JSON.parse(readFileSync(join(ROOT, 'packages', p, 'package.json'), 'utf8'));
      if (!pkg.scripts?.prepack) fail(`${p}/package.json: no prepack script (npm pack would ship a stale dist/)`);
      // --no-build: dist/ as built (after `npm run build`), only its source maps stripped
      if (process.argv.includes('--no-build'))
        execFileSync(process.execPath, [join(ROOT, 'scripts', 'strip-source-maps.mjs'), 'dist'], {
          cwd: join(ROOT, 'packages', p),
          stdio: 'ignore',
        });
      else
        execFileSync('npm', ['run', 'prepack', '--silent', '-w', p], {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
    }
    step(`npm pack ${PACKAGES.join(', ')} → ${dir}`);
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
    const modules = join(proj, 'node_modules');
    const installed = sizeOf(modules);
    const bySize = Object.keys(packages)
      .filter((k) => k.startsWith('node_modules/') && !k.slice(13).includes('node_modules/'))
      .map((k) => ({ name: k.slice(13), bytes: sizeOf(join(proj, k)) }))
      .sort((a, b) => b.bytes - a.bytes);
    console.log(
      `  installed ${Object.keys(packages).length - 1} packages, ${mb(installed)} in node_modules; largest: ` +
        bySize
          .slice(0, 6)
          .map((p) => `${p.name} ${mb(p.bytes)}`)
          .join(', '),
    );
    if (installed > MAX_INSTALLED_MB * 1e6)
      fail(`the installed project takes ${mb(installed)}, over the ${MAX_INSTALLED_MB} MB this check allows`);
    for (const p of PACKAGES) {
      const files = filesOf(join(modules, p));
      const dangling = files.filter(
        (f) =>
          /\.(c|m)?js$|\.d\.ts$/.test(f) && /\/\/# sourceMappingURL=/.test(readFileSync(join(modules, p, f), 'utf8')),
      );
      if (dangling.length)
        fail(`${p} as installed: ${dangling.length} file(s) name a source map it does not ship, e.g. ${dangling[0]}`);
    }

    step("ssm-core's README snippet, tsc --strict without skipLibCheck: NodeNext ESM and CJS, node10 CJS, bundler");
    const readme = readFileSync(join(ROOT, 'packages', 'ssm-core', 'README.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? fail('packages/ssm-core/README.md has no ```ts block');
    writeFileSync(join(proj, 'snippet.mts'), snippet);
    writeFileSync(join(proj, 'snippet.cts'), snippet);
    writeFileSync(join(proj, 'snippet.ts'), snippet);
    // first without a `types` list (every @types package in node_modules visible), then with one naming only node
    const strict = { target: 'ES2022', strict: true, skipLibCheck: false };
    const configs: { name: string; compilerOptions: Record<string, unknown>; files: string[] }[] = [
      {
        name: 'NodeNext (.mts as ESM, .cts as CommonJS)',
        compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out' },
        files: ['snippet.mts', 'snippet.cts'],
      },
      {
        name: 'NodeNext with "types": ["node"] (a list, as `tsc --init` starts one)',
        compilerOptions: { ...strict, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], noEmit: true },
        files: ['snippet.mts', 'snippet.cts'],
      },
      {
        name: 'CommonJS with node10 resolution',
        compilerOptions: {
          ...strict,
          module: 'CommonJS',
          moduleResolution: 'node10',
          esModuleInterop: true,
          noEmit: true,
        },
        files: ['snippet.ts'],
      },
      {
        name: 'bundler resolution (Vite, webpack, esbuild)',
        compilerOptions: { ...strict, module: 'ESNext', moduleResolution: 'bundler', noEmit: true },
        files: ['snippet.ts'],
      },
    ];
    for (const c of configs) {
      writeFileSync(
        join(proj, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: c.compilerOptions, files: c.files }),
      );
      let errors: string[] = [];
      try {
        run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], proj);
      } catch (e) {
        errors = ((e as { stdout?: string }).stdout ?? String(e)).split('\n').filter((l) => /error TS\d+/.test(l));
        if (!errors.length) throw e;
      }
      const tolerated = errors.filter((l) => TOLERATED_TYPINGS.some((p) => l.startsWith(`node_modules/${p}/`)));
      const ours = errors.filter((l) => !tolerated.includes(l));
      if (ours.length) fail(`tsc --strict, ${c.name}: ${ours.length} error(s)\n${ours.join('\n')}`);
      console.log(
        `  ${c.name}: 0 errors` +
          (tolerated.length ? ` (and ${tolerated.length} in ${TOLERATED_TYPINGS.join(', ')}'s own declarations)` : ''),
      );
    }
    for (const file of ['out/snippet.mjs', 'out/snippet.cjs']) {
      const out = run(process.execPath, [file], proj);
      if (!/logits 1×4×16/.test(out) || !/max \|scan − reference\| = /.test(out) || !/1×1×3, finite: true/.test(out))
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
