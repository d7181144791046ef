/**
 * Plotly layouts for narrow screens. A notebook figure is laid out for a desktop column (≈ 800 px); on a phone
 * its side-by-side panels are squeezed to a few dozen pixels each, long titles are clipped and a legend on
 * the right eats half the width. `responsiveLayout` rewrites a figure's layout for the width it is drawn at:
 *   - panels side by side (a `grid` with several columns, or x axes with explicit domains) are stacked,
 *     one panel per row, in reading order (left to right, then top to bottom), and the figure grows taller;
 *   - the title leaves the chart and becomes an HTML caption above it (`caption`), which wraps to any width;
 *   - the legend goes horizontal, below the title;
 *   - margins shrink.
 * Wide screens get the layout unchanged. Pure function of (layout, traces, width): unit-tested in
 * tests/site/responsive.test.ts.
 */

export type Layout = Record<string, unknown>;
export type Trace = Record<string, unknown>;

/** Below this width (px) a figure is laid out for a phone. */
export const NARROW_WIDTH = 640;
/** Height of one stacked panel (px). */
export const PANEL_HEIGHT = 280;
const LEGEND_FONT_SIZE = 10;
/** Room below a plot for its tick labels and axis title (px). */
const AXIS_PX = 64;
/** Room above a plot for a row of update-menu buttons (px). */
const MENU_PX = 40;
/** Approximate legend entry width: symbol and gaps, plus characters at the legend font size (px). */
const LEGEND_ENTRY_PX = 46;
const LEGEND_CHAR_PX = 5.6;
const LEGEND_ROW_PX = 19;

