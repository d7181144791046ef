/**
 * `npm run lab` — register this workspace's tslab kernel (in build/jupyter, not your global
 * Jupyter directory) and start JupyterLab on notebooks/. Before starting, it prints what each
 * notebook costs to run in the chosen mode. When JupyterLab is missing but Debian's classic
 * Notebook is installed, it starts that; with neither it prints how to install one and exits 1.
 *
 *   npm run lab                          JupyterLab (found in $JUPYTER_PYTHON, python3 or /usr/bin/python3)
 *   npm run lab -- --quick               quick mode (NOTEBOOK_QUICK=1 for the kernels): small training cells
 *   npm run lab -- --classic             the classic Notebook instead (Debian's jupyter-notebook works)
 *   npm run lab -- --no-browser          extra arguments go to Jupyter
 *   npm run lab -- --register            only write the kernel spec and print how to use it
 */
import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import {
  DEBIAN_PACKAGES,
  findPython,
  hasModule,
  jupyterEnv,
  KERNEL_NAME,
  NOTEBOOK_DIR,
  notebookCosts,
  registerKernel,
  ROOT,
} from './jupyter.js';

const OWN = ['--classic', '--register', '--quick'];
const args = process.argv.slice(2);
const registerOnly = args.includes('--register');
const quick = args.includes('--quick') || process.env.NOTEBOOK_QUICK === '1';
const passThrough = args.filter((a) => !OWN.includes(a));
let classic = args.includes('--classic');

const { jupyterPath, specFile } = registerKernel();
console.log(`tslab kernel "${KERNEL_NAME}" registered for this repo: ${relative(ROOT, specFile)}`);
console.log(`  (Jupyter sees it with JUPYTER_PATH=${jupyterPath})`);
if (registerOnly) {
  console.log('Start Jupyter yourself with that JUPYTER_PATH, e.g.:');
  console.log(`  JUPYTER_PATH=${jupyterPath} jupyter lab ${relative(process.cwd(), NOTEBOOK_DIR) || '.'}`);
  console.log('  (add NOTEBOOK_QUICK=1 to its environment for quick mode)');
  process.exit(0);
}

let py = findPython([classic ? 'notebook' : 'jupyterlab']);
if (!py && !classic) {
  const notebook = findPython(['notebook']);
  if (notebook) {
    console.log(
      `\nJupyterLab is not installed, the classic Notebook is (${notebook}): starting it (same as npm run lab -- --classic).`,
    );
    console.log('  For JupyterLab instead: python3 -m venv .venv && .venv/bin/pip install jupyterlab plotly,');
    console.log('  then JUPYTER_PYTHON=.venv/bin/python npm run lab');
    classic = true;
    py = notebook;
  }
}
if (!py) {
  const venv = `${relative(process.cwd(), ROOT) || '.'}/.venv`;
  console.error(
    `\n${classic ? 'The classic Jupyter Notebook' : 'Neither JupyterLab nor the classic Notebook'} is installed (tried $JUPYTER_PYTHON, python3, /usr/bin/python3). Install one:`,
  );
  console.error('\n  from Debian packages (the classic Notebook 6; JupyterLab is not packaged):');
  console.error(`    sudo apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES.join(' ')}`);
  console.error('    npm run lab');
  console.error(
    '\n  or JupyterLab with pip, in a virtual environment (Debian/Ubuntu system Pythons refuse `pip install` outside one):',
  );
  console.error(`    python3 -m venv ${venv} && ${venv}/bin/pip install jupyterlab plotly`);
  console.error(`    JUPYTER_PYTHON=${venv}/bin/python npm run lab`);
  console.error("    (plotly brings JupyterLab's renderer for the notebooks' Plotly figures)");
  process.exit(1);
}
if (!classic && !hasModule(py, 'plotly')) {
  console.log(
    `note: ${py} has no plotly package, so JupyterLab has no Plotly renderer: figures draw through their HTML`,
  );
  console.log(
    `      fallback with the plotly.js each notebook carries (offline too). Renderer: ${py} -m pip install plotly`,
  );
}

const costs = notebookCosts(quick);
console.log(
  `\n${quick ? 'Quick mode (NOTEBOOK_QUICK=1): small training cells.' : "Full size (the paper's settings)."} Run all cells of a notebook, ${costs.source}:`,
);
for (const c of costs.notebooks) console.log(`  ${c.notebook.padEnd(28)} ${c.time}`);
console.log(`  ${'all six'.padEnd(28)} ${costs.total}`);
const other = notebookCosts(!quick);
const slowest = other.notebooks.find((n) => n.notebook.startsWith('04'));
console.log(
  quick
    ? `  Full size: npm run lab (all six ${other.total}${slowest ? `, ${slowest.notebook} alone ${slowest.time}` : ''})`
    : `  Quick mode for a first look: npm run lab -- --quick (all six ${other.total})`,
);

const sub = classic
  ? ['-m', 'notebook', `--notebook-dir=${NOTEBOOK_DIR}`]
  : ['-m', 'jupyterlab', `--ServerApp.root_dir=${NOTEBOOK_DIR}`];
// Jupyter refuses to run as root without this flag (containers, CI boxes).
if (process.getuid?.() === 0 && !passThrough.includes('--allow-root')) sub.push('--allow-root');
console.log(
  `\nStarting ${classic ? 'the classic Jupyter Notebook' : 'JupyterLab'} (${py} ${sub.join(' ')} ${passThrough.join(' ')}); Ctrl-C stops it.`,
);
console.log(
  '  Saving from Jupyter writes outputs into notebooks/: the next npm run notebooks runs their stored form anyway;',
);
console.log('  npm run notebooks -- --strip before a commit.');
const child = spawn(py, [...sub, ...passThrough], {
  cwd: NOTEBOOK_DIR,
  env: jupyterEnv(jupyterPath, quick ? { NOTEBOOK_QUICK: '1' } : {}),
  stdio: 'inherit',
});
// Ctrl-C reaches Jupyter from the terminal itself (it asks before shutting down): just stay alive.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 0)));
