/**
 * `npm run site:convert` — turn the executed notebooks in build/notebooks/*.ipynb into MDX pages for the
 * explainer site. Generated files are build artefacts (git-ignored), never edited by hand:
 *
 *   website/docs/chapters/<name>.mdx                  one page per notebook
 *   website/docs/chapters/_figures/<name>/fig-N.json  Plotly specs (application/vnd.plotly.v1+json outputs)
 *   website/docs/chapters/_assets/<name>/out-N.png    image outputs
 *   website/static/notebooks/<name>.ipynb             the executed notebook, linked for download
 *
 * Markdown cells stay markdown (math intact, MDX-hostile characters escaped); code cells become
 * highlighted code blocks (copy button from the theme); stream / text outputs become output blocks;
 * Plotly outputs become interactive charts (<PlotlyFigure>), images stay images, errors show their
 * traceback. Only notebooks that also exist in notebooks/ are converted (stale executed copies are
 * skipped); a notebook without an executed copy (e.g. no Jupyter on this machine) becomes a page from the
 * stored notebook — code and prose, no outputs — with a banner saying so.
 *
 * Options: --in DIR (default build/notebooks), --out DIR (default website/docs/chapters),
 * --static DIR (default website/static/notebooks), --all (also executed copies without a source).
 * Files are rewritten only when their content changes (keeps the bundler's cache warm).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanTerminalText, escapeMarkdown, jsString, plainText } from './mdx.js';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

type MultiLine = string | string[];
export interface NbOutput {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error' | 'update_display_data';
  name?: string;
  text?: MultiLine;
  data?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
  traceback?: string[];
}
export interface NbCell {
  cell_type: 'markdown' | 'code' | 'raw';
  source: MultiLine;
  metadata?: { tags?: string[]; execution?: Record<string, string>; [k: string]: unknown };
  outputs?: NbOutput[];
  execution_count?: number | null;
  attachments?: Record<string, Record<string, string>>;
}
export interface Notebook {
  cells: NbCell[];
  metadata?: {
    kernelspec?: { name?: string; language?: string };
    language_info?: { name?: string };
    [k: string]: unknown;
  };
  nbformat?: number;
}

/** A file the page needs next to it (path relative to the MDX file's folder). */
export interface Asset {
  path: string;
  content: string | Buffer;
}
export interface ConvertOptions {
  /** File name without extension, e.g. `01-selectivity-primer`; used for ids, asset folders and the download link. */
  name: string;
  /** Import path of the site's components (default: the Docusaurus `@site` alias). */
  componentsPath?: string;
  /** Whether the notebook ran in quick mode (shown on the page). */
  quick?: boolean;
  /** Whether the execution succeeded (a failed run still converts, with a warning banner). */
  ok?: boolean;
  /** False for a stored notebook converted without executing it (no outputs; the page says so). */
  executed?: boolean;
}
export interface Converted {
  mdx: string;
  assets: Asset[];
  title: string;
  sidebarLabel: string;
  figures: number;
}

const text = (m: MultiLine | undefined): string => (Array.isArray(m) ? m.join('') : (m ?? ''));

/** Longest run of `ch` in `s`. */
function longestRun(s: string, ch: string): number {
  let best = 0;
  let cur = 0;
  for (const c of s) {
    cur = c === ch ? cur + 1 : 0;
    best = Math.max(best, cur);
  }
  return best;
}

/** A fenced code block whose fence is longer than any backtick run inside. */
export function fence(code: string, lang: string, meta = ''): string {
  const f = '`'.repeat(Math.max(3, longestRun(code, '`') + 1));
  return `${f}${lang}${meta ? ` ${meta}` : ''}\n${code.replace(/\n+$/, '')}\n${f}`;
}

const LANGS: Record<string, string> = { typescript: 'ts', javascript: 'js', python: 'python' };

function codeLanguage(nb: Notebook): string {
  const l = (nb.metadata?.kernelspec?.language ?? nb.metadata?.language_info?.name ?? 'typescript').toLowerCase();
  return LANGS[l] ?? l;
}

/** Title and sidebar label from the first `# heading` (math reduced to plain text). */
function titles(nb: Notebook, name: string): { title: string; label: string; description: string } {
  for (const c of nb.cells) {
    if (c.cell_type !== 'markdown') continue;
    const src = text(c.source);
    const h1 = /^#\s+(.+)$/m.exec(src);
    if (!h1) continue;
    const title = plainText(h1[1]);
    const label = title.split(/:\s/)[0];
    const para = src
      .slice(h1.index + h1[0].length)
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .find((p) => p && !p.startsWith('#') && !p.startsWith('$$'));
    let description = para ? plainText(para) : '';
    if (description.length > 200) description = description.slice(0, 197).replace(/\s+\S*$/, '') + '…';
    return { title, label, description };
  }
  const fallback = name.replace(/^\d+-/, '').replace(/-/g, ' ');
  return { title: fallback, label: fallback, description: '' };
}

