/**
 * ssm-plot — Plotly figures for the tslab notebooks.
 *
 * A figure is a plain Plotly spec `{ data, layout, config }`. `show(fig)` sends it to the notebook
 * as ONE display message carrying a MIME bundle:
 *
 *   application/vnd.plotly.v1+json  the spec itself — JupyterLab renders it interactively (plotly's
 *                                   renderer extension), and the explainer site renders the same
 *                                   JSON taken from the executed notebook
 *   text/html                       fallback: a div plus a script that draws it with the page's
 *                                   plotly.js, for front ends without the Plotly renderer (the
 *                                   classic Notebook, JupyterLab without plotly, nbconvert HTML);
 *                                   until (or unless) a script runs, the div shows the description
 *   text/plain                      a one-line description (title and trace names)
 *
 * Offline: before the first figure of a kernel session, `show` sends plotly.js itself, read from
 * the plotly.js-dist-min package on disk, as one HTML output (see {@link plotlyLoaderHTML}); every
 * later figure's script draws with that `window.Plotly`. A page without it (the output that
 * carried it was cleared, or only a later output was kept) falls back to the pinned CDN build
 * after {@link CDN_DELAY_MS}, and says so in the figure when that fails too. Scripts run only in
 * trusted outputs: those of the running session, or of a notebook signed by this Jupyter
 * (`jupyter trust`); an untrusted notebook shows each figure's description and the loader's note.
 *
 * `liveFigure(fig)` displays a figure and then replaces it in place (Jupyter update_display_data),
 * throttled, e.g. from a training callback. Outside a tslab kernel (plain Node, tests) `show`
 * prints the text line instead, unless a sink was installed with `setDisplaySink`.
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
/** plotly.js version of the on-disk build (plotly.js-dist-min) and of the CDN fallback. */
export const PLOTLY_JS_VERSION = '3.7.0';
/** plotly.js build a figure loads when its page has no Plotly and no loader brought one. */
export const PLOTLY_JS_URL = `https://cdn.plot.ly/plotly-${PLOTLY_JS_VERSION}.min.js`;
/** How long a figure waits for the page's loader before trying {@link PLOTLY_JS_URL}. */
export const CDN_DELAY_MS = 3000;
/** Key of the loader output's display metadata; converters that draw the Plotly JSON skip that output. */
export const LOADER_METADATA_KEY = 'ssm-plot';
/** Event the loader dispatches on `window` once `window.Plotly` is set. */
export const PLOTLY_READY_EVENT = 'ssm-plot:plotly-ready';

export type Datum = number | string | boolean | null;
/** Plotly data arrays: numbers (typed arrays welcome), strings, or nested (heatmap z). */
export type DataArray = ArrayLike<number> | readonly Datum[] | readonly (ArrayLike<number> | readonly Datum[])[];

export interface Trace {
  type?: string;
  name?: string;
  x?: DataArray;
  y?: DataArray;
  z?: DataArray;
  [key: string]: unknown;
}

export interface Layout {
  title?: string | { text: string; [key: string]: unknown };
  height?: number;
  width?: number;
  [key: string]: unknown;
}

/** One animation frame (Plotly `frames`): traces (indices `traces` of `data`) and layout changes. */
export interface Frame {
  name?: string;
  data?: Trace[];
  traces?: number[];
  layout?: Layout;
  [key: string]: unknown;
}

export interface Figure {
  data: Trace[];
  layout?: Layout;
  config?: Record<string, unknown>;
  /** Animation frames, played by layout `updatemenus` / `sliders` with `method: 'animate'`. */
  frames?: Frame[];
}

/** The figure as it travels: JSON only (typed arrays → arrays, ±∞/NaN → null, numbers rounded). */
export interface FigureJSON {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  config: Record<string, unknown>;
  frames?: Record<string, unknown>[];
}

export interface ShowOptions {
  /** Significant digits kept for non-integers (default 6): keeps stored notebooks small. */
  precision?: number;
  /** plotly.js URL a figure loads when its page has no plotly.js (default {@link PLOTLY_JS_URL}). */
  plotlyUrl?: string;
}

