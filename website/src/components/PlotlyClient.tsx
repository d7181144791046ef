/** Browser-only half of PlotlyFigure: react-plotly.js's factory bound to plotly.js-dist-min. */
import React, { useEffect, useMemo, useRef, useState } from 'react';
import createPlotlyComponent from 'react-plotly.js/factory';
import useBaseUrl from '@docusaurus/useBaseUrl';
import { useColorMode } from '@docusaurus/theme-common';
import { loadPlotly } from './loadPlotly';
import { NARROW_WIDTH, responsiveLayout } from './responsiveLayout';

export interface PlotlySpec {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
  frames?: Record<string, unknown>[];
}

type PlotComponent = React.ComponentType<Record<string, unknown>>;
let Plot: PlotComponent | undefined;

/** plotly.js 3 dropped string titles; older specs (and plotly.py habits) still use them. */
function normaliseTitles(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(normaliseTitles);
  if (!o || typeof o !== 'object') return o;
  return Object.fromEntries(
    Object.entries(o as Record<string, unknown>).map(([k, v]) => [
      k,
      k === 'title' && typeof v === 'string' ? { text: v } : normaliseTitles(v),
    ]),
  );
}

export default function PlotlyClient({
  figure,
  fallback,
}: {
  figure: PlotlySpec;
  fallback?: React.ReactNode;
}): React.ReactElement {
  const src = useBaseUrl('/vendor/plotly.min.js');
  const [ready, setReady] = useState(Boolean(Plot));
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (Plot) return;
    let live = true;
    loadPlotly(src).then(
      (Plotly) => {
        Plot ??= createPlotlyComponent(Plotly) as PlotComponent;
        if (live) setReady(true);
      },
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [src]);
  // the width the chart is drawn at: narrow containers get a stacked layout (./responsiveLayout.ts)
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(() => (typeof window === 'undefined' ? 0 : window.innerWidth));
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(([e]) => setWidth(Math.round(e.contentRect.width)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  // the layout changes with the width only below NARROW_WIDTH (legend rows); 20 px steps are fine enough
  const widthKey = width < NARROW_WIDTH ? Math.round(width / 20) * 20 : NARROW_WIDTH;
  const { colorMode } = useColorMode();
  const dark = colorMode === 'dark';
  const data = useMemo(() => normaliseTitles(figure.data) as Record<string, unknown>[], [figure]);
  const { layout, height, caption } = useMemo(() => {
    const base = normaliseTitles(figure.layout ?? {}) as Record<string, unknown>;
    const r = responsiveLayout(base, data, widthKey, figure.frames);
    const l = r.layout;
    const themed = dark
      ? {
          paper_bgcolor: 'rgba(0,0,0,0)',
          plot_bgcolor: 'rgba(255,255,255,0.04)',
          font: { color: '#dadde1', ...(l.font as object) },
        }
      : {};
    return { layout: { ...l, ...themed, autosize: true }, height: r.height, caption: r.caption };
  }, [figure, data, dark, widthKey]);
  let body: React.ReactNode;
  if (error) body = <div className="nb-plotly__fallback alert alert--danger">{error}</div>;
  else if (!ready || !Plot)
    body = fallback ?? (
      <div className="nb-plotly__fallback" style={{ minHeight: height }}>
        Loading figure…
      </div>
    );
  else
    body = (
      <>
        {/* the caption is Plotly rich text reduced to <sub>, <sup>, <b>, <i>, <em>, <br>, everything else escaped */}
        {caption ? <div className="nb-plotly__title" dangerouslySetInnerHTML={{ __html: caption }} /> : null}
        <Plot
          data={data}
          layout={layout}
          frames={figure.frames}
          config={{ responsive: true, displaylogo: false, ...figure.config }}
          useResizeHandler
          style={{ width: '100%', height }}
        />
      </>
    );
  return (
    <div ref={box} className="nb-plotly__box">
      {body}
    </div>
  );
}
