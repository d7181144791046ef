// Plotly layouts for phones (website/src/components/responsiveLayout.ts): side-by-side panels are stacked in
// reading order without overlapping, the title becomes a safe HTML caption, restyle buttons a dropdown,
// animation controls stay; wide screens get the layout unchanged.
import { describe, expect, it } from 'vitest';
import {
  NARROW_WIDTH,
  legendHeight,
  responsiveLayout,
  richTextToHtml,
  type Layout,
} from '../../website/src/components/responsiveLayout.js';

const scatter = (x: string, y: string, name = `${x}/${y}`) => ({
  type: 'scatter',
  x: [0, 1],
  y: [0, 1],
  xaxis: x,
  yaxis: y,
  name,
});
const dom = (l: Layout, key: string) => (l[key] as { domain: [number, number] }).domain;

describe('responsiveLayout', () => {
  it('leaves a figure alone on a wide screen', () => {
    const layout = { height: 400, title: { text: 'T' }, grid: { rows: 1, columns: 3, pattern: 'independent' } };
    const r = responsiveLayout(layout, [scatter('x', 'y')], NARROW_WIDTH + 100);
    expect(r.layout).toBe(layout);
    expect(r.height).toBe(400);
    expect(r.caption).toBeUndefined();
  });

  it('a 2 × 3 grid becomes 6 rows × 1 column, in reading order, and taller', () => {
    const traces = [1, 2, 3, 4, 5, 6].map((i) => scatter(i === 1 ? 'x' : `x${i}`, i === 1 ? 'y' : `y${i}`));
    const r = responsiveLayout(
      { height: 560, grid: { rows: 2, columns: 3, pattern: 'independent', roworder: 'top to bottom' } },
      traces,
      390,
    );
    expect(r.layout.grid).toMatchObject({ rows: 6, columns: 1, roworder: 'top to bottom' });
    expect(r.height).toBeGreaterThanOrEqual(6 * 200);
  });

  it('explicit side-by-side domains are stacked top to bottom, keeping strips inside a column', () => {
    // left column: a main panel and a strip above it (x2/y2 share x's column); right column: another panel
    const layout = {
      height: 520,
      xaxis: { domain: [0, 0.58] },
      yaxis: { domain: [0, 0.78] },
      xaxis2: { domain: [0, 0.58] },
      yaxis2: { domain: [0.83, 0.93] },
      xaxis3: { domain: [0.72, 1] },
      yaxis3: { anchor: 'x3', domain: [0, 0.78] },
    };
    const r = responsiveLayout(layout, [scatter('x', 'y'), scatter('x2', 'y2'), scatter('x3', 'y3')], 390);
    for (const x of ['xaxis', 'xaxis2', 'xaxis3']) expect(dom(r.layout, x)).toEqual([0, 1]);
    const [y, y2, y3] = ['yaxis', 'yaxis2', 'yaxis3'].map((k) => dom(r.layout, k));
    // left column on top, the strip still above its panel, the right column below both, no overlaps
    expect(y2[0]).toBeGreaterThan(y[1]);
    expect(y[0]).toBeGreaterThan(y3[1]);
    for (const d of [y, y2, y3]) {
      expect(d[0]).toBeGreaterThanOrEqual(0);
      expect(d[1]).toBeLessThanOrEqual(1);
      expect(d[1]).toBeGreaterThan(d[0]);
    }
    expect(r.layout.yaxis3).toMatchObject({ anchor: 'x3' });
  });

  it('an overlaying axis follows its base panel (it is not a panel of its own)', () => {
    const layout = {
      xaxis: { domain: [0, 0.4] },
      yaxis3: { overlaying: 'y', side: 'right' },
      xaxis2: { domain: [0.58, 1], anchor: 'y2' },
      yaxis2: { anchor: 'x2' },
    };
    const r = responsiveLayout(layout, [scatter('x', 'y3'), scatter('x', 'y'), scatter('x2', 'y2')], 390);
    expect(r.layout.yaxis3).toEqual(layout.yaxis3);
    expect(dom(r.layout, 'yaxis')[0]).toBeGreaterThan(dom(r.layout, 'yaxis2')[1]);
  });

  it('the title becomes an HTML caption; the legend goes horizontal with room below the plot', () => {
    const traces = Array.from({ length: 8 }, (_, i) => scatter('x', 'y', `series number ${i}`));
    const r = responsiveLayout({ title: { text: 'Decay e<sup>−λ</sup> of h<sub>t</sub>' } }, traces, 390);
    expect(r.caption).toBe('Decay e<sup>−λ</sup> of h<sub>t</sub>');
    expect(r.layout.title).toEqual({ text: '' });
    expect(r.layout.legend).toMatchObject({ orientation: 'h', yanchor: 'top' });
    const margin = r.layout.margin as { b: number };
    expect(margin.b).toBeGreaterThanOrEqual(legendHeight(Array(8).fill(16), 390));
  });

  it('restyle buttons become a dropdown above the plot; play/pause buttons and a title the frames change stay', () => {
    const restyle = {
      updatemenus: [
        {
          type: 'buttons',
          buttons: [
            { method: 'relayout', args: [{}] },
            { method: 'relayout', args: [{}] },
          ],
        },
      ],
    };
    const r1 = responsiveLayout(restyle, [scatter('x', 'y')], 390);
    expect((r1.layout.updatemenus as Layout[])[0]).toMatchObject({ type: 'dropdown', y: 1, yanchor: 'bottom' });
    const animated = {
      title: { text: 't = 1' },
      margin: { l: 80, b: 110 },
      updatemenus: [{ type: 'buttons', x: 0, xanchor: 'right', buttons: [{ method: 'animate', args: [null] }] }],
      sliders: [{ steps: [] }],
    };
    const r2 = responsiveLayout(animated, [scatter('x', 'y')], 390, [
      { name: '1', layout: { title: { text: 't = 2' } } },
    ]);
    expect(r2.layout.updatemenus).toEqual(animated.updatemenus);
    expect(r2.caption).toBeUndefined();
    expect(r2.layout.title).toMatchObject({ text: 't = 1' });
    expect(r2.layout.margin).toMatchObject({ l: 80, b: 110 });
  });

  it('captions keep Plotly rich-text tags and escape everything else', () => {
    expect(richTextToHtml('a<sub>t</sub><br>b<SUP>2</SUP> <i>x</i>')).toBe('a<sub>t</sub><br>b<sup>2</sup> <i>x</i>');
    expect(richTextToHtml('<img src=x onerror=alert(1)> t < j')).toBe('&lt;img src=x onerror=alert(1)&gt; t &lt; j');
    expect(richTextToHtml('<span style="color:red">r</span>')).toBe('&lt;span style="color:red"&gt;r&lt;/span&gt;');
  });
});
