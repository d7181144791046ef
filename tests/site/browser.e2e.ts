// Browser tests of the built site (build/site/, from `npm run build:site`): run with `npm run test:site`
// (vitest.site.config.ts; `npm test` does not pick this file up). playwright-core drives Debian's Chromium
// (/usr/bin/chromium, or $CHROMIUM_PATH). Every page must load without console errors, failed requests or
// requests leaving localhost; every Plotly figure must draw; KaTeX must render with its (local) fonts; the
// playground must reach 100 % accuracy on its default setting. Every page is also opened at a phone's width
// (390 px): no page may be wider than the viewport, and no content may be cut off (what does not fit must sit in
// a horizontally scrollable box). "On this page" entries must not show raw TeX. Full-page screenshots of every
// page at both widths land in build/site-screenshots/ (<page>.desktop.png, <page>.phone.png; CI artefacts).
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, relative, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtBaseUrl, serveStatic } from '../../scripts/site/static-server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
// SITE_DIR tests another build, e.g. one made with BASE_URL=/selectivity-lab/ (served under that path)
const SITE = resolve(ROOT, process.env.SITE_DIR ?? join('build', 'site'));
const SHOTS = join(ROOT, 'build', 'site-screenshots');

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

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const shotName = (path: string, width: 'desktop' | 'phone' = 'desktop') =>
  `${path === '/' ? 'index' : path.slice(1).replace(/[^\w.-]+/g, '_')}.${width}.png`;

let server: Server;
/** The site's root URL without a trailing slash: http://127.0.0.1:PORT, plus the base path it was built for. */
let base: string;
/** The base path the build was made for (BASE_URL): `/`, or e.g. `/selectivity-lab/`; pages live under it. */
let basePath = '/';
const unprefixed = (pathname: string) =>
  pathname.startsWith(basePath) ? `/${pathname.slice(basePath.length)}` : pathname;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(join(SITE, 'index.html'))) throw new Error('build/site/ is missing: run `npm run build:site` first');
  mkdirSync(SHOTS, { recursive: true });
  basePath = builtBaseUrl(SITE);
  const served = await serveStatic(SITE, 0, '127.0.0.1', basePath);
  server = served.server;
  base = served.url + basePath.replace(/\/$/, '');
  browser = await launchChromium();
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
async function visit(path: string, viewport = DESKTOP): Promise<Visit> {
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

/** Wait until every Plotly placeholder on the page has become a drawn chart; returns how many there are. */
async function chartsDrawn(page: Page): Promise<number> {
  const figures = await page.locator('figure.nb-plotly').count();
  if (figures)
    await page.waitForFunction(
      (n) => document.querySelectorAll('figure.nb-plotly .js-plotly-plot .main-svg').length >= n,
      figures,
      { timeout: 30_000 },
    );
  return figures;
}

/**
 * Horizontal overflow: the document's scroll width against the viewport, and every element that reaches past
 * the viewport's right edge without a horizontally scrollable box around it that fits (content cut off or
 * widening the page). KaTeX's visually hidden MathML, SVG internals (Plotly clips them itself) and elements
 * that are not displayed are not content.
 */
async function overflow(page: Page): Promise<{ scrollWidth: number; viewport: number; offenders: string[] }> {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const offenders: string[] = [];
    const reported = new Set<Element>();
    const describe = (el: Element) =>
      `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.classList.length ? `.${Array.from(el.classList).slice(0, 2).join('.')}` : ''}`;
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      if (el.closest('.katex-mathml, svg')) continue;
      if ([...reported].some((o) => o.contains(el))) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.height === 0 || r.right <= vw + 1) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || style.position === 'fixed') continue;
      // an element moved out of view on purpose (skip links, off-canvas menus) is not shown
      if (r.bottom <= 0 || r.left >= vw) continue;
      let a = el.parentElement;
      let inBox = false;
      while (a && a !== document.body) {
        const ox = getComputedStyle(a).overflowX;
        if (ox !== 'visible') {
          inBox = (ox === 'auto' || ox === 'scroll') && a.getBoundingClientRect().right <= vw + 1;
          if (!inBox && a.getBoundingClientRect().right <= vw + 1) {
            reported.add(el);
            offenders.push(
              `${describe(el)} cut off by ${describe(a)} (overflow-x: ${ox}), right edge ${Math.round(r.right)}`,
            );
          }
          break;
        }
        a = a.parentElement;
      }
      if (!a || a === document.body) {
        reported.add(el);
        offenders.push(`${describe(el)} reaches ${Math.round(r.right)} px`);
      }
    }
    return {
      scrollWidth: document.documentElement.scrollWidth,
      viewport: vw,
      offenders: [...new Set(offenders)].slice(0, 12),
    };
  });
}