function yaml(s: string): string {
  return JSON.stringify(s); // a JSON string is a valid YAML scalar
}

function imageOutput(
  data: Record<string, unknown>,
  key: string,
  assetBase: string,
  n: number,
  alt: string,
  assets: Asset[],
): string {
  const ext = key === 'image/svg+xml' ? 'svg' : key === 'image/jpeg' ? 'jpg' : key === 'image/gif' ? 'gif' : 'png';
  const path = `${assetBase}/out-${n}.${ext}`;
  const raw = text(data[key] as MultiLine);
  assets.push({ path, content: ext === 'svg' ? raw : Buffer.from(raw.replace(/\s+/g, ''), 'base64') });
  return `![${alt.replace(/[[\]\\{}<>]/g, ' ').trim() || 'output'}](./${path})`;
}

/** Convert one executed notebook to an MDX page plus its assets. */
export function convertNotebook(nb: Notebook, opts: ConvertOptions): Converted {
  const { name } = opts;
  const components = opts.componentsPath ?? '@site/website/src/components';
  const lang = codeLanguage(nb);
  const { title, label, description } = titles(nb, name);
  const position = /^(\d+)/.exec(name);
  const assets: Asset[] = [];
  const figureImports: string[] = [];
  const body: string[] = [];
  let headerPlaced = false;
  let figures = 0;
  let images = 0;
  let executedAt: string | undefined;

  const header =
    `<NotebookHeader notebook=${jsString(`${name}.ipynb`)} quick={${Boolean(opts.quick)}} ok={${opts.ok !== false}}` +
    `${opts.executed === false ? ' executed={false}' : ''} />`;
  const placeHeader = () => {
    if (!headerPlaced) body.push(header);
    headerPlaced = true;
  };

  for (const [ci, cell] of nb.cells.entries()) {
    const tags = new Set(cell.metadata?.tags ?? []);
    if (tags.has('remove-cell') || tags.has('remove_cell')) continue;
    const src = text(cell.source);
    if (cell.cell_type === 'markdown') {
      if (!src.trim()) continue;
      let md = src;
      // keep the first H1 as the page title, then the notebook header (download link, run mode)
      if (!headerPlaced) {
        const h1 = /^#\s+.+$/m.exec(md);
        if (h1 && md.slice(0, h1.index).trim() === '') {
          body.push(escapeMarkdown(h1[0]));
          placeHeader();
          md = md.slice(h1.index + h1[0].length);
        } else placeHeader();
      }
      // attachments (images pasted into markdown cells)
      for (const [file, bundle] of Object.entries(cell.attachments ?? {})) {
        const key = Object.keys(bundle).find((k) => k.startsWith('image/'));
        if (!key) continue;
        const path = `_assets/${name}/att-${ci}-${file.replace(/[^\w.-]/g, '_')}`;
        assets.push({ path, content: key === 'image/svg+xml' ? bundle[key] : Buffer.from(bundle[key], 'base64') });
        md = md.split(`attachment:${file}`).join(`./${path}`);
      }
      if (md.trim()) body.push(escapeMarkdown(md.trim()));
      continue;
    }
    if (cell.cell_type === 'raw') continue;
    placeHeader();
    if (cell.metadata?.execution?.['iopub.status.busy'] && !executedAt)
      executedAt = cell.metadata.execution['iopub.status.busy'];
    if (src.trim() && !tags.has('remove-input') && !tags.has('remove_input')) body.push(fence(src, lang));
    if (tags.has('remove-output') || tags.has('remove_output')) continue;

    // merge consecutive stream outputs of the same name
    const outs: NbOutput[] = [];
    for (const o of cell.outputs ?? []) {
      const prev = outs[outs.length - 1];
      if (o.output_type === 'stream' && prev?.output_type === 'stream' && prev.name === o.name)
        prev.text = text(prev.text) + text(o.text);
      else outs.push({ ...o });
    }
    for (const o of outs) {
      if (o.output_type === 'stream') {
        const t = cleanTerminalText(text(o.text)).replace(/\n+$/, '');
        if (t)
          body.push(
            `<NotebookOutput kind=${jsString(o.name === 'stderr' ? 'stderr' : 'stdout')} text={${jsString(t)}} />`,
          );
        continue;
      }
      if (o.output_type === 'error') {
        const tb = cleanTerminalText((o.traceback ?? []).join('\n')) || `${o.ename}: ${o.evalue}`;
        body.push(`<NotebookOutput kind="error" text={${jsString(tb)}} />`);
        continue;
      }
      // ssm-plot's plotly.js loader (display metadata "ssm-plot"): the site draws the figures' JSON with its own plotly.js
      if (isPlotlyLoader(o)) continue;
      const data = o.data ?? {};
      const plain = cleanTerminalText(text(data['text/plain'] as MultiLine)).replace(/\n+$/, '');
      if (data[PLOTLY_MIME]) {
        figures++;
        const id = `fig${figures}`;
        const path = `_figures/${name}/fig-${figures}.json`;
        assets.push({ path, content: JSON.stringify(data[PLOTLY_MIME]) });
        figureImports.push(`import ${id} from './${path}';`);
        body.push(`<PlotlyFigure figure={${id}} alt={${jsString(plain || `Figure ${figures}`)}} />`);
        continue;
      }
      const img = ['image/png', 'image/svg+xml', 'image/jpeg', 'image/gif'].find((k) => k in data);
      if (img) {
        images++;
        body.push(imageOutput(data, img, `_assets/${name}`, images, plain, assets));
        continue;
      }
      if ('text/markdown' in data) {
        const md = text(data['text/markdown'] as MultiLine).trim();
        if (md) body.push(escapeMarkdown(md));
        continue;
      }
      if ('text/latex' in data) {
        const tex = text(data['text/latex'] as MultiLine).trim();
        if (tex) body.push(/^\$/.test(tex) ? tex : `$$\n${tex}\n$$`);
        continue;
      }
      if ('text/html' in data) {
        body.push(`<NotebookHtml html={${jsString(text(data['text/html'] as MultiLine))}} />`);
        continue;
      }
      if (plain) body.push(`<NotebookOutput kind="result" text={${jsString(plain)}} />`);
    }
  }
  placeHeader();

  const front = [
    '---',
    `title: ${yaml(title)}`,
    `sidebar_label: ${yaml(label)}`,
    ...(position ? [`sidebar_position: ${Number(position[1])}`] : []),
    ...(description ? [`description: ${yaml(description)}`] : []),
    `slug: ${yaml(`/chapters/${name}`)}`,
    'custom_edit_url: null',
    '---',
  ];
  const imports = [
    `import NotebookHeader from '${components}/NotebookHeader';`,
    `import NotebookOutput from '${components}/NotebookOutput';`,
    `import NotebookHtml from '${components}/NotebookHtml';`,
    `import PlotlyFigure from '${components}/PlotlyFigure';`,
    ...figureImports,
  ];
  const note = `{/* GENERATED by scripts/site/notebooks-to-mdx.ts from ${name}.ipynb${executedAt ? ` (executed ${executedAt})` : ''}; do not edit. */}`;
  const mdx = `${front.join('\n')}\n\n${imports.join('\n')}\n\n${note}\n\n${body.join('\n\n')}\n`;
  return { mdx, assets, title, sidebarLabel: label, figures };
}

