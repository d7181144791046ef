// A chapter in Jupyter's classic Notebook with the page cut off from the network (`npm run test:jupyter`, after
// `npm run build`; vitest.jupyter.config.ts, not part of `npm test`). Starts Debian's Notebook 6 on a free port with
// this repo's tslab kernel, opens a copy of chapter 01 in Chromium (playwright-core, /usr/bin/chromium or
// $CHROMIUM_PATH) with every request that leaves localhost aborted, runs it in quick mode and checks that each
// figure is drawn by plotly.js (Plotly's SVG with non-empty traces). Then the trust model: the notebook saved by
// the session reopens trusted and draws again; a copy changed on disk is untrusted and shows the figures'
// descriptions and the loader's note instead; nbconvert's HTML of the saved notebook draws from a file:// page.
// What the Notebook saved comes back to the committed chapter, byte for byte, in its stored form.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findPython,
  jupyterEnv,
  normalizeStored,
  NOTEBOOK_DIR,
  notebookText,
  registerKernel,
  ROOT,
  storedProblems,
  type Notebook,
} from '../../scripts/jupyter.js';

const CHAPTER = '01-selectivity-primer.ipynb';
/** Under the repo, so the kernel resolves ssm-core and ssm-plot from its node_modules; never notebooks/ itself. */
const WORK = join(ROOT, 'build', 'jupyter-e2e');
const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

let server: ChildProcess | undefined;
let serverLog = '';
let base = '';
let token = '';
let home = '';
let py = '';
let browser: Browser;

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}

