/**
 * Dependency rules (dependency-cruiser), checked in CI by `npm run lint:deps`:
 * - no cycle between modules, and none between folders;
 * - ssm-core's layers only import downward (a lower layer never imports a higher one);
 * - ssm-core holds no Node-only orchestration (child processes, worker threads, CLI), except the worker threads of
 *   its WebAssembly scan kernel, in one module that the browser entry never reaches;
 * - ssm-lab and the notebooks reach ssm-core through its package entry, never its sources.
 */
const core = 'packages/ssm-core/src/';
/** The one ssm-core module that may start worker threads: the WebAssembly scan's pool (Node only). */
const scanThreads = `^${core}ops/kernels/cpu/scanThreads\\.ts$`;
/** ssm-core's layers, lowest first; an entry is a folder or a top-level file (without .ts). */
const LAYERS = [
  ['errors', 'validate', 'math', 'random'],
  ['io'],
  ['policy', 'gpu', 'backend'],
  ['ops'],
  ['nn'],
  ['mixers'],
  ['models'],
  ['tasks'],
  ['train'],
  ['theory'],
  ['constructions'],
  ['index', 'browser'],
];
const pathOf = (entry) => `^${core}${entry}(/|\\.ts$)`;
const upward = LAYERS.flatMap((layer, i) =>
  layer.map((entry) => ({
    name: `layer-${entry}`,
    comment: `${entry} is in layer ${i}; it may import only from layers 0…${i} (${LAYERS.slice(0, i + 1)
      .flat()
      .join(', ')})`,
    severity: 'error',
    from: { path: pathOf(entry) },
    to: {
      path: `^${core}(${LAYERS.slice(i + 1)
        .flat()
        .join('|')})(/|\\.ts$)`,
    },
  })),
);

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'a module cycle', from: {}, to: { circular: true } },
    {
      name: 'no-folder-cycles',
      severity: 'error',
      comment: 'a cycle between folders',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    ...upward,
    {
      name: 'core-no-orchestration',
      severity: 'error',
      comment:
        'ssm-core is the library a user copies: no child processes, worker pools or CLIs (those live in ssm-lab)',
      from: { path: `^${core}`, pathNot: scanThreads },
      to: { path: '^(node:)?(child_process|worker_threads|cluster|readline)$', dependencyTypes: ['core'] },
    },
    {
      name: 'core-scan-threads-only-worker-threads',
      severity: 'error',
      comment: "the scan kernel's thread pool may use worker_threads, nothing else of the Node-only orchestration",
      from: { path: scanThreads },
      to: { path: '^(node:)?(child_process|cluster|readline)$', dependencyTypes: ['core'] },
    },
    {
      name: 'core-browser-without-threads',
      severity: 'error',
      comment: "the browser entry (ssm-core/browser) never reaches the scan's worker-thread pool (Node only)",
      from: { path: `^${core}browser\\.ts$` },
      to: { path: scanThreads, reachable: true },
    },
    {
      name: 'core-through-its-entry',
      severity: 'error',
      comment: 'outside ssm-core, import the package `ssm-core`, not its sources',
      from: { path: '^(packages/(?!ssm-core/)|notebooks/|scripts/|website/)' },
      to: { path: '^packages/ssm-core/src/' },
    },
    {
      name: 'core-in-a-layer',
      severity: 'error',
      comment: 'every ssm-core module belongs to a layer of LAYERS',
      from: { path: `^${core}`, pathNot: `^${core}(${LAYERS.flat().join('|')})(/|\\.ts$)` },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        "an import that resolves to nothing; the workspace packages resolve only once built (their 'dist'), so lint runs before a build too",
      from: {},
      to: { couldNotResolve: true, pathNot: '^(ssm-core|ssm-lab|ssm-plot)(/|$)' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', 'dist'] },
    exclude: { path: ['(^|/)dist/', 'node_modules', '^build/', '\\.docusaurus', '\\.ipynb_checkpoints'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
