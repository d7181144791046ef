/**
 * `npm run notebooks` — execute every notebook in notebooks/ top to bottom with the tslab kernel
 * (Jupyter's nbconvert, headless), writing executed copies to build/notebooks/. Any error or type
 * error fails the run. Reports the time of each notebook and the total.
 *
 *   npm run notebooks                          every notebook, full size
 *   NOTEBOOK_QUICK=1 npm run notebooks         quick mode (what CI runs): small training cells
 *   npm run notebooks -- 01 04                 only notebooks whose name contains 01 or 04
 *   npm run notebooks -- --check               only check that the stored notebooks are fit to commit
 *   npm run notebooks -- --strip               bring notebooks saved from Jupyter back to their stored form
 *
 * A notebook saved from Jupyter (outputs, execution counts, the kernel's language_info, cell ids) is
 * executed from its stored form (a copy; the file is left alone) with a note; `--strip` rewrites the file
 * in that form (byte for byte what was committed, when only Jupyter's additions changed) before a commit.
 *
 * Options: --quick (same as NOTEBOOK_QUICK=1), --jobs N (notebooks at a time, default 1),
 * --timeout S (per cell, default 1800), --out DIR (default build/notebooks),
 * --cached (skip a notebook whose executed copy was made from the same notebook in its stored form — outputs
 * saved from Jupyter do not count —, notebooks/lib/*.ts, built ssm-core / ssm-lab / ssm-plot and mode; the key
 * is a SHA-256 kept in DIR/cache.json; `npm start` uses this).
 * Needs nbconvert + ipykernel in some Python ($JUPYTER_PYTHON, python3, or Debian's /usr/bin/python3):
 *   apt-get install -y --no-install-recommends jupyter-nbconvert python3-ipykernel jupyter-client python3-notebook jupyter-notebook
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import {
  DEBIAN_PACKAGES,
  findPython,
  jupyterEnv,
  KERNEL_NAME,
  normalizeStored,
  notebookText,
  NOTEBOOK_DIR,
  registerKernel,
  ROOT,
  storedProblems,
  type Notebook,
} from './jupyter.js';

/** ANSI colour codes, which Jupyter puts in tracebacks. */
// eslint-disable-next-line no-control-regex -- the escape character is what this pattern matches
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

interface Summary {
  ok: boolean;
  seconds: number;
  cells: number[];
  failed: null | { cell: number; source: string; ename: string; evalue: string; traceback: string[]; stderr: string };
  error: string | null;
}