/** The "On this page" entries as a reader sees them (KaTeX's hidden MathML twin left out). */
async function tocTexts(page: Page): Promise<{ text: string; math: boolean }[]> {
  return page.$$eval('.table-of-contents a', (as) =>
    as.map((a) => {
      const c = a.cloneNode(true) as HTMLElement;
      c.querySelectorAll('.katex-mathml').forEach((m) => m.remove());
      return { text: c.textContent ?? '', math: a.querySelector('.katex-html') !== null };
    }),
  );
}

/** TeX source: a control word, a dollar sign, or a braced sub/superscript. */
const RAW_TEX = /\\[A-Za-z]+|\$|[_^]\{/;

const all = pages();

/** Press the playground's run button and wait until that run has finished (its status says 'done'). */
async function runPlayground(page: Page): Promise<void> {
  const status = page.locator('[data-testid="pg-status"]');
  const before = Number(await status.getAttribute('data-runs'));
  await page.getByRole('button', { name: /^run/i }).click();
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="pg-status"]')?.getAttribute('data-runs')) > n,
    before,
    { timeout: 120_000 },
  );
  expect(await status.getAttribute('data-state')).toBe('done');
}

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
    for (const ch of all.filter((p) => p.startsWith('/chapters/'))) expect(links.map(unprefixed), ch).toContain(ch);
    await page.screenshot({ path: join(SHOTS, shotName('/')), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it(`every link between pages resolves under the base path the site was built for`, async () => {
    const targets = new Set<string>();
    for (const path of all) {
      const html = readFileSync(join(SITE, path === '/' ? 'index.html' : `${path.slice(1)}.html`), 'utf8');
      for (const m of html.matchAll(/<a\s[^>]*?href="([^"#]*)(?:#[^"]*)?"/g)) {
        const href = m[1].replace(/&amp;/g, '&');
        if (!href || /^[a-z]+:/i.test(href)) continue; // same-page anchors and other sites
        const u = new URL(href, base + path);
        expect(u.pathname.startsWith(basePath), `${path} links ${href} outside ${basePath}`).toBe(true);
        targets.add(u.pathname);
      }
    }
    // every page is reachable: some page links it
    const linked = new Set([...targets].map((t) => unprefixed(t).replace(/\/$/, '') || '/'));
    for (const p of all) expect(linked.has(p), `no link to ${p}`).toBe(true);
    const broken: string[] = [];
    for (const t of targets) {
      const r = await fetch(new URL(t, base).href, { method: 'HEAD' });
      if (r.status !== 200) broken.push(`${t}: HTTP ${r.status}`);
    }
    expect(broken).toEqual([]);
  });

  for (const path of all.filter((p) => p !== '/' && p !== '/playground')) {
    it(`page ${path} loads cleanly, draws its charts and math`, async () => {
      const { page, problems } = await visit(path);
      const html = readFileSync(join(SITE, path === '/' ? 'index.html' : `${path.slice(1)}.html`), 'utf8');
      // server-side rendering worked (a failed SSG still writes a page: Docusaurus's red error box)
      expect(html).toMatch(/<main|<article/);
      if (path.startsWith('/chapters/')) expect(html).toContain('class="katex"');
      // Plotly: every figure placeholder becomes a drawn chart (react-plotly's .js-plotly-plot with an SVG)
      const figures = await chartsDrawn(page);
      if (figures) {
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
      // "On this page": headings with math show rendered math, never TeX source
      const toc = await tocTexts(page);
      for (const entry of toc) expect(entry.text, 'TOC entry').not.toMatch(RAW_TEX);
      const mathHeadings = await page.$$eval(
        'article h2[id], article h3[id]',
        (hs) => hs.filter((h) => h.querySelector('.katex')).length,
      );
      if (toc.length) expect(toc.filter((e) => e.math).length, 'TOC entries with math').toBe(mathHeadings);
      const o = await overflow(page);
      expect(o.scrollWidth, `${path} is wider than the desktop viewport`).toBeLessThanOrEqual(o.viewport);
      expect(o.offenders, 'content past the right edge').toEqual([]);
      await page.screenshot({ path: join(SHOTS, shotName(path)), fullPage: true });
      expect(problems).toEqual([]);
      await page.close();
    });
  }

  // every page at a phone's width: nothing wider than the screen, nothing cut off, a screenshot kept
  for (const path of all) {
    it(`page ${path} fits a ${PHONE.width} px phone`, async () => {
      const { page, problems } = await visit(path, PHONE);
      await chartsDrawn(page);
      if (path === '/playground')
        await page.waitForFunction(
          () => document.querySelector('[data-testid="pg-status"]')?.getAttribute('data-state') !== 'loading',
          undefined,
          { timeout: 60_000 },
        );
      const o = await overflow(page);
      await page.screenshot({ path: join(SHOTS, shotName(path, 'phone')), fullPage: true });
      expect(o.scrollWidth, `${path} is wider than the phone`).toBeLessThanOrEqual(o.viewport);
      expect(o.offenders, 'content past the right edge').toEqual([]);
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
    const runAndRead = async () => {
      await runPlayground(page);
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

  it('playground: a d-sweep belongs to its settings, typed values it cannot use are reported, tokens are labelled', async () => {
    const { page, problems } = await playgroundBackend('/playground');
    const run = () => runPlayground(page);
    await run();
    // the token strip: MQAR's layout (κ = 4): 4 keys and 4 values in the pair region, every key queried once
    const roles = await page.$$eval('[data-testid="pg-tokens"] [data-role]', (els) =>
      els.map((e) => e.getAttribute('data-role')),
    );
    expect(roles.slice(0, 8)).toEqual(['key', 'value', 'key', 'value', 'key', 'value', 'key', 'value']);
    expect(roles.filter((r) => r === 'query').length).toBe(4);
    const legend = (await page.locator('[data-testid="pg-legend"]').textContent()) ?? '';
    for (const word of ['key', 'value', 'query', 'filler']) expect(legend).toContain(word);

    // the sweep: a second chart titled with Thm. 2 and its bound
    const sweepTitle = page.locator('.nb-plotly__title, .gtitle', { hasText: 'accuracy vs embedding size' });
    await page.getByRole('button', { name: /sweep d/i }).click();
    await page.getByRole('button', { name: /sweep d/i }).waitFor({ state: 'visible', timeout: 120_000 });
    await page.waitForFunction(
      () => !document.querySelector('button.button--secondary')?.textContent?.includes('Sweeping'),
      undefined,
      { timeout: 120_000 },
    );
    await expect.poll(() => sweepTitle.count(), { timeout: 30_000 }).toBe(1);
    expect(await sweepTitle.textContent()).toContain('Thm. 2');
    // another task: the MQAR sweep is gone, also after an INDUCTION HEADS run
    await page.getByLabel('task').selectOption('induction');
    expect(await sweepTitle.count()).toBe(0);
    await run();
    expect(await sweepTitle.count()).toBe(0);
    const ihRoles = await page.$$eval('[data-testid="pg-tokens"] [data-role]', (els) =>
      els.map((e) => e.getAttribute('data-role')),
    );
    expect(ihRoles[0]).toBe('first');
    expect(new Set(ihRoles)).toEqual(new Set(['first', 'repeat']));

    // values it cannot use: named, with the allowed range and the value used
    await page.getByLabel('task').selectOption('mqar');
    const field = (label: string) => page.locator('.pg-controls label', { hasText: label }).locator('input');
    const validation = page.locator('[data-testid="pg-validation"]');
    expect(await validation.count()).toBe(0);
    await field('sequence length T').fill('5');
    await expect.poll(() => validation.textContent()).toContain('sequence length T: 5 is below the range 12–256');
    expect(await validation.textContent()).toContain('using 12');
    await field('κ (key–value pairs)').fill('-3');
    await expect.poll(() => validation.textContent()).toContain('κ (key–value pairs): -3 is below the range 1–32');
    expect(await validation.textContent()).toContain('using 1.');
    // the run uses what the message says: κ = 1, T = 5 (≥ 3κ = 3)
    await run();
    expect(await page.locator('[data-testid="pg-tokens"] [data-role]').count()).toBe(5);
    await field('κ (key–value pairs)').fill('4');
    await field('sequence length T').fill('16');
    await expect.poll(() => validation.count()).toBe(0);
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
