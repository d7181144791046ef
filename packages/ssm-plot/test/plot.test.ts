import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  describeFigure,
  figureHTML,
  figureJSON,
  liveFigure,
  mimeBundle,
  PLOTLY_MIME,
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
    expect(html).toContain('cdn.plot.ly/plotly-2.35.2.min.js');
    expect(describeFigure(figureJSON(fig))).toBe('[Plotly figure] Δ over time — 1 trace: S6 Δ_t');
  });
});

describe('display', () => {
  it('sends one display_data message with the whole bundle', () => {
    const got: [DisplayMessage, boolean][] = [];
    setDisplaySink((m, u) => got.push([m, u]));
    show(fig);
    expect(got).toHaveLength(1);
    expect(got[0][1]).toBe(false);
    expect(got[0][0].data[PLOTLY_MIME]).toEqual(figureJSON(fig));
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
        [keys, false],
        [keys, false],
        [keys, true],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