// ---------------------------------------------------------------------------------------------------
// CLI

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A loader output of ssm-plot (display metadata "ssm-plot"): plotly.js itself, 4.8 MB. */
const isPlotlyLoader = (o: NbOutput): boolean => Boolean(o.metadata && 'ssm-plot' in o.metadata);

/**
 * The executed notebook as offered for download: without ssm-plot's plotly.js loader output, so each download is
 * kilobytes, not megabytes. A downloaded notebook opens untrusted (figures show their descriptions); once trusted its
 * figures load plotly.js from the CDN, and re-running it in a kernel draws them offline again.
 * Written as nbformat writes (indent 1, trailing newline); a notebook without a loader output is returned unchanged.
 */
export function downloadCopy(bytes: Buffer): Buffer {
  const nb = JSON.parse(bytes.toString('utf8')) as Notebook;
  let dropped = 0;
  for (const c of nb.cells) {
    if (!c.outputs) continue;
    const kept = c.outputs.filter((o) => !isPlotlyLoader(o));
    dropped += c.outputs.length - kept.length;
    c.outputs = kept;
  }
  return dropped ? Buffer.from(JSON.stringify(nb, null, 1) + '\n', 'utf8') : bytes;
}

function writeIfChanged(path: string, content: string | Buffer): boolean {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  if (existsSync(path) && readFileSync(path).equals(buf)) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, buf);
  return true;
}

/** Every file under dir (relative paths). */
function walk(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p, base) : [relative(base, p)];
  });
}