async function waitForServer(deadline: number): Promise<void> {
  for (;;) {
    if (server?.exitCode != null) throw new Error(`the Notebook server exited (${server.exitCode}):\n${serverLog}`);
    try {
      const r = await fetch(`${base}/api/status?token=${token}`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the Notebook server did not answer in time:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  const found = findPython(['notebook', 'nbconvert']);
  if (!found)
    throw new Error(
      'no Python with the classic Notebook and nbconvert: apt-get install -y python3-notebook jupyter-notebook jupyter-nbconvert',
    );
  py = found;
  if (!existsSync(join(ROOT, 'packages', 'ssm-plot', 'dist', 'index.cjs')))
    throw new Error('ssm-plot is not built: run `npm run build` first');
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  copyFileSync(join(NOTEBOOK_DIR, CHAPTER), join(WORK, CHAPTER));
  home = mkdtempSync(join(tmpdir(), 'jupyter-e2e-'));
  const { jupyterPath } = registerKernel();
  const port = await freePort();
  token = randomBytes(16).toString('hex');
  base = `http://127.0.0.1:${port}`;
  const args = [
    '-m',
    'notebook',
    '--no-browser',
    '--ip=127.0.0.1',
    `--port=${port}`,
    '--port-retries=0',
    `--NotebookApp.token=${token}`,
    `--notebook-dir=${WORK}`,
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ];
  server = spawn(py, args, {
    cwd: WORK,
    // a private Jupyter config, data (trust database) and runtime directory: nothing of the user's is read or written
    env: jupyterEnv(jupyterPath, {
      NOTEBOOK_QUICK: '1',
      JUPYTER_CONFIG_DIR: join(home, 'config'),
      JUPYTER_DATA_DIR: join(home, 'data'),
      JUPYTER_RUNTIME_DIR: join(home, 'runtime'),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = (b: Buffer) => (serverLog = (serverLog + b.toString()).slice(-20_000));
  server.stdout!.on('data', log);
  server.stderr!.on('data', log);
  browser = await launchChromium();
  await waitForServer(Date.now() + 30_000);
});

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode == null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (server.exitCode == null) server.kill('SIGKILL');
  }
  if (home) rmSync(home, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Requests that tried to leave localhost (aborted) and JavaScript errors of the page. */
  offsite: string[];
  errors: string[];
}

/** A page where every request that leaves localhost (or file:) is aborted and recorded. */
async function offlinePage(url: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const offsite: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'file:' || u.protocol === 'data:' || u.protocol === 'blob:' || u.hostname === '127.0.0.1')
      return route.continue();
    offsite.push(u.href);
    return route.abort('internetdisconnected');
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url, { waitUntil: 'load' });
  return { page, offsite, errors };
}

/** Open a notebook in the classic Notebook and wait until it is loaded and its kernel is connected. */
async function openNotebook(name: string): Promise<Opened> {
  const opened = await offlinePage(`${base}/notebooks/${encodeURIComponent(name)}?token=${token}`);
  await opened.page.waitForFunction(
    () => {
      const nb = (window as unknown as { Jupyter?: { notebook?: JupyterNotebook } }).Jupyter?.notebook;
      return Boolean(nb?._fully_loaded && nb.kernel?.is_connected());
    },
    undefined,
    { timeout: 45_000 },
  );
  return opened;
}

/** The parts of the classic Notebook's JavaScript API used here. */
interface JupyterNotebook {
  _fully_loaded: boolean;
  trusted: boolean;
  kernel?: { is_connected(): boolean };
  execute_all_cells(): void;
  save_notebook(): Promise<unknown>;
  get_cells(): { cell_type: string; input_prompt_number?: number | string | null }[];
  toJSON(): { cells: { cell_type: string; outputs?: { output_type: string; data?: Record<string, unknown> }[] }[] };
}

interface DrawnFigure {
  svg: boolean;
  traces: number;
  points: number;
}

/** Each `.ssm-plot` figure of the page: Plotly's SVG present, trace groups drawn, points in its data. */
const figuresOf = (page: Page): Promise<DrawnFigure[]> =>
  page.$$eval('.ssm-plot', (els) =>
    els.map((el) => {
      const data = (
        el as unknown as { _fullData?: { x?: ArrayLike<unknown>; y?: ArrayLike<unknown>; z?: ArrayLike<unknown> }[] }
      )._fullData;
      return {
        svg: el.querySelector('svg.main-svg') !== null,
        traces: el.querySelectorAll('g.trace, g.hm, .heatmaplayer image').length,
        points: (data ?? []).reduce((n, t) => n + Math.max(t.x?.length ?? 0, t.y?.length ?? 0, t.z?.length ?? 0), 0),
      };
    }),
  );

/** Plotly figures among the outputs of the notebook model (what Jupyter stores, not what it drew). */
const modelFigures = (page: Page): Promise<number> =>
  page.evaluate(
    (mime) =>
      (window as unknown as { Jupyter: { notebook: JupyterNotebook } }).Jupyter.notebook
        .toJSON()
        .cells.flatMap((c) => c.outputs ?? [])
        .filter((o) => o.data && mime in o.data).length,
    PLOTLY_MIME,
  );

async function waitUntilDrawn(page: Page, count: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const els = Array.from(document.querySelectorAll('.ssm-plot'));
      return els.length === n && els.every((el) => el.querySelector('svg.main-svg g.trace, svg.main-svg g.hm'));
    },
    count,
    { timeout: 30_000 },
  );
}

describe('classic Notebook without network', () => {
  let figures = 0;

  it(`runs ${CHAPTER} (quick mode) and draws every figure with the plotly.js it brought along`, async () => {
    const { page, offsite, errors } = await openNotebook(CHAPTER);
    await page.evaluate(() =>
      (window as unknown as { Jupyter: { notebook: JupyterNotebook } }).Jupyter.notebook.execute_all_cells(),
    );
    await page.waitForFunction(
      () => {
        const nb = (window as unknown as { Jupyter: { notebook: JupyterNotebook } }).Jupyter.notebook;
        if (nb.toJSON().cells.some((c) => c.outputs?.some((o) => o.output_type === 'error'))) return true;
        return nb.get_cells().every((c) => c.cell_type !== 'code' || typeof c.input_prompt_number === 'number');
      },
      undefined,
      { timeout: 90_000, polling: 250 },
    );
    const failed = await page.$$eval('.output_error, .output_stderr', (els) => els.map((e) => e.textContent ?? ''));
    expect(failed, 'cell errors').toEqual([]);
    figures = await modelFigures(page);
    expect(figures).toBeGreaterThanOrEqual(3); // chapter 01 shows three figures
    await waitUntilDrawn(page, figures);
    const drawn = await figuresOf(page);
    expect(drawn).toHaveLength(figures);
    for (const f of drawn) {
      expect(f.svg).toBe(true);
      expect(f.traces).toBeGreaterThan(0);
      expect(f.points).toBeGreaterThan(0);
    }
    // plotly.js came once, from the package on disk, and ran
    expect(await page.locator('.ssm-plot-loader').allTextContents()).toEqual([
      expect.stringMatching(/plotly\.js [\d.]+ loaded from the package on disk/),
    ]);
    expect(offsite).toEqual([]);
    expect(errors).toEqual([]);
    await page.evaluate(() =>
      (window as unknown as { Jupyter: { notebook: JupyterNotebook } }).Jupyter.notebook.save_notebook(),
    );
    await page.close();
  });

  it('the saved notebook reopens trusted and draws its stored figures', async () => {
    expect(figures).toBeGreaterThan(0);
    // what Jupyter wrote (outputs, the kernel's language_info) comes back to the committed file, byte for byte
    const saved = JSON.parse(readFileSync(join(WORK, CHAPTER), 'utf8')) as Notebook;
    expect(storedProblems(saved).length).toBeGreaterThan(0);
    expect(notebookText(normalizeStored(saved))).toBe(readFileSync(join(NOTEBOOK_DIR, CHAPTER), 'utf8'));
    const { page, offsite, errors } = await openNotebook(CHAPTER);
    expect(
      await page.evaluate(
        () => (window as unknown as { Jupyter: { notebook: JupyterNotebook } }).Jupyter.notebook.trusted,
      ),
    ).toBe(true);
    await waitUntilDrawn(page, figures);
    expect((await figuresOf(page)).every((f) => f.svg && f.traces > 0 && f.points > 0)).toBe(true);
    expect(offsite).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a copy changed on disk is untrusted: no script runs, the figures show their descriptions and the loader says why', async () => {
    const nb = JSON.parse(readFileSync(join(WORK, CHAPTER), 'utf8')) as { metadata: Record<string, unknown> };
    nb.metadata.edited_elsewhere = true; // content no longer matches the signature in the trust database
    writeFileSync(join(WORK, 'untrusted.ipynb'), JSON.stringify(nb));
    const { page, offsite } = await openNotebook('untrusted.ipynb');
    expect(
      await page.evaluate(
        () => (window as unknown as { Jupyter: { notebook: JupyterNotebook } }).Jupyter.notebook.trusted,
      ),
    ).toBe(false);
    const texts = await page.locator('.output_html').allTextContents();
    expect(texts.filter((t) => /has not run:\s+the notebook is not trusted/.test(t))).toHaveLength(1);
    expect(texts.filter((t) => /^\s*\[Plotly figure\]/.test(t))).toHaveLength(figures);
    await page.waitForTimeout(500);
    expect(await page.locator('svg.main-svg').count()).toBe(0);
    expect(offsite).toEqual([]);
    await page.close();
  });

  it("nbconvert's HTML of the saved notebook draws every figure from a file:// page", async () => {
    const out = join(home, 'html');
    const r = spawnSync(py, ['-m', 'nbconvert', '--to', 'html', '--output-dir', out, join(WORK, CHAPTER)], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const html = join(out, CHAPTER.replace(/\.ipynb$/, '.html'));
    const { page, errors } = await offlinePage(pathToFileURL(html).href);
    await waitUntilDrawn(page, figures);
    expect((await figuresOf(page)).every((f) => f.svg && f.traces > 0 && f.points > 0)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });
});
