// Docusaurus configuration for the Selectivity Lab explainer. The site itself (pages generated
// from the executed notebooks, KaTeX, Plotly, the in-browser playground) is not built yet;
// this file fixes where its sources live so the pieces land in one place.
const config = {
  title: 'Selectivity Lab',
  tagline: 'Understanding Input Selectivity in Mamba — runnable, checkable, explorable',
  url: 'http://localhost',
  baseUrl: '/',
  onBrokenLinks: 'throw',
  presets: [['classic', { docs: { path: 'website/docs', routeBasePath: '/' }, blog: false }]],
};

export default config;
