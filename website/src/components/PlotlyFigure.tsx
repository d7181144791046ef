/**
 * An interactive Plotly chart from a notebook's `application/vnd.plotly.v1+json` output, drawn with
 * react-plotly.js's factory and plotly.js-dist-min. Plotly needs `window`, so it renders only in the
 * browser (BrowserOnly); the server-rendered HTML shows the figure's text description instead.
 */
import React from 'react';
import BrowserOnly from '@docusaurus/BrowserOnly';
import PlotlyClient, { type PlotlySpec } from './PlotlyClient';

export interface PlotlyFigureProps {
  figure: PlotlySpec;
  /** Text shown before the chart loads (and without JavaScript). */
  alt?: string;
}

export default function PlotlyFigure({ figure, alt }: PlotlyFigureProps): React.ReactElement {
  const height = Number(figure.layout?.height) || 450;
  const fallback = (
    <div className="nb-plotly__fallback" style={{ minHeight: height }}>
      {alt ?? 'Interactive figure'}
    </div>
  );
  return (
    <figure className="nb-plotly" aria-label={alt}>
      <BrowserOnly fallback={fallback}>{() => <PlotlyClient figure={figure} fallback={fallback} />}</BrowserOnly>
    </figure>
  );
}
