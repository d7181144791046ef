/**
 * ssm-plot — Plotly figures for the tslab notebooks.
 *
 * A figure is a plain Plotly spec `{ data, layout, config }`. `show(fig)` sends it to the notebook
 * as ONE display message carrying a MIME bundle:
 *
 *   application/vnd.plotly.v1+json  the spec itself — JupyterLab renders it interactively (plotly's
 *                                   renderer extension), and the explainer site renders the same
 *                                   JSON taken from the executed notebook
 *   text/html                       fallback: a div plus a script that draws it with plotly.js
 *                                   (window.Plotly, RequireJS, or the pinned CDN build), for
 *                                   front ends without the Plotly renderer
 *   text/plain                      a one-line description (title and trace names)
 *
 * `liveFigure(fig)` displays a figure and then replaces it in place (Jupyter update_display_data),
 * throttled, e.g. from a training callback. Outside a tslab kernel (plain Node, tests) `show`
 * prints the text line instead, unless a sink was installed with `setDisplaySink`.
 */

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';
/** plotly.js build the HTML fallback loads when the page has no Plotly yet. */
export const PLOTLY_JS_URL = 'https://cdn.plot.ly/plotly-2.35.2.min.js';

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
  /** plotly.js URL for the HTML fallback (default {@link PLOTLY_JS_URL}). */
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
 * that draws with window.Plotly, else RequireJS (classic Notebook), else the CDN build.
 */
export function figureHTML(json: FigureJSON, options: ShowOptions = {}): string {
  const id = `ssm-plot-${newId()}`;
  const url = options.plotlyUrl ?? PLOTLY_JS_URL;
  const height = typeof json.layout.height === 'number' ? json.layout.height : DEFAULT_LAYOUT.height;
  return [
    `<div id="${id}" class="ssm-plot" style="width:100%;min-height:${height}px">`,
    `<p style="font:13px sans-serif;color:#666">${escapeHtml(describeFigure(json))} (interactive with JavaScript and plotly.js)</p></div>`,
    '<script type="text/javascript">',
    '(function () {',
    `  var fig = ${scriptJSON(json)}, url = ${scriptJSON(url)};`,
    `  var el = document.getElementById(${scriptJSON(id)});`,
    '  function draw(P) { if (!el || !P) return; el.innerHTML = ""; P.newPlot(el, fig); }', // the figure object form keeps frames
    '  if (window.Plotly) return draw(window.Plotly);',
    '  if (typeof window.requirejs === "function") {',
    '    window.requirejs.config({ paths: { plotly: url.replace(/\\.js$/, "") } });',
    '    return window.requirejs(["plotly"], function (P) { draw(P || window.Plotly); }); // some builds set window.Plotly instead of an AMD value',
    '  }',
    '  var s = document.createElement("script"); s.src = url; s.onload = function () { draw(window.Plotly); };',
    '  document.head.appendChild(s);',
    '})();',
    '</script>',
  ].join('\n');
}

/** The MIME bundle of one figure: Plotly JSON, HTML fallback, plain text. */
export function mimeBundle(fig: Figure, options: ShowOptions = {}): Record<string, unknown> {
  const json = figureJSON(fig, options);
  return { [PLOTLY_MIME]: json, 'text/html': figureHTML(json, options), 'text/plain': describeFigure(json) };
}

// ---------------------------------------------------------------------------------------------
// Where display messages go

let installedSink: DisplaySink | undefined;

/** Send display messages to `sink` instead of the tslab kernel (tests, other front ends); undefined restores. */
export function setDisplaySink(sink: DisplaySink | undefined): void {
  installedSink = sink;
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
