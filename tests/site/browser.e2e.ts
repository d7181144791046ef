// Browser tests of the built site (build/site/, from `npm run build:site`): run with `npm run test:site`
// (vitest.site.config.ts; `npm test` does not pick this file up). playwright-core drives Debian's Chromium
// (/usr/bin/chromium, or $CHROMIUM_PATH). Every page must load without console errors, failed requests or
// requests leaving localhost; every Plotly figure must draw; KaTeX must render with its (local) fonts; the
// playground must reach 100 % accuracy on its default setting. Full-page screenshots land in
// build/site-screenshots/ (CI artefacts).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, relative, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../../scripts/site/static-server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SITE = join(ROOT, 'build', 'site');
const SHOTS = join(ROOT, 'build', 'site-screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Every HTML page of the build as a URL path (404.html excluded). */
function pages(dir = SITE): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return pages(p);
    if (!f.endsWith('.html') || f === '404.html') return [];
    const rel = '/' + relative(SITE, p).split('\\').join('/');
    return [rel === '/index.html' ? '/' : rel.replace(/\/index\.html$/, '').replace(/\.html$/, '')];
  });
}

const shotName = (path: string) => (path === '/' ? 'index' : path.slice(1).replace(/[^\w.-]+/g, '_')) + '.png';

let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(SITE, 'index.html'))) throw new Error('build/site/ is missing: run `npm run build:site` first');
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  ({ server, url: base } = await serveStatic(SITE));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
});

interface Visit {
  page: Page;
  problems: string[];
}

/** Open `path`, recording console errors, page errors, failed and off-site requests. */
async function visit(path: string, viewport = { width: 1280, height: 900 }): Promise<Visit> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  const origin = new URL(base).origin;
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === origin || u.protocol === 'data:' || u.protocol === 'blob:') return route.continue();
    problems.push(`request leaves the site: ${u.href}`);
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const res = await page.goto(base + path, { waitUntil: 'load' });
  expect(res?.status(), path).toBe(200);
  await page.waitForLoadState('networkidle');
  return { page, problems };
}

/** Open the playground at `path` (which may carry a query) and wait until ssm-core has its backend; returns the status text. */
async function playgroundBackend(path: string): Promise<{ page: Page; problems: string[]; text: string }> {
  const { page, problems } = await visit(path);
  await page.waitForFunction(
    () =>
      ['idle', 'error'].includes(document.querySelector('[data-testid="pg-status"]')?.getAttribute('data-state') ?? ''),
    undefined,
    { timeout: 60_000 },
  );
  expect(await page.locator('[data-testid="pg-status"]').getAttribute('data-state')).toBe('idle');
  return { page, problems, text: (await page.locator('[data-testid="pg-status"]').textContent()) ?? '' };
}

const all = pages();

