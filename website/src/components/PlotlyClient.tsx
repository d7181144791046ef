/** Browser-only half of PlotlyFigure: react-plotly.js's factory bound to plotly.js-dist-min. */
import React, { useEffect, useMemo, useState } from 'react';
import createPlotlyComponent from 'react-plotly.js/factory';
import useBaseUrl from '@docusaurus/useBaseUrl';
import { useColorMode } from '@docusaurus/theme-common';
import { loadPlotly } from './loadPlotly';

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
  const { colorMode } = useColorMode();
  const dark = colorMode === 'dark';
  const layout = useMemo(() => {
    const l = normaliseTitles(figure.layout ?? {}) as Record<string, unknown>;
    const themed = dark
      ? {
          paper_bgcolor: 'rgba(0,0,0,0)',
          plot_bgcolor: 'rgba(255,255,255,0.04)',
          font: { color: '#dadde1', ...(l.font as object) },
        }
      : {};
    return { ...l, ...themed, autosize: true };
  }, [figure, dark]);
  const data = useMemo(() => normaliseTitles(figure.data) as Record<string, unknown>[], [figure]);
  const height = Number(figure.layout?.height) || 450;
  if (error) return <div className="nb-plotly__fallback alert alert--danger">{error}</div>;
  if (!ready || !Plot)
    return (
      <>
        {fallback ?? (
          <div className="nb-plotly__fallback" style={{ minHeight: height }}>
            Loading figure…
          </div>
        )}
      </>
    );
  return (
    <Plot
      data={data}
      layout={layout}
      frames={figure.frames}
      config={{ responsive: true, displaylogo: false, ...figure.config }}
      useResizeHandler
      style={{ width: '100%', height }}
    />
  );
}
