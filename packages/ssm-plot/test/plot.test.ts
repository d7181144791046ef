import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  describeFigure,
  figureHTML,
  figureJSON,
  CDN_DELAY_MS,
  liveFigure,
  loadPlotly,
  LOADER_METADATA_KEY,
  mimeBundle,
  PLOTLY_JS_URL,
  PLOTLY_MIME,
  PLOTLY_READY_EVENT,
  plotlyLoaderHTML,
  setDisplaySink,
  show,
  type DisplayMessage,
} from 'ssm-plot';

const fig = {
  data: [{ type: 'scatter', name: 'S6 Δ_t', x: [1, 2, 3], y: new Float32Array([0.1, Number.NaN, 1 / 3]) }],
  layout: { title: { text: 'Δ over <b>time</b>' }, margin: { t: 10 } },
};

afterEach(() => {
  setDisplaySink(undefined);
  vi.useRealTimers();
});

describe('figure JSON', () => {
  it('turns typed arrays into arrays, non-finite into null, rounds, and keeps user layout over defaults', () => {
    const j = figureJSON(fig);
    expect(j.data[0].y).toEqual([0.1, null, 0.333333]);
    expect(j.layout.margin).toEqual({ l: 64, r: 24, t: 10, b: 52 });
    expect(j.layout.height).toBe(380);
    expect(j.config.displaylogo).toBe(false);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });

  it('keeps animation frames (converted like data) and draws them with the figure-object form of newPlot', () => {
    const fig = {
      data: [{ type: 'heatmap', z: [Float32Array.from([1, 2])] }],
      frames: [
        { name: 't=1', data: [{ z: [Float64Array.from([0.5, NaN])] }] },
        { name: 't=2', data: [{ z: [[3, 4]] }] },
      ],
    };
    const json = figureJSON(fig);
    expect(json.frames).toEqual([
      { name: 't=1', data: [{ z: [[0.5, null]] }] },
      { name: 't=2', data: [{ z: [[3, 4]] }] },
    ]);
    expect(describeFigure(json)).toMatch(/2 frames$/);
    expect(figureHTML(json)).toContain('P.newPlot(el, fig)');
    expect(figureJSON({ data: [] }).frames).toBeUndefined();
    expect(() => figureJSON({ data: [], frames: [1] as never })).toThrow(/frames must be an array of frame objects/);
  });

  it('refuses what is not a figure, naming what it got', () => {
    expect(() => figureJSON({} as never)).toThrow(/\{data: Trace\[\]/);
    expect(() => figureJSON({ data: [3] } as never)).toThrow(/data\[0\]/);
    expect(() => figureJSON(fig, { precision: 0 })).toThrow(/precision/);
  });

  it('bundles Plotly JSON, an HTML fallback that cannot close its script early, and a text line', () => {
    const b = mimeBundle({ data: [{ name: '</script><script>alert(1)</script>', y: [1] }] });
    expect(Object.keys(b).sort()).toEqual([PLOTLY_MIME, 'text/html', 'text/plain'].sort());
    const html = String(b['text/html']);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).toContain(PLOTLY_JS_URL);
    expect(describeFigure(figureJSON(fig))).toBe('[Plotly figure] Δ over time — 1 trace: S6 Δ_t');
  });
});

const isLoader = (m: DisplayMessage) => LOADER_METADATA_KEY in m.metadata;