/** Height (px) of a horizontal legend with entries of these text lengths, wrapped into rows of `width` px. */
export function legendHeight(lengths: readonly number[], width: number): number {
  let rows = 1;
  let x = 0;
  for (const n of lengths) {
    const w = LEGEND_ENTRY_PX + n * LEGEND_CHAR_PX;
    if (x > 0 && x + w > width - 8) {
      rows++;
      x = 0;
    }
    x += w;
  }
  return rows * LEGEND_ROW_PX + 8;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** `v` if it is a plain object, else an empty one. */
const obj = (v: unknown): Record<string, unknown> => (isObj(v) ? v : {});

/** `x`, `x2`, … → `xaxis`, `xaxis2`, … */
export const axisKey = (ref: string): string => `${ref[0]}axis${ref.slice(1)}`;
/** `xaxis`, `xaxis2` → `x`, `x2`. */
const axisRef = (key: string): string => `${key[0]}${key.slice(5)}`;

/** Visible characters of a Plotly rich-text string (tags dropped, entities counted once). */
export function visibleLength(s: string): number {
  return s.replace(/<[^>]*>/g, '').replace(/&[#\w]+;/g, '_').length;
}

const RICH_TAGS = /^<\/?(sub|sup|b|i|em|br)\s*\/?>$/i;

/**
 * Plotly rich text (`<sub>`, `<sup>`, `<b>`, `<i>`, `<em>`, `<br>`, entities) as HTML: those tags are kept,
 * every other `<` and `>` is escaped, so the result is safe to set as innerHTML.
 */
export function richTextToHtml(s: string): string {
  return s
    .split(/(<[^<>]*>)/)
    .map((part) =>
      RICH_TAGS.test(part)
        ? part.toLowerCase().replace(/\s*\/?>$/, '>')
        : part.replace(/</g, '&lt;').replace(/>/g, '&gt;'),
    )
    .join('');
}

interface Panel {
  x: string; // layout key, e.g. xaxis2
  y: string; // layout key of its (non-overlaying) y axis
}

/** The panels the traces draw into: distinct (x axis, base y axis) pairs, in first-use order. */
function panels(layout: Layout, traces: readonly Trace[]): Panel[] {
  const seen = new Map<string, Panel>();
  for (const t of traces) {
    if (typeof t.type === 'string' && /^(pie|sunburst|treemap|sankey|table|indicator|parcoords|parcats)$/.test(t.type))
      continue;
    const x = axisKey(typeof t.xaxis === 'string' ? t.xaxis : 'x');
    let y = axisKey(typeof t.yaxis === 'string' ? t.yaxis : 'y');
    const ya = layout[y];
    if (isObj(ya) && typeof ya.overlaying === 'string') y = axisKey(ya.overlaying);
    const k = `${x}/${y}`;
    if (!seen.has(k)) seen.set(k, { x, y });
  }
  return [...seen.values()];
}

const domainOf = (axis: unknown): [number, number] | undefined =>
  isObj(axis) && Array.isArray(axis.domain) && axis.domain.length === 2
    ? [Number(axis.domain[0]), Number(axis.domain[1])]
    : undefined;

/** Vertical domains, top to bottom, for `n` stacked panels with `gapPx` between them in a plot of `plotPx`. */
function rowDomains(n: number, plotPx: number, gapPx: number): [number, number][] {
  const gap = Math.min(0.3, gapPx / plotPx);
  const h = (1 - gap * (n - 1)) / n;
  return Array.from({ length: n }, (_, i) => {
    const top = 1 - i * (h + gap);
    return [Math.max(0, top - h), Math.min(1, top)] as [number, number];
  });
}

/** The layout to draw `traces` with at `width` px, and the figure's height. */
export function responsiveLayout(
  layout: Layout,
  traces: readonly Trace[],
  width: number,
  frames: readonly Record<string, unknown>[] = [],
): { layout: Layout; height: number; caption?: string } {
  const baseHeight = Number(layout.height) || 450;
  if (!(width > 0) || width >= NARROW_WIDTH) return { layout, height: baseHeight };
  const out: Layout = { ...layout };
  let rows = 1;

  // 1. stack side-by-side panels
  const grid = isObj(layout.grid) ? layout.grid : undefined;
  const gridCols = Number(grid?.columns) || 1;
  const gridRows = Number(grid?.rows) || 1;
  if (grid && gridCols > 1 && (grid.pattern ?? 'coupled') === 'independent' && !Array.isArray(grid.subplots)) {
    rows = gridRows * gridCols;
    // cells are filled in row-major order, so one column of rows × columns cells keeps the reading order
    out.grid = { ...grid, rows, columns: 1, roworder: 'top to bottom', ygap: 0.3 / rows + 0.08 };
  } else if (!grid) {
    const ps = panels(layout, traces);
    const byColumn = ps.map((p) => ({ p, d: domainOf(layout[p.x]) ?? [0, 1] })).filter(({ d }) => d[1] - d[0] < 0.95);
    const starts = [...new Set(byColumn.map(({ d }) => d[0]))].sort((a, b) => a - b);
    if (starts.length > 1 && byColumn.length === ps.length) {
      rows = starts.length;
      const domains = rowDomains(rows, rows * PANEL_HEIGHT, 90);
      for (const { p, d } of byColumn) {
        // a column becomes a row; panels stacked inside a column keep their share of its height
        const [lo, hi] = domains[starts.indexOf(d[0])];
        const [y0, y1] = domainOf(layout[p.y]) ?? [0, 1];
        const yAxis = {
          ...obj(layout[p.y]),
          domain: [lo + y0 * (hi - lo), lo + y1 * (hi - lo)],
        };
        out[p.x] = { ...obj(layout[p.x]), domain: [0, 1], anchor: axisRef(p.y) };
        out[p.y] = obj(layout[p.y]).anchor === 'free' ? yAxis : { ...yAxis, anchor: axisRef(p.x) };
      }
    }
  }

  const margin = isObj(layout.margin) ? layout.margin : {};
  const menus = Array.isArray(layout.updatemenus) ? (layout.updatemenus as unknown[]) : [];
  // menus that restyle or relayout (e.g. linear/log buttons) become one dropdown above the plot; animation
  // controls (play/pause, next to a slider) stay where the figure put them
  const restyling = (m: unknown) =>
    isObj(m) &&
    Array.isArray(m.buttons) &&
    m.buttons.every((b) => isObj(b) && ['relayout', 'restyle', 'update'].includes(String(b.method)));
  const movedMenus = menus.length > 0 && menus.every(restyling);
  const keepsPlace = menus.length > 0 && !movedMenus;
  const animatedTitle = frames.some((f) => isObj(f.layout) && 'title' in f.layout);

  // 2. title: drawn by the page above the chart (HTML wraps it to any width), not by Plotly; a title the
  // animation frames rewrite stays in the chart, smaller
  const title = isObj(layout.title) ? layout.title : typeof layout.title === 'string' ? { text: layout.title } : {};
  let caption: string | undefined;
  if (typeof title.text === 'string' && title.text.trim()) {
    if (animatedTitle) {
      const font = isObj(title.font) ? title.font : {};
      out.title = {
        ...title,
        font: { ...font, size: Math.min(Number(font.size) || 13, 13) },
        x: 0.02,
        xanchor: 'left',
      };
    } else {
      caption = richTextToHtml(title.text);
      out.title = { text: '' };
    }
  }

  // 3. legend: horizontal rows at the bottom of the figure, with room kept for them
  const legendItems = traces.filter((t) => t.showlegend !== false && typeof t.name === 'string' && t.name);
  let legendPx = 0;
  if (layout.showlegend !== false && legendItems.length > 1) {
    const legend = isObj(layout.legend) ? layout.legend : {};
    out.legend = {
      ...legend,
      orientation: 'h',
      x: 0,
      xanchor: 'left',
      yanchor: 'top',
      font: { size: LEGEND_FONT_SIZE },
    };
    legendPx = legendHeight(
      legendItems.map((t) => visibleLength(String(t.name))),
      width,
    );
  }

  // 4. margins: narrow sides (unless controls sit in them), room on top for a title or menu, at the bottom
  // for tick labels, axis title, slider and legend
  const num = (v: unknown, dflt: number) => (Number.isFinite(Number(v)) && v !== undefined ? Number(v) : dflt);
  const top = movedMenus ? MENU_PX + 8 : animatedTitle ? Math.max(num(margin.t, 40), 40) : 16;
  const bottom =
    (keepsPlace || Array.isArray(layout.sliders) ? Math.max(num(margin.b, 80), AXIS_PX) : AXIS_PX) + legendPx;
  out.margin = {
    ...margin,
    l: keepsPlace ? num(margin.l, 80) : Math.min(num(margin.l, 60), 56),
    r: 12,
    t: top,
    b: bottom,
  };
  if (movedMenus)
    out.updatemenus = menus.map((m) => ({
      ...(m as Layout),
      type: 'dropdown',
      direction: 'down',
      x: 0,
      xanchor: 'left',
      y: 1,
      yanchor: 'bottom',
      pad: { b: 6 },
    }));

  const height = Math.max(baseHeight, rows * PANEL_HEIGHT + top + bottom);
  out.height = height;
  // the legend starts below the bottom panel's tick labels and axis title (y is in plot-area fractions)
  if (isObj(out.legend)) out.legend = { ...out.legend, y: -(bottom - legendPx) / (height - top - bottom) };
  return { layout: out, height, caption };
}
