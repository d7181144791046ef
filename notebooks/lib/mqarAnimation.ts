/**
 * Hidden-state animations for the associative-recall notebooks (05 MQAR, 06 INDUCTION HEADS).
 *
 *   hiddenStates(model, tokens)   h_t ∈ R^{d×N} after each prefix x_1 … x_t, read off the block itself
 *                                 (`forwardWithInternals(prefix).mixer.lastState`), so what is drawn is
 *                                 what the ordinary forward pass computes
 *   stateAnimation({...})         a Plotly figure with one frame per t: a heatmap of (part of) h_t, a strip
 *                                 above it (e.g. B_t or the decay e^{−Δ_t}) and a bar chart of the logits,
 *                                 with a slider over t and play/pause buttons
 *   showAnimation(fig)            display it (ssm-plot's `show`, which keeps Plotly's `frames`)
 */
import { show, type Figure, type Frame, type Trace } from 'ssm-plot';
import { tf, type MambaModel } from 'ssm-core';

/** h_t [d][N] for t = 1 … T: the mixer's state after reading the prefix x_1 … x_t (T forward passes). */
export function hiddenStates(model: MambaModel, tokens: number[]): number[][][] {
  return tokens.map((_, t) => {
    const r = model.forwardWithInternals([tokens.slice(0, t + 1)]);
    try {
      if (!r.mixer.lastState) throw new Error('the mixer returned no lastState');
      return (r.mixer.lastState.arraySync() as number[][][])[0];
    } finally {
      tf.dispose(r as unknown as tf.TensorContainer);
    }
  });
}

export type { Frame } from 'ssm-plot';

export type AnimatedFigure = Figure & { frames: Frame[] };

export interface StateAnimationOptions {
  /** One caption per frame (shown as the figure title). */
  captions: string[];
  /** Heatmap per frame [T][rows][cols]. */
  heat: number[][][];
  rowLabels: string[];
  colLabels: string[];
  heatTitle: string;
  /** Colour by h (default) or by log(1 + h) so that small entries stay visible beside large ones (h ≥ 0). */
  scale?: 'linear' | 'log1p';
  /** Strip above the heatmap, one row of length cols per frame. */
  strip: { values: number[][]; title: string; zmin: number; zmax: number; color?: string };
  /** Bar chart beside it, one vector per frame; `highlight[t]` is the index drawn in red (or −1). */
  bars: { values: number[][]; labels: string[]; title: string; highlight: number[] };
  /** Frame labels on the slider (default t = 1 … T). */
  stepLabels?: string[];
  height?: number;
}

const extent = (a: number[][][]) => {
  let lo = Infinity,
    hi = -Infinity;
  for (const m of a)
    for (const r of m)
      for (const v of r) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
  return [Math.min(lo, 0), Math.max(hi, 1e-9)];
};

/** Heatmap + strip + bars, one frame per step, with a slider and play/pause buttons. */
export function stateAnimation(o: StateAnimationOptions): AnimatedFigure {
  const log = o.scale === 'log1p';
  const color = log ? o.heat.map((m) => m.map((r) => r.map((v) => Math.log1p(Math.max(v, 0))))) : o.heat;
  const [zmin, zmax] = extent(color);
  const barMax = Math.max(...o.bars.values.flat(), 0);
  const barMin = Math.min(...o.bars.values.flat(), 0);
  const names = o.stepLabels ?? o.heat.map((_, t) => String(t + 1));
  const colors = (t: number) => o.bars.labels.map((_, i) => (i === o.bars.highlight[t] ? '#d62728' : '#7f7f7f'));
  const frameData = (t: number): Trace[] => [
    { z: color[t], text: o.heat[t] },
    { z: [o.strip.values[t]] },
    { y: o.bars.values[t], marker: { color: colors(t) } },
  ];
  const base: Trace[] = [
    {
      type: 'heatmap',
      x: o.colLabels,
      y: o.rowLabels,
      z: color[0],
      text: o.heat[0],
      zmin,
      zmax,
      colorscale: [
        [0, '#ffffff'],
        [1, '#08306b'],
      ],
      xgap: 1,
      ygap: 1,
      xaxis: 'x',
      yaxis: 'y',
      colorbar: { len: 0.75, y: 0.39, thickness: 12, title: { text: log ? 'log(1+h)' : 'h' } },
      name: 'h_t',
      hovertemplate: '%{y}, column %{x}: h = %{text:.3g}<extra></extra>',
    },
    {
      type: 'heatmap',
      x: o.colLabels,
      y: [''],
      z: [o.strip.values[0]],
      zmin: o.strip.zmin,
      zmax: o.strip.zmax,
      colorscale: [
        [0, '#ffffff'],
        [1, o.strip.color ?? '#e6550d'],
      ],
      showscale: false,
      xgap: 1,
      xaxis: 'x2',
      yaxis: 'y2',
      name: o.strip.title,
      hovertemplate: 'column %{x}: %{z:.3g}<extra></extra>',
    },
    {
      type: 'bar',
      x: o.bars.labels,
      y: o.bars.values[0],
      marker: { color: colors(0) },
      xaxis: 'x3',
      yaxis: 'y3',
      name: o.bars.title,
    },
  ];
  const frames: Frame[] = names.map((name, t) => ({
    name,
    data: frameData(t),
    traces: [0, 1, 2],
    layout: { title: { text: o.captions[t] } },
  }));
  const step = (name: string) => ({
    label: name,
    method: 'animate',
    args: [[name], { mode: 'immediate', frame: { duration: 0, redraw: true }, transition: { duration: 0 } }],
  });
  return {
    data: base,
    frames,
    layout: {
      height: o.height ?? 520,
      title: { text: o.captions[0], font: { size: 14 } },
      showlegend: false,
      margin: { l: 80, r: 24, t: 70, b: 110 },
      xaxis: { domain: [0, 0.58], title: { text: o.heatTitle }, type: 'category' },
      yaxis: { domain: [0, 0.78], autorange: 'reversed', type: 'category' },
      xaxis2: { domain: [0, 0.58], matches: 'x', showticklabels: false, type: 'category' },
      yaxis2: { domain: [0.83, 0.93], showticklabels: false, title: { text: o.strip.title, font: { size: 11 } } },
      xaxis3: { domain: [0.72, 1], title: { text: o.bars.title }, type: 'category' },
      yaxis3: { domain: [0, 0.78], range: [Math.min(barMin * 1.1, 0), barMax * 1.1 + 1e-9], anchor: 'x3' },
      sliders: [{ active: 0, pad: { t: 50 }, currentvalue: { prefix: 't = ' }, steps: names.map(step) }],
      updatemenus: [
        {
          type: 'buttons',
          showactive: false,
          direction: 'left',
          x: 0,
          y: -0.12,
          xanchor: 'right',
          yanchor: 'top',
          pad: { t: 50, r: 10 },
          buttons: [
            {
              label: '▶',
              method: 'animate',
              args: [null, { fromcurrent: true, frame: { duration: 700, redraw: true }, transition: { duration: 0 } }],
            },
            {
              label: '❚❚',
              method: 'animate',
              args: [[null], { mode: 'immediate', frame: { duration: 0, redraw: false }, transition: { duration: 0 } }],
            },
          ],
        },
      ],
    },
  };
}

/** Display an animated figure (slider and play buttons work in JupyterLab and on the site). */
export function showAnimation(fig: AnimatedFigure): void {
  show(fig);
}
