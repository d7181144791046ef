/**
 * Load plotly.js-dist-min once, from the site's own static files (website/static/vendor/plotly.min.js, copied
 * from node_modules by scripts/site/prepare.ts). It is a prebuilt minified bundle: serving it as-is instead of
 * re-bundling it through webpack + terser saves about a minute of CPU per cold build, and pages without
 * figures never download it.
 */
export type PlotlyStatic = Record<string, unknown>;

let pending: Promise<PlotlyStatic> | undefined;

export function loadPlotly(src: string): Promise<PlotlyStatic> {
  const w = window as unknown as { Plotly?: PlotlyStatic };
  if (w.Plotly) return Promise.resolve(w.Plotly);
  pending ??= new Promise<PlotlyStatic>((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.async = true;
    s.onload = () =>
      w.Plotly ? resolve(w.Plotly) : reject(new Error(`${src} loaded but did not define window.Plotly`));
    s.onerror = () => {
      pending = undefined;
      reject(new Error(`could not load ${src}`));
    };
    document.head.appendChild(s);
  });
  return pending;
}