function removeEmptyDirs(dir: string): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) {
      removeEmptyDirs(p);
      if (!readdirSync(p).length) rmSync(p, { recursive: true });
    }
  }
}

interface Report {
  notebooks?: { notebook: string; ok: boolean }[];
  quick?: boolean;
}

export function main(argv = process.argv.slice(2)): number {
  const o = {
    in: join(ROOT, 'build', 'notebooks'),
    out: join(ROOT, 'website', 'docs', 'chapters'),
    static: join(ROOT, 'website', 'static', 'notebooks'),
    all: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--in') o.in = resolve(argv[++i]);
    else if (a === '--out') o.out = resolve(argv[++i]);
    else if (a === '--static') o.static = resolve(argv[++i]);
    else if (a === '--all') o.all = true;
    else throw new Error(`unknown argument ${a}`);
  }
  const t0 = Date.now();
  const sourceDir = join(ROOT, 'notebooks');
  const sources = existsSync(sourceDir)
    ? readdirSync(sourceDir)
        .filter((f) => f.endsWith('.ipynb'))
        .sort()
    : [];
  const executed = existsSync(o.in)
    ? readdirSync(o.in)
        .filter((f) => f.endsWith('.ipynb'))
        .sort()
    : [];
  const chosen = executed.filter((f) => o.all || !sources.length || sources.includes(f));
  const report: Report = existsSync(join(o.in, 'report.json'))
    ? JSON.parse(readFileSync(join(o.in, 'report.json'), 'utf8'))
    : {};

  const keepOut = new Set<string>();
  const keepStatic = new Set<string>();
  let changed = 0;
  const unexecuted = sources.filter((f) => !executed.includes(f)); // pages from the stored notebooks: code and prose, no outputs
  for (const f of [...chosen, ...unexecuted]) {
    const name = basename(f, '.ipynb');
    const ran = chosen.includes(f);
    const src = ran ? join(o.in, f) : join(sourceDir, f);
    const nb = JSON.parse(readFileSync(src, 'utf8')) as Notebook;
    const entry = report.notebooks?.find((r) => r.notebook === f);
    const r = convertNotebook(nb, {
      name,
      quick: ran && report.quick,
      ok: entry && ran ? entry.ok : true,
      executed: ran,
    });
    const files: Asset[] = [{ path: `${name}.mdx`, content: r.mdx }, ...r.assets];
    for (const a of files) {
      keepOut.add(a.path);
      if (writeIfChanged(join(o.out, a.path), a.content)) changed++;
    }
    keepStatic.add(f);
    if (writeIfChanged(join(o.static, f), downloadCopy(readFileSync(src)))) changed++;
    const what = ran ? `${r.figures} figure${r.figures === 1 ? '' : 's'}` : 'NOT EXECUTED: code and prose only';
    const failed = ran && entry && !entry.ok ? ', execution FAILED' : '';
    console.log(`  ${f} → ${relative(ROOT, join(o.out, `${name}.mdx`))}  (${what}${failed})`);
  }
  if (!chosen.length && !unexecuted.length) {
    // keep the chapters sidebar non-empty and every link valid
    const placeholder =
      `---\ntitle: Chapters\nslug: /chapters\ncustom_edit_url: null\n---\n\n` +
      `No executed notebooks yet. Run \`npm run notebooks\` (or \`NOTEBOOK_QUICK=1 npm run notebooks\`), then rebuild the site.\n`;
    keepOut.add('index.md');
    if (writeIfChanged(join(o.out, 'index.md'), placeholder)) changed++;
  }
  // remove generated files that no longer correspond to a notebook
  let removed = 0;
  for (const f of walk(o.out))
    if (!keepOut.has(f)) {
      rmSync(join(o.out, f));
      removed++;
    }
  for (const f of walk(o.static))
    if (!keepStatic.has(f)) {
      rmSync(join(o.static, f));
      removed++;
    }
  removeEmptyDirs(o.out);

  const missing = sources.filter((f) => !executed.includes(f));
  const orphans = executed.filter((f) => !chosen.includes(f));
  if (missing.length)
    console.log(`  not executed yet (pages without outputs): ${missing.join(', ')} — run \`npm run notebooks\``);
  if (orphans.length)
    console.log(
      `  skipped executed copies without a source in notebooks/: ${orphans.join(', ')} (--all converts them)`,
    );
  const pages = chosen.length + unexecuted.length;
  const bare = unexecuted.length ? ` (${unexecuted.length} without outputs)` : '';
  console.log(
    `notebooks → MDX: ${pages} page(s)${bare}, ${changed} file(s) written, ${removed} removed, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main();
  } catch (e) {
    console.error(`notebooks-to-mdx: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
