/**
 * Shared by `npm run lab` and `npm run notebooks`: the repo's tslab kernel spec and finding a
 * Python that has the Jupyter pieces we need.
 *
 * The kernel spec lives in build/jupyter/share/jupyter/kernels/tslab (never the user's global
 * Jupyter directory); callers put build/jupyter/share/jupyter first on JUPYTER_PATH. It starts
 * this workspace's tslab (node_modules/tslab) with the Node that runs npm, so notebooks resolve
 * `ssm-core` and `ssm-plot` from this repo's node_modules.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const NOTEBOOK_DIR = join(ROOT, 'notebooks');
export const JUPYTER_PREFIX = join(ROOT, 'build', 'jupyter');
export const KERNEL_NAME = 'tslab';

/** Write the tslab kernel spec under build/jupyter; returns the JUPYTER_PATH entry to use. */
export function registerKernel(): { jupyterPath: string; specFile: string } {
  const tslab = join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab');
  if (!existsSync(tslab))
    throw new Error(`tslab is not installed (${tslab} missing): run \`npm install\` at the repo root`);
  const jupyterPath = join(JUPYTER_PREFIX, 'share', 'jupyter');
  const dir = join(jupyterPath, 'kernels', KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  const spec = {
    // What `tslab install` writes, with this workspace's tslab and this Node pinned.
    argv: [process.execPath, tslab, 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (tslab)',
    language: 'typescript',
  };
  const specFile = join(dir, 'kernel.json');
  writeFileSync(specFile, JSON.stringify(spec, null, 2) + '\n');
  return { jupyterPath, specFile };
}

/** Environment with our kernel dir first on JUPYTER_PATH. */
export function jupyterEnv(jupyterPath: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const prev = process.env.JUPYTER_PATH;
  return { ...process.env, JUPYTER_PATH: prev ? `${jupyterPath}${delimiter}${prev}` : jupyterPath, ...extra };
}

/** Pythons to try, in order: $JUPYTER_PYTHON, python3 on PATH, Debian's /usr/bin/python3. */
function candidates(): string[] {
  const list = [process.env.JUPYTER_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => Boolean(p));
  return [...new Set(list)];
}

/** The first Python that can import every module in `modules`, or undefined. */
export function findPython(modules: string[]): string | undefined {
  for (const py of candidates()) {
    const r = spawnSync(py, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

/** True when `py` can import `module`. */
export function hasModule(py: string, module: string): boolean {
  return spawnSync(py, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

/** The Debian packages that provide headless execution (what .ci/run installs). */
export const DEBIAN_PACKAGES = [
  'jupyter-nbconvert',
  'python3-ipykernel',
  'jupyter-client',
  'python3-notebook',
  'jupyter-notebook',
];

/** The parts of an .ipynb file we read. */
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
  execution_count?: number | null;
  metadata?: Record<string, unknown>;
  id?: string;
}
export interface Notebook {
  cells: NotebookCell[];
  metadata: { kernelspec?: { name?: string } } & Record<string, unknown>;
  nbformat?: number;
  nbformat_minor?: number;
}

/** The notebook metadata a stored notebook carries: the tslab kernel, as `tslab install` names it. */
export const STORED_METADATA = {
  kernelspec: { display_name: 'TypeScript (tslab)', language: 'typescript', name: KERNEL_NAME },
  language_info: {
    codemirror_mode: { name: 'javascript', typescript: true },
    file_extension: '.ts',
    mimetype: 'text/typescript',
    name: 'typescript',
  },
};

/**
 * Cell metadata that Jupyter front ends write while a notebook is open (run times, scroll and
 * collapse state, trust marks); a stored notebook has none of it. Tags and other keys stay.
 */
const FRONT_END_CELL_METADATA = ['execution', 'ExecuteTime', 'collapsed', 'scrolled', 'trusted', 'jupyter'];
/** Notebook metadata Jupyter adds on save (signatures, widget state, the converted-from version). */
const FRONT_END_NOTEBOOK_METADATA = ['signature', 'orig_nbformat', 'widgets', 'toc', 'vscode'];

/**
 * The notebook as it is stored: no outputs or execution counts, no front-end cell metadata, no cell
 * ids (nbformat 4.4, which the stored notebooks use; JupyterLab adds ids and 4.5 on save), the tslab
 * kernel's metadata (Jupyter adds the kernel's reported version and editor mode). A notebook saved
 * from Jupyter comes back to its stored form; sources and tags are kept as they are.
 */
export function normalizeStored(nb: Notebook): Notebook {
  const cells = nb.cells.map((c) => {
    const { id: _id, ...rest } = c;
    const metadata = { ...(c.metadata ?? {}) };
    for (const k of FRONT_END_CELL_METADATA) delete metadata[k];
    return c.cell_type === 'code' ? { ...rest, metadata, outputs: [], execution_count: null } : { ...rest, metadata };
  });
  const metadata: Record<string, unknown> = { ...nb.metadata };
  for (const k of FRONT_END_NOTEBOOK_METADATA) delete metadata[k];
  const ownKernel = (nb.metadata.kernelspec?.name ?? KERNEL_NAME) === KERNEL_NAME;
  if (ownKernel) Object.assign(metadata, structuredClone(STORED_METADATA));
  return { ...nb, cells, metadata, nbformat: 4, nbformat_minor: 4 };
}

/** Keys sorted at every level, as nbformat writes them. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

/** The file text nbformat writes (keys sorted, one-space indent, UTF-8, final newline), so a save round-trips. */
export function notebookText(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + '\n';
}

/** Problems that make a stored notebook unfit to commit: outputs, execution counts, another kernel, Jupyter's additions. */
export function storedProblems(nb: Notebook): string[] {
  const p: string[] = [];
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== 'code') return;
    if (c.outputs && c.outputs.length) p.push(`cell ${i + 1} has ${c.outputs.length} output(s)`);
    if (c.execution_count != null) p.push(`cell ${i + 1} has execution_count ${c.execution_count}`);
  });
  if (nb.metadata.kernelspec?.name !== KERNEL_NAME)
    p.push(`kernelspec is ${JSON.stringify(nb.metadata.kernelspec?.name)}, not "${KERNEL_NAME}"`);
  else if (!p.length && JSON.stringify(sortKeys(normalizeStored(nb))) !== JSON.stringify(sortKeys(nb)))
    p.push('metadata, cell ids or nbformat version as saved by Jupyter (language_info, execution times, …)');
  return p;
}

/**
 * Seconds to run each notebook top to bottom (`npm run notebooks`, one at a time, kernel start included) on 2 CPU
 * cores shared with other jobs (load average 5–15), wasm backend, 2026-11-26. 04's full size is the run with one
 * other job holding a core (19 min); under the heavier load of the other full-size runs here it took 34 min.
 */
export const MEASURED_SECONDS: Record<string, { quick: number; full: number }> = {
  '01-selectivity-primer': { quick: 15, full: 21 },
  '02-haar-wavelet-bases': { quick: 19, full: 33 },
  '03-sensitivity-decay': { quick: 18, full: 36 },
  '04-keep-nth': { quick: 97, full: 1140 },
  '05-mqar-analytic': { quick: 20, full: 162 },
  '06-induction-heads': { quick: 33, full: 87 },
};

/** "≈ 14 s", "≈ 3 min", "≈ 1 h 05 min". */
export function approxTime(seconds: number): string {
  if (seconds < 90) return `≈ ${Math.max(1, Math.round(seconds))} s`;
  const min = Math.round(seconds / 60);
  return min < 60 ? `≈ ${min} min` : `≈ ${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/**
 * What running each notebook costs in one mode: this machine's times from the last `npm run notebooks` in that mode
 * (build/notebooks/report.json) where it ran the notebook successfully, else {@link MEASURED_SECONDS}.
 */
export function notebookCosts(
  quick: boolean,
  reportFile = join(ROOT, 'build', 'notebooks', 'report.json'),
): { source: string; notebooks: { notebook: string; time: string }[]; total: string } {
  let local = new Map<string, number>();
  try {
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      quick: boolean;
      notebooks: { notebook: string; ok: boolean; seconds: number }[];
    };
    if (report.quick === quick)
      local = new Map(
        report.notebooks
          .filter((n) => n.ok && n.seconds > 0)
          .map((n) => [n.notebook.replace(/\.ipynb$/, ''), n.seconds]),
      );
  } catch {
    // no report yet: the measured table
  }
  let total = 0;
  const notebooks = Object.entries(MEASURED_SECONDS).map(([notebook, t]) => {
    const s = local.get(notebook) ?? (quick ? t.quick : t.full);
    total += s;
    return { notebook, time: approxTime(s) };
  });
  const source = local.size
    ? `timed on this machine by the last npm run notebooks${quick ? ' --quick' : ''} (${relative(ROOT, reportFile)})${local.size < notebooks.length ? ', the others as measured on 2 shared cores' : ''}`
    : "as measured on 2 shared CPU cores (npm run notebooks prints and keeps your machine's times)";
  return { source, notebooks, total: approxTime(total) };
}