describe('built site', () => {
  it('has a landing page, chapters and the playground', () => {
    expect(all).toContain('/');
    expect(all).toContain('/playground');
    expect(all.filter((p) => p.startsWith('/chapters/')).length).toBeGreaterThan(0);
  });

  it('landing page links every built chapter', async () => {
    expect(readFileSync(join(SITE, 'index.html'), 'utf8')).toContain('What the paper claims'); // server-rendered
    const { page, problems } = await visit('/');
    const links = await page.$$eval('a[href*="/chapters/"]', (as) => as.map((a) => (a as HTMLAnchorElement).pathname));
    for (const ch of all.filter((p) => p.startsWith('/chapters/'))) expect(links, ch).toContain(ch);
    await page.screenshot({ path: join(SHOTS, shotName('/')), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  for (const path of all.filter((p) => p !== '/' && p !== '/playground')) {
    it(`page ${path} loads cleanly, draws its charts and math`, async () => {
      const { page, problems } = await visit(path);
      const html = readFileSync(join(SITE, path === '/' ? 'index.html' : `${path.slice(1)}.html`), 'utf8');
      // server-side rendering worked (a failed SSG still writes a page: Docusaurus's red error box)
      expect(html).toMatch(/<main|<article/);
      if (path.startsWith('/chapters/')) expect(html).toContain('class="katex"');
      // Plotly: every figure placeholder becomes a drawn chart (react-plotly's .js-plotly-plot with an SVG)
      const figures = await page.locator('figure.nb-plotly').count();
      if (figures) {
        await page.waitForFunction(
          (n) => document.querySelectorAll('figure.nb-plotly .js-plotly-plot .main-svg').length >= n,
          figures,
          { timeout: 30_000 },
        );
        const drawn = await page.locator('figure.nb-plotly .js-plotly-plot').count();
        expect(drawn, 'Plotly charts drawn').toBe(figures);
        const traces = await page.$$eval('figure.nb-plotly .js-plotly-plot', (els) =>
          els.map((e) => e.querySelectorAll('.trace, .scatterlayer path, .barlayer path, .heatmaplayer image').length),
        );
        expect(
          traces.every((t) => t > 0),
          `every chart draws traces: ${traces}`,
        ).toBe(true);
      }
      // KaTeX: server-rendered math is present, has no parse errors, and its fonts loaded from the site
      if (html.includes('class="katex"')) {
        expect(await page.locator('.katex').count()).toBeGreaterThan(0);
        expect(await page.locator('.katex-error').count()).toBe(0);
        const fontOk = await page.evaluate(async () => {
          await document.fonts.ready;
          await document.fonts.load('16px KaTeX_Main');
          return document.fonts.check('16px KaTeX_Main');
        });
        expect(fontOk, 'KaTeX_Main font loaded').toBe(true);
      }
      // chapter pages: the executed notebook is downloadable
      if (path.startsWith('/chapters/') && (await page.locator('.nb-header a[download]').count())) {
        const href = await page.locator('.nb-header a[download]').getAttribute('href');
        const r = await page.request.get(new URL(href!, base).href);
        expect(r.status(), href!).toBe(200);
        expect(JSON.parse(await r.text()).cells.length).toBeGreaterThan(0);
      }
      await page.screenshot({ path: join(SHOTS, shotName(path)), fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    });
  }

  it('playground reaches 100 % accuracy on its default setting', async () => {
    const { page, problems } = await visit('/playground');
    // TensorFlow.js and ssm-core load lazily; wait until the backend is up
    await page.waitForFunction(
      () =>
        ['idle', 'error'].includes(
          document.querySelector('[data-testid="pg-status"]')?.getAttribute('data-state') ?? '',
        ),
      undefined,
      { timeout: 60_000 },
    );
    expect(await page.locator('[data-testid="pg-status"]').getAttribute('data-state')).toBe('idle');
    await page.getByRole('button', { name: /^run/i }).click();
    await page.waitForFunction(
      () =>
        ['done', 'error'].includes(
          document.querySelector('[data-testid="pg-status"]')?.getAttribute('data-state') ?? '',
        ),
      undefined,
      { timeout: 120_000 },
    );
    expect(await page.locator('.alert--danger').allTextContents()).toEqual([]);
    // the hidden-state heatmap is drawn
    await page.waitForFunction(() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0, undefined, {
      timeout: 30_000,
    });
    const backend = await page.locator('[data-testid="pg-status"]').textContent();
    console.log(`playground: ${backend}, accuracy ${await page.locator('[data-testid="pg-accuracy"]').textContent()}`);
    const acc = Number(await page.locator('[data-testid="pg-accuracy"]').getAttribute('data-value'));
    await page.screenshot({ path: join(SHOTS, shotName('/playground')), fullPage: true });
    expect(acc).toBe(1);
    // the other constructions are exact too: Thm. 3 (Mamba-2), Thm. 4 (S4D + gate), Lem. 3 (induction heads)
    const status = page.locator('[data-testid="pg-status"]');
    const runAndRead = async () => {
      const before = Number(await status.getAttribute('data-runs'));
      await page.getByRole('button', { name: /^run/i }).click();
      await page.waitForFunction(
        (n) => Number(document.querySelector('[data-testid="pg-status"]')?.getAttribute('data-runs')) > n,
        before,
        { timeout: 120_000 },
      );
      expect(await status.getAttribute('data-state')).toBe('done');
      return Number(await page.locator('[data-testid="pg-accuracy"]').getAttribute('data-value'));
    };
    for (const mixer of ['mamba2', 's4d']) {
      await page.getByLabel('mixer').selectOption(mixer);
      expect(await runAndRead(), mixer).toBe(1);
    }
    await page.getByLabel('task').selectOption('induction');
    expect(await runAndRead(), 'induction heads').toBe(1);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('playground shows its backend: wasm without a hardware GPU', async () => {
    const { page, problems, text } = await playgroundBackend('/playground');
    expect(text).toBe('backend: wasm');
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('playground on WebGPU (Chromium with --enable-unsafe-webgpu: a SwiftShader adapter, a CPU one)', () => {
  let gpuBrowser: Browser;
  beforeAll(async () => {
    gpuBrowser = await chromium.launch({
      executablePath: CHROMIUM,
      // WebGPU on SwiftShader's Vulkan: without the Vulkan flags headless Chromium's GPU process loses the
      // WebGPU instance on tfjs's synchronous read-back (OffscreenCanvas) and the run fails
      args: [
        '--no-sandbox',
        '--enable-unsafe-webgpu',
        '--enable-features=Vulkan',
        '--use-vulkan=swiftshader',
        '--use-angle=vulkan',
        '--disable-quic',
        '--no-first-run',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await gpuBrowser?.close();
  });

  it('is not chosen by itself, and ?backend=webgpu forces it (the construction stays exact)', async () => {
    const saved = browser;
    browser = gpuBrowser; // visit() opens pages in `browser`
    try {
      const plain = await playgroundBackend('/playground');
      expect(plain.text).toBe('backend: wasm');
      await plain.page.close();
      const forced = await playgroundBackend('/playground?backend=webgpu');
      expect(forced.text).toMatch(/^backend: webgpu \(.*, CPU adapter\)$/);
      await forced.page.getByRole('button', { name: /^run/i }).click();
      await forced.page.waitForFunction(
        () =>
          ['done', 'error'].includes(
            document.querySelector('[data-testid="pg-status"]')?.getAttribute('data-state') ?? '',
          ),
        undefined,
        { timeout: 120_000 },
      );
      expect(await forced.page.locator('.alert--danger').allTextContents()).toEqual([]);
      expect(Number(await forced.page.locator('[data-testid="pg-accuracy"]').getAttribute('data-value'))).toBe(1);
      await forced.page.close();
    } finally {
      browser = saved;
    }
  });
});