function parseArgs(argv: string[]) {
  const o = {
    quick: process.env.NOTEBOOK_QUICK === '1',
    jobs: 1,
    timeout: 1800,
    out: join(ROOT, 'build', 'notebooks'),
    check: false,
    strip: false,
    cached: false,
    filters: [] as string[],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (name: string) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1)
        throw new Error(`${name} needs a positive integer, got ${JSON.stringify(argv[i])}`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--check') o.check = true;
    else if (a === '--strip') o.strip = true;
    else if (a === '--cached') o.cached = true;
    else if (a === '--jobs') o.jobs = num('--jobs');
    else if (a === '--timeout') o.timeout = num('--timeout');
    else if (a === '--out') o.out = resolve(argv[++i] ?? '');
    else if (a === '-h' || a === '--help') {
      console.log(
        readFileSync(new URL(import.meta.url), 'utf8')
          .split('*/')[0]
          .replace(/^\/\*\*?|^ \* ?/gm, ''),
      );
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a} (see --help)`);
    else o.filters.push(a);
  }
  return o;
}

const readNotebook = (path: string): Notebook => JSON.parse(readFileSync(path, 'utf8')) as Notebook;

/** What an executed copy depends on: the notebook, its local helpers, the built libraries it imports, the mode. */
function cacheKey(file: string, quick: boolean): string {
  const h = createHash('sha256').update(`quick=${quick}\n`);
  const lib = join(NOTEBOOK_DIR, 'lib');
  h.update(notebookText(normalizeStored(readNotebook(join(NOTEBOOK_DIR, file)))));
  const deps = [
    ...(existsSync(lib)
      ? readdirSync(lib)
          .filter((f) => f.endsWith('.ts'))
          .sort()
          .map((f) => join(lib, f))
      : []),
    ...['ssm-core', 'ssm-lab', 'ssm-plot'].map((p) => join(ROOT, 'packages', p, 'dist', 'index.cjs')),
  ];
  for (const d of deps) h.update(`${relative(ROOT, d)}\n`).update(existsSync(d) ? readFileSync(d) : 'missing');
  return h.digest('hex');
}

const readCache = (out: string): Record<string, string> => {
  try {
    return JSON.parse(readFileSync(join(out, 'cache.json'), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
};

/** Rewrite `path` in its stored form; true when the file changed. */
function strip(path: string): boolean {
  const before = readFileSync(path, 'utf8');
  const after = notebookText(normalizeStored(JSON.parse(before) as Notebook));
  if (after === before) return false;
  writeFileSync(path, after);
  return true;
}

const fmt = (s: number) =>
  s >= 60 ? `${Math.floor(s / 60)} min ${(s % 60).toFixed(0).padStart(2, '0')} s` : `${s.toFixed(1)} s`;

function run(py: string, src: string, dst: string, env: NodeJS.ProcessEnv, timeout: number): Promise<Summary> {
  return new Promise((done, reject) => {
    const child = spawn(
      py,
      [
        join(ROOT, 'scripts', 'execute-notebook.py'),
        src,
        dst,
        '--kernel',
        KERNEL_NAME,
        '--cwd',
        NOTEBOOK_DIR,
        '--timeout',
        String(timeout),
      ],
      {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        done(JSON.parse(last) as Summary);
      } catch {
        reject(new Error(`${basename(src)}: the executor exited with code ${code} without a summary:\n${out}`));
      }
    });
  });
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const all = readdirSync(NOTEBOOK_DIR)
    .filter((f) => f.endsWith('.ipynb'))
    .sort();
  const files = o.filters.length ? all.filter((f) => o.filters.some((s) => f.includes(s))) : all;
  if (!files.length) {
    console.error(
      `no notebooks${o.filters.length ? ` matching ${o.filters.join(', ')}` : ''} in ${relative(ROOT, NOTEBOOK_DIR)}/`,
    );
    return 1;
  }

  if (o.strip) {
    for (const f of files) console.log(`${strip(join(NOTEBOOK_DIR, f)) ? 'stripped' : 'clean   '} ${f}`);
    return 0;
  }
  const dirty = files
    .map((f) => [f, storedProblems(readNotebook(join(NOTEBOOK_DIR, f)))] as const)
    .filter(([, p]) => p.length);
  const otherKernel = dirty.filter(([, p]) => p.some((x) => x.startsWith('kernelspec')));
  if (otherKernel.length || (o.check && dirty.length)) {
    console.error("Notebooks must be stored without outputs or Jupyter's additions, with the tslab kernel:");
    for (const [f, p] of o.check ? dirty : otherKernel)
      console.error(`  ${f}: ${p.slice(0, 3).join('; ')}${p.length > 3 ? `; … (${p.length} problems)` : ''}`);
    if (!otherKernel.length) console.error('Fix: npm run notebooks -- --strip');
    return 1;
  }
  if (dirty.length) {
    console.log(
      `Saved from Jupyter (executing their stored form; \`npm run notebooks -- --strip\` cleans the files before a commit):`,
    );
    for (const [f, p] of dirty)
      console.log(`  ${f}: ${p.slice(0, 2).join('; ')}${p.length > 2 ? `; … (${p.length} problems)` : ''}`);
  }
  if (o.check) {
    console.log(`${files.length} notebooks stored without outputs`);
    return 0;
  }

  const py = findPython(['nbconvert', 'nbclient', 'nbformat', 'jupyter_client']);
  if (!py) {
    console.error(
      'No Python with Jupyter nbconvert found (tried $JUPYTER_PYTHON, python3, /usr/bin/python3). Install it:',
    );
    console.error(`  sudo apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES.join(' ')}`);
    console.error(
      '  or: python3 -m pip install nbconvert ipykernel   (then JUPYTER_PYTHON=<that python> if it is not python3)',
    );
    return 1;
  }
  const { jupyterPath } = registerKernel();
  mkdirSync(o.out, { recursive: true });
  const env = jupyterEnv(jupyterPath, o.quick ? { NOTEBOOK_QUICK: '1' } : {});
  console.log(
    `Executing ${files.length} notebook(s) with the tslab kernel${o.quick ? ' in quick mode (NOTEBOOK_QUICK=1)' : ''}, ${o.jobs} at a time`,
  );
  console.log(
    `  python ${py}, kernel spec ${relative(ROOT, jupyterPath)}/kernels/${KERNEL_NAME}, output ${relative(ROOT, o.out)}/`,
  );

  // Every notebook runs from its stored form, written to a private directory (the kernel's working directory stays
  // notebooks/, for ./lib imports): outputs or metadata saved from Jupyter never reach the executed copy.
  const sources = mkdtempSync(join(tmpdir(), 'ssm-notebooks-'));
  process.on('exit', () => rmSync(sources, { recursive: true, force: true }));
  const t0 = Date.now();
  const results = new Map<string, { summary: Summary; plots: number; cached?: boolean }>();
  const cache = readCache(o.out);
  const plotsIn = (path: string) =>
    readNotebook(path)
      .cells.flatMap((c) => c.outputs ?? [])
      .filter((x) => x.data && PLOTLY_MIME in x.data).length;
  const queue = [...files];
  const lane = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const dst = join(o.out, f);
      const key = cacheKey(f, o.quick);
      if (o.cached && cache[f] === key && existsSync(dst)) {
        results.set(f, {
          summary: { ok: true, seconds: 0, cells: [], failed: null, error: null },
          plots: plotsIn(dst),
          cached: true,
        });
        console.log(`ok   ${f}  cached (notebook, helpers, libraries and mode unchanged)`);
        continue;
      }
      delete cache[f];
      const src = join(sources, f);
      writeFileSync(src, notebookText(normalizeStored(readNotebook(join(NOTEBOOK_DIR, f)))));
      const summary = await run(py, src, dst, env, o.timeout);
      const plots = plotsIn(dst);
      results.set(f, { summary, plots });
      if (summary.ok) cache[f] = key;
      writeFileSync(join(o.out, 'cache.json'), JSON.stringify(cache, null, 2) + '\n');
      console.log(
        `${summary.ok ? 'ok  ' : 'FAIL'} ${f}  ${fmt(summary.seconds)}  (${summary.cells.length} code cells, ${plots} Plotly figure${plots === 1 ? '' : 's'})`,
      );
      if (!summary.ok) {
        const x = summary.failed;
        if (x) {
          console.error(`\n${f}: code cell ${x.cell} failed${x.ename ? ` with ${x.ename}: ${x.evalue}` : ''}`);
          console.error(
            x.source
              .split('\n')
              .map((l) => `  | ${l}`)
              .join('\n'),
          );
          if (x.stderr)
            console.error(
              x.stderr
                .trimEnd()
                .split('\n')
                .map((l) => `  ! ${l}`)
                .join('\n'),
            );
          const tb = x.traceback.join('\n').replace(ANSI_COLOUR, '').trim();
          if (tb)
            console.error(
              tb
                .split('\n')
                .slice(0, 20)
                .map((l) => `  > ${l}`)
                .join('\n'),
            );
          console.error('');
        } else console.error(`${f}: ${summary.error ?? 'failed'}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.jobs, files.length) }, lane));
  const total = (Date.now() - t0) / 1000;

  console.log('\n| notebook | time | code cells | Plotly figures | status |\n|---|---|---|---|---|');
  for (const f of files) {
    const r = results.get(f)!;
    console.log(
      `| ${f} | ${r.cached ? 'cached' : fmt(r.summary.seconds)} | ${r.cached ? '—' : r.summary.cells.length} ` +
        `| ${r.plots} | ${r.summary.ok ? 'ok' : 'FAILED'} |`,
    );
  }
  const failed = files.filter((f) => !results.get(f)!.summary.ok);
  console.log(
    `\nTotal: ${fmt(total)} for ${files.length} notebook(s)${o.quick ? ' (quick mode)' : ''}; executed copies in ${relative(ROOT, o.out)}/`,
  );
  writeFileSync(
    join(o.out, 'report.json'),
    JSON.stringify(
      {
        quick: o.quick,
        totalSeconds: total,
        notebooks: files.map((f) => ({
          notebook: f,
          ok: results.get(f)!.summary.ok,
          seconds: results.get(f)!.summary.seconds,
          cellSeconds: results.get(f)!.summary.cells,
          plotlyFigures: results.get(f)!.plots,
        })),
      },
      null,
      2,
    ) + '\n',
  );
  if (failed.length) console.error(`FAILED: ${failed.join(', ')}`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`notebooks: ${e.message}`);
    process.exitCode = 1;
  },
);
