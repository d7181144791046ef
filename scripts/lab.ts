/**
 * `npm run lab` — register this workspace's tslab kernel (in build/jupyter, not your global
 * Jupyter directory) and start JupyterLab on notebooks/. Without JupyterLab it prints how to
 * install it and exits with code 1.
 *
 *   npm run lab                          JupyterLab (found in $JUPYTER_PYTHON, python3 or /usr/bin/python3)
 *   npm run lab -- --no-browser          extra arguments go to `jupyter lab`
 *   npm run lab -- --classic             the classic Notebook instead (Debian's jupyter-notebook works)
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
  registerKernel,
  ROOT,
} from './jupyter.js';

const args = process.argv.slice(2);
const classic = args.includes('--classic');
const registerOnly = args.includes('--register');
const passThrough = args.filter((a) => a !== '--classic' && a !== '--register');

const { jupyterPath, specFile } = registerKernel();
console.log(`tslab kernel "${KERNEL_NAME}" registered for this repo: ${relative(ROOT, specFile)}`);
console.log(`  (Jupyter sees it with JUPYTER_PATH=${jupyterPath})`);
if (registerOnly) {
  console.log('Start Jupyter yourself with that JUPYTER_PATH, e.g.:');
  console.log(`  JUPYTER_PATH=${jupyterPath} jupyter lab ${relative(process.cwd(), NOTEBOOK_DIR) || '.'}`);
  process.exit(0);
}

const module = classic ? 'notebook' : 'jupyterlab';
const py = findPython([module]);
if (!py) {
  const venv = `${relative(process.cwd(), ROOT) || '.'}/.venv`;
  console.error(
    `\n${classic ? 'The classic Jupyter Notebook' : 'JupyterLab'} is not installed (tried $JUPYTER_PYTHON, python3, /usr/bin/python3). Install it:`,
  );
  console.error(
    '\n  with pip, in a virtual environment (Debian/Ubuntu system Pythons refuse `pip install` outside one):',
  );
  console.error(`    python3 -m venv ${venv} && ${venv}/bin/pip install jupyterlab plotly`);
  console.error(`    JUPYTER_PYTHON=${venv}/bin/python npm run lab`);
  console.error("    (plotly brings JupyterLab's renderer for the notebooks' interactive Plotly figures)");
  console.error('\n  or from Debian packages (JupyterLab is not packaged; this is the classic Notebook 6):');
  console.error(`    sudo apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES.join(' ')}`);
  console.error('    npm run lab -- --classic');
  process.exit(1);
}
if (!classic && !hasModule(py, 'plotly')) {
  console.warn(
    `note: ${py} has no plotly package, so JupyterLab lacks the Plotly renderer and shows the HTML fallback`,
  );
  console.warn(`      (which loads plotly.js from the CDN). For the native renderer: ${py} -m pip install plotly`);
}

const sub = classic
  ? ['-m', 'notebook', `--notebook-dir=${NOTEBOOK_DIR}`]
  : ['-m', 'jupyterlab', `--ServerApp.root_dir=${NOTEBOOK_DIR}`];
// Jupyter refuses to run as root without this flag (containers, CI boxes).
if (process.getuid?.() === 0 && !passThrough.includes('--allow-root')) sub.push('--allow-root');
console.log(
  `Starting ${classic ? 'Jupyter Notebook' : 'JupyterLab'} (${py} ${sub.join(' ')} ${passThrough.join(' ')}); Ctrl-C stops it.`,
);
const child = spawn(py, [...sub, ...passThrough], {
  cwd: NOTEBOOK_DIR,
  env: jupyterEnv(jupyterPath),
  stdio: 'inherit',
});
// Ctrl-C reaches Jupyter from the terminal itself (it asks before shutting down): just stay alive.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 0)));