/** A Jupyter display message (the content of display_data / update_display_data). */
export interface DisplayMessage {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** Receives display messages; `update` is true for update_display_data. */
export type DisplaySink = (msg: DisplayMessage, update: boolean) => void;

const DEFAULT_LAYOUT = { height: 380, margin: { l: 64, r: 24, t: 56, b: 52 } };
const DEFAULT_CONFIG = { responsive: true, displaylogo: false };

const isTyped = (v: unknown): v is ArrayLike<number> => ArrayBuffer.isView(v) && !(v instanceof DataView);

function round(v: number, digits: number): number | null {
  if (!Number.isFinite(v)) return null;
  if (Number.isInteger(v)) return v;
  return Number(v.toPrecision(digits));
}

function toJSONValue(v: unknown, digits: number): unknown {
  if (typeof v === 'number') return round(v, digits);
  if (v === null || typeof v !== 'object') return v === undefined ? null : v;
  if (isTyped(v)) return Array.from(v, (x) => round(Number(x), digits));
  if (Array.isArray(v)) return v.map((x) => toJSONValue(x, digits));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJSONValue(x, digits);
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !isTyped(v);
}

/** `over` wins; nested plain objects merge. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

function checkFigure(fig: Figure): void {
  if (fig == null || typeof fig !== 'object' || !Array.isArray(fig.data)) {
    throw new TypeError(
      `ssm-plot: a figure is {data: Trace[], layout?, config?}; got ${fig === null ? 'null' : typeof fig}` +
        (fig && typeof fig === 'object' ? ` with data ${typeof (fig as Figure).data}` : ''),
    );
  }
  fig.data.forEach((t, i) => {
    if (!isPlainObject(t)) throw new TypeError(`ssm-plot: data[${i}] must be a trace object`);
  });
}

/** Validate a figure and turn it into plain JSON with the default layout/config underneath. */
export function figureJSON(fig: Figure, options: ShowOptions = {}): FigureJSON {
  checkFigure(fig);
  const digits = options.precision ?? 6;
  if (!Number.isInteger(digits) || digits < 1 || digits > 17)
    throw new RangeError(`ssm-plot: precision must be an integer in [1, 17]; got ${digits}`);
  if (fig.frames !== undefined && (!Array.isArray(fig.frames) || !fig.frames.every(isPlainObject))) {
    throw new TypeError('ssm-plot: frames must be an array of frame objects {name?, data?, traces?, layout?}');
  }
  return {
    data: fig.data.map((t) => toJSONValue(t, digits) as Record<string, unknown>),
    layout: toJSONValue(merge(DEFAULT_LAYOUT, (fig.layout ?? {}) as Record<string, unknown>), digits) as Record<
      string,
      unknown
    >,
    config: toJSONValue(merge(DEFAULT_CONFIG, fig.config ?? {}), digits) as Record<string, unknown>,
    ...(fig.frames ? { frames: fig.frames.map((f) => toJSONValue(f, digits) as Record<string, unknown>) } : {}),
  };
}

function titleOf(layout: Record<string, unknown>): string {
  const t = layout.title;
  if (typeof t === 'string') return t;
  if (isPlainObject(t) && typeof t.text === 'string') return t.text;
  return '';
}

/** One line: "[Plotly figure] title — 3 traces: a, b, c". */
export function describeFigure(json: FigureJSON): string {
  const title = titleOf(json.layout).replace(/<[^>]*>/g, '');
  const names = json.data.map((t, i) => (typeof t.name === 'string' ? t.name : `${t.type ?? 'scatter'} ${i + 1}`));
  const list = names.length > 6 ? `${names.slice(0, 6).join(', ')}, …` : names.join(', ');
  const frames = json.frames ? ` · ${json.frames.length} frame${json.frames.length === 1 ? '' : 's'}` : '';
  return `[Plotly figure]${title ? ` ${title}` : ''} — ${json.data.length} trace${json.data.length === 1 ? '' : 's'}${list ? `: ${list}` : ''}${frames}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe inside <script>: no "</script>", no "<!--", and no U+2028/9 line breaks. */
const scriptJSON = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

let counter = 0;
function newId(): string {
  counter += 1;
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, '0')}${counter.toString(36)}`;
}

/**
 * The HTML fallback: a sized div (with the text description until plotly.js draws) and a script
 * that draws with window.Plotly; without it, waits for the loader's ready event, then after
 * {@link CDN_DELAY_MS} loads `plotlyUrl` (through RequireJS where the page has it, as the classic
 * Notebook does) and, if that fails, says in the div why the figure is not drawn.
 */
export function figureHTML(json: FigureJSON, options: ShowOptions = {}): string {
  const id = `ssm-plot-${newId()}`;
  const url = options.plotlyUrl ?? PLOTLY_JS_URL;
  const height = typeof json.layout.height === 'number' ? json.layout.height : DEFAULT_LAYOUT.height;
  const missing =
    'plotly.js is not in this page and could not be loaded from ' +
    url +
    ': run the notebook (its first figure brings plotly.js), or call loadPlotly({ force: true }) from ssm-plot.';
  return [
    `<div id="${id}" class="ssm-plot" style="width:100%;min-height:${height}px">`,
    `<p style="font:13px sans-serif;color:#666">${escapeHtml(describeFigure(json))} (interactive with JavaScript and plotly.js)</p></div>`,
    '<script type="text/javascript">',
    '(function () {',
    `  var fig = ${scriptJSON(json)}, url = ${scriptJSON(url)}, ev = ${scriptJSON(PLOTLY_READY_EVENT)};`,
    `  var el = document.getElementById(${scriptJSON(id)}), drawn = false;`,
    '  function draw(P) {', // the figure object form keeps frames
    '    if (drawn || !el || !P) return;',
    '    drawn = true; window.removeEventListener(ev, ready); el.innerHTML = ""; P.newPlot(el, fig);',
    '  }',
    '  function ready() { draw(window.Plotly); }',
    '  function fail() {',
    `    if (!drawn && el) el.insertAdjacentHTML("beforeend", ${scriptJSON(`<p style="font:13px sans-serif;color:#a33">${escapeHtml(missing)}</p>`)});`,
    '  }',
    '  if (window.Plotly) return draw(window.Plotly);',
    '  window.addEventListener(ev, ready);',
    '  setTimeout(function () {',
    '    if (drawn) return;',
    '    if (window.Plotly) return draw(window.Plotly);',
    '    if (typeof window.requirejs === "function") {',
    '      window.requirejs.config({ paths: { plotly: url.replace(/\\.js$/, "") } });',
    '      return window.requirejs(["plotly"], function (P) { draw(P || window.Plotly); }, fail); // some builds set window.Plotly instead of an AMD value',
    '    }',
    '    var s = document.createElement("script"); s.src = url;',
    '    s.onload = function () { draw(window.Plotly); }; s.onerror = fail;',
    '    document.head.appendChild(s);',
    `  }, ${CDN_DELAY_MS});`,
    '})();',
    '</script>',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// plotly.js for offline pages

let plotlySource: { version: string; code: string } | null | undefined;

/** plotly.js from the plotly.js-dist-min package beside this one, read once; null when it is not installed. */
function plotlyFromDisk(): { version: string; code: string } | null {
  if (plotlySource !== undefined) return plotlySource;
  try {
    const req = typeof require === 'function' ? require : createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(req.resolve('plotly.js-dist-min/package.json'), 'utf8')) as { version: string };
    plotlySource = {
      version: pkg.version,
      code: readFileSync(req.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8'),
    };
  } catch {
    plotlySource = null;
  }
  return plotlySource;
}

/**
 * The loader: one HTML output that runs plotly.js (read from plotly.js-dist-min on disk) in the
 * page, sets `window.Plotly` and dispatches {@link PLOTLY_READY_EVENT}. Its text says plotly.js is
 * loaded, or, where its script does not run (an untrusted notebook), why the figures are not drawn.
 * Undefined when plotly.js-dist-min is not installed.
 */
export function plotlyLoaderHTML(): string | undefined {
  const p = plotlyFromDisk();
  if (!p) return undefined;
  const id = `ssm-plot-loader-${newId()}`;
  // Inside a <script>, "</script" or "<!--" would end or change the script: both written with an escaped "<".
  const code = p.code.replace(/<\/script/gi, '\\u003c/script').replace(/<!--/g, '\\u003c!--');
  return [
    `<div id="${id}" class="ssm-plot-loader" style="font:12px sans-serif;color:#888">`,
    `ssm-plot: plotly.js ${escapeHtml(p.version)} for this notebook's figures is embedded in this output, but its script has not run:`,
    'the notebook is not trusted (classic Notebook: File → Trust Notebook; JupyterLab: Trust Notebook in the command palette;',
    'or <code>jupyter trust</code> on the file), so the figures show their descriptions only.</div>',
    '<script type="text/javascript">',
    'window.PlotlyConfig = window.PlotlyConfig || { MathJaxConfig: "local" };',
    'if (!window.Plotly) (function (define, module, exports) {', // a plain global, whatever module loader the page has
    code,
    '}).call(window);',
    '(function () {',
    `  var el = document.getElementById(${scriptJSON(id)});`,
    `  if (el) el.textContent = ${scriptJSON(`ssm-plot: plotly.js ${p.version} loaded from the package on disk (works offline).`)};`,
    `  if (window.Plotly) window.dispatchEvent(new Event(${scriptJSON(PLOTLY_READY_EVENT)}));`,
    '})();',
    '</script>',
  ].join('\n');
}

let loaderSent = false;

/**
 * Send the loader ({@link plotlyLoaderHTML}) to the notebook unless this kernel session already did
 * (or `force`). `show` and `liveFigure` call it before their first figure; call it with `force`
 * after clearing the output that carried it. Returns true when a loader was sent.
 */
export function loadPlotly(options: { force?: boolean } = {}): boolean {
  if (loaderSent && !options.force) return false;
  const sink = currentSink();
  if (!sink) return false;
  const html = plotlyLoaderHTML();
  if (html === undefined) return false;
  const version = plotlyFromDisk()!.version;
  sink(
    {
      data: { 'text/html': html, 'text/plain': `ssm-plot: plotly.js ${version} (embedded for offline figures)` },
      metadata: { [LOADER_METADATA_KEY]: { role: 'plotly.js', version } },
      transient: {},
    },
    false,
  );
  loaderSent = true;
  return true;
}

/** The MIME bundle of one figure: Plotly JSON, HTML fallback, plain text. */
export function mimeBundle(fig: Figure, options: ShowOptions = {}): Record<string, unknown> {
  const json = figureJSON(fig, options);
  return { [PLOTLY_MIME]: json, 'text/html': figureHTML(json, options), 'text/plain': describeFigure(json) };
}

// ---------------------------------------------------------------------------------------------
// Where display messages go

let installedSink: DisplaySink | undefined;

/**
 * Send display messages to `sink` instead of the tslab kernel (tests, other front ends); undefined
 * restores. A new sink is a new page: plotly.js is sent again before its first figure.
 */
export function setDisplaySink(sink: DisplaySink | undefined): void {
  installedSink = sink;
  loaderSent = false;
}

type Exports = Record<string, unknown>;

/** A module of the running tslab kernel, found in Node's module cache (so it is the kernel's own copy). */
function tslabModule(file: 'jupyter' | 'public'): Exports | undefined {
  const cache = typeof require === 'function' ? require.cache : undefined;
  if (!cache) return undefined;
  const re = new RegExp(`[\\\\/]tslab[\\\\/]dist[\\\\/]${file}\\.js$`);
  for (const [path, mod] of Object.entries(cache)) if (re.test(path) && mod) return mod.exports as Exports;
  return undefined;
}

/** The current sink: the installed one, else the tslab kernel's, else undefined (plain Node). */
function currentSink(): DisplaySink | undefined {
  if (installedSink) return installedSink;
  const jupyter = tslabModule('jupyter');
  // tslab re-binds lastWriteDisplayData for every executed cell: read it at each call.
  if (jupyter && typeof jupyter.lastWriteDisplayData === 'function') {
    return (msg, update) => (jupyter.lastWriteDisplayData as DisplaySink)(msg, update);
  }
  const pub = tslabModule('public');
  const display = pub?.display as { html?: (s: string) => void } | undefined;
  if (display && typeof display.html === 'function') {
    // Public tslab API only: one MIME type per message, no updates — send the HTML fallback.
    return (msg) => display.html!(String(msg.data['text/html']));
  }
  return undefined;
}

/** True when figures go to a notebook (tslab kernel or an installed sink). */
export function inNotebook(): boolean {
  return currentSink() !== undefined;
}

function send(bundle: Record<string, unknown>, displayId: string | undefined, update: boolean): void {
  const sink = currentSink();
  if (!sink) {
    if (!update) console.log(String(bundle['text/plain']));
    return;
  }
  if (!update) loadPlotly();
  sink({ data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
}

/** Display a figure in the notebook (or print its description outside one). */
export function show(fig: Figure, options: ShowOptions = {}): void {
  send(mimeBundle(fig, options), undefined, false);
}

// ---------------------------------------------------------------------------------------------
// Live figures

export interface LiveOptions extends ShowOptions {
  /** At most one update per this many milliseconds (default 500); the latest figure always lands. */
  minIntervalMs?: number;
}

/**
 * A figure shown once and then replaced in place. `update` is throttled: updates inside the
 * interval are coalesced and the latest is sent when it ends (or at `flush`/`done`).
 */
export class LiveFigure {
  readonly displayId = newId();
  private fig: Figure;
  private pending = false;
  private lastSent = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly options: LiveOptions;

  constructor(fig: Figure, options: LiveOptions = {}) {
    this.fig = fig;
    this.options = options;
    send(mimeBundle(fig, options), this.displayId, false);
    this.lastSent = Date.now();
  }

  /** The figure last given to `update` (or the constructor). */
  get figure(): Figure {
    return this.fig;
  }

  update(fig: Figure): void {
    if (this.closed) throw new Error('ssm-plot: update() after done()');
    checkFigure(fig); // fail here, where the caller is, not later in a timer
    this.fig = fig;
    this.pending = true;
    const wait = (this.options.minIntervalMs ?? 500) - (Date.now() - this.lastSent);
    if (wait <= 0) return this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Send the latest figure now if it has not been sent. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.pending) return;
    this.pending = false;
    this.lastSent = Date.now();
    send(mimeBundle(this.fig, this.options), this.displayId, true);
  }

  /** Final update; later `update` calls throw. */
  done(): void {
    this.flush();
    this.closed = true;
  }
}

/** Display `fig` now and return a handle to replace it in place. */
export function liveFigure(fig: Figure, options: LiveOptions = {}): LiveFigure {
  return new LiveFigure(fig, options);
}