describe('display', () => {
  it('sends one display_data message with the whole bundle (after the plotly.js loader of the page)', () => {
    const got: [DisplayMessage, boolean][] = [];
    setDisplaySink((m, u) => got.push([m, u]));
    show(fig);
    expect(got).toHaveLength(2);
    expect(isLoader(got[0][0])).toBe(true);
    expect(got[1][1]).toBe(false);
    expect(isLoader(got[1][0])).toBe(false);
    expect(got[1][0].data[PLOTLY_MIME]).toEqual(figureJSON(fig));
  });

  it('prints the text line outside a notebook', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    show(fig);
    expect(log).toHaveBeenCalledWith('[Plotly figure] Δ over time — 1 trace: S6 Δ_t');
    log.mockRestore();
  });

  it('live figures update in place, throttled, and the last figure always lands', () => {
    vi.useFakeTimers();
    const got: [DisplayMessage, boolean][] = [];
    setDisplaySink((m, u) => got.push([m, u]));
    const live = liveFigure({ data: [{ y: [0] }] }, { minIntervalMs: 1000 });
    expect(isLoader(got.shift()![0])).toBe(true);
    for (let i = 1; i <= 5; i++) live.update({ data: [{ y: [i] }] });
    expect(got).toHaveLength(1); // only the initial display so far
    vi.advanceTimersByTime(1000);
    expect(got).toHaveLength(2);
    live.update({ data: [{ y: [6] }] });
    live.done();
    expect(
      got.map(([m, u]) => [
        (m.data[PLOTLY_MIME] as { data: { y: number[] }[] }).data[0].y[0],
        u,
        m.transient.display_id,
      ]),
    ).toEqual([
      [0, false, live.displayId],
      [5, true, live.displayId],
      [6, true, live.displayId],
    ]);
    expect(() => live.update({ data: [] })).toThrow(/after done/);
  });

  it('the CommonJS build finds a running tslab kernel in the module cache (as notebooks load it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssm-plot-'));
    try {
      const fake = join(dir, 'node_modules', 'tslab', 'dist');
      mkdirSync(fake, { recursive: true });
      writeFileSync(
        join(fake, 'jupyter.js'),
        'exports.sent = []; exports.lastWriteDisplayData = (m, u) => exports.sent.push([Object.keys(m.data).sort(), u]);',
      );
      const root = fileURLToPath(new URL('../../../', import.meta.url));
      const script = `const k = require(${JSON.stringify(join(fake, 'jupyter.js'))});
        const p = require('ssm-plot'); p.show({ data: [{ y: [1, 2] }] });
        const l = p.liveFigure({ data: [] }, { minIntervalMs: 0 }); l.update({ data: [{ y: [3] }] });
        console.log(JSON.stringify(k.sent));`;
      const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
      const keys = [PLOTLY_MIME, 'text/html', 'text/plain'].sort();
      expect(JSON.parse(out)).toEqual([
        [['text/html', 'text/plain'], false], // plotly.js, once
        [keys, false],
        [keys, false],
        [keys, true],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Offline: plotly.js from the package on disk, once per page

const requireHere = createRequire(import.meta.url);
const diskPlotly = readFileSync(requireHere.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
const diskVersion = (
  JSON.parse(readFileSync(requireHere.resolve('plotly.js-dist-min/package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** Minimal browser globals for running the figure and loader scripts in a VM context. */
function fakePage() {
  const listeners = new Map<string, (() => void)[]>();
  const appended: { src?: string; onload?: () => void; onerror?: () => void }[] = [];
  const drawn: unknown[] = [];
  const el = {
    innerHTML: 'description',
    textContent: '',
    extra: '',
    insertAdjacentHTML(_where: string, html: string) {
      this.extra += html;
    },
  };
  const timers: (() => void)[] = [];
  const window: { dispatchEvent: (e: { type: string }) => void; [key: string]: unknown } = {
    addEventListener: (e: string, f: () => void) => listeners.set(e, [...(listeners.get(e) ?? []), f]),
    removeEventListener: (e: string, f: () => void) =>
      listeners.set(
        e,
        (listeners.get(e) ?? []).filter((g) => g !== f),
      ),
    dispatchEvent: (e: { type: string }) => [...(listeners.get(e.type) ?? [])].forEach((f) => f()),
  };
  const context = {
    window,
    self: window,
    Event: class {
      constructor(readonly type: string) {}
    },
    document: {
      getElementById: () => el,
      createElement: () => ({}),
      head: { appendChild: (s: (typeof appended)[number]) => appended.push(s) },
    },
    setTimeout: (f: () => void, ms: number) => {
      expect(ms).toBe(CDN_DELAY_MS);
      timers.push(f);
    },
  };
  const plotly = { newPlot: (target: unknown, f: unknown) => drawn.push([target === el, f]) };
  const run = (html: string) => {
    const scripts = [...html.matchAll(/<script type="text\/javascript">\n([\s\S]*?)\n<\/script>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    runInNewContext(scripts[0], context);
  };
  return { window, el, appended, drawn, timers, plotly, run, listeners };
}

describe('offline plotly.js', () => {
  it('the loader carries the whole plotly.js of plotly.js-dist-min, unchanged, in one script', () => {
    const html = plotlyLoaderHTML()!;
    expect(html).toContain(diskPlotly);
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).toContain(`plotly.js ${diskVersion}`);
    expect(PLOTLY_JS_URL).toBe(`https://cdn.plot.ly/plotly-${diskVersion}.min.js`); // CDN fallback: same build
  });

  it('is sent once per page, before the first figure, and again when forced or for a new page', () => {
    const got: DisplayMessage[] = [];
    setDisplaySink((m) => got.push(m));
    show(fig);
    show(fig);
    liveFigure(fig).done();
    expect(got.map(isLoader)).toEqual([true, false, false, false]);
    expect(got[0].metadata[LOADER_METADATA_KEY]).toEqual({ role: 'plotly.js', version: diskVersion });
    expect(got[0].data['text/plain']).toMatch(/plotly\.js/);
    expect(loadPlotly()).toBe(false);
    expect(loadPlotly({ force: true })).toBe(true);
    expect(got.map(isLoader)).toEqual([true, false, false, false, true]);
    setDisplaySink((m) => got.push(m));
    show(fig);
    expect(got.map(isLoader)).toEqual([true, false, false, false, true, true, false]);
  });

  it('a figure draws at once with the Plotly of the page, or when the loader announces it', () => {
    const json = figureJSON(fig);
    const page = fakePage();
    page.window.Plotly = page.plotly;
    page.run(figureHTML(json));
    expect(page.drawn).toEqual([[true, json]]);

    const later = fakePage();
    later.run(figureHTML(json));
    expect(later.drawn).toEqual([]);
    later.window.Plotly = later.plotly;
    later.window.dispatchEvent({ type: PLOTLY_READY_EVENT });
    later.timers.forEach((f) => f()); // the timer finds it drawn: no CDN request
    expect(later.drawn).toEqual([[true, json]]);
    expect(later.appended).toEqual([]);
    expect(later.listeners.get(PLOTLY_READY_EVENT)).toEqual([]);
  });

  it('without a loader a figure tries the CDN build, and says why it is not drawn when that fails', () => {
    const json = figureJSON(fig);
    const ok = fakePage();
    ok.run(figureHTML(json));
    ok.timers.forEach((f) => f());
    expect(ok.appended.map((s) => s.src)).toEqual([PLOTLY_JS_URL]);
    ok.window.Plotly = ok.plotly;
    ok.appended[0].onload!();
    expect(ok.drawn).toEqual([[true, json]]);

    const offline = fakePage();
    offline.run(figureHTML(json, { plotlyUrl: 'http://example.invalid/p.js' }));
    offline.timers.forEach((f) => f());
    offline.appended[0].onerror!();
    expect(offline.drawn).toEqual([]);
    expect(offline.el.extra).toMatch(
      /plotly\.js is not in this page and could not be loaded from http:\/\/example\.invalid\/p\.js/,
    );
    expect(offline.el.extra).toContain('loadPlotly({ force: true })');
  });
});
