/**
 * ssm-core's API reference for the site: TypeDoc + typedoc-plugin-markdown into website/docs/api/ (git-ignored),
 * one page per module of the public API (ops, models, mixers, tasks, train, theory, constructions, io, backend,
 * errors, random).
 *
 * The public API is what packages/ssm-core/src/index.ts exports. The TypeScript compiler lists those exports and
 * the file each is declared in; {@link MODULES} assigns every one to a page by that file (the `theory`, `tasks`
 * and `constructions` namespaces are pages of their own), and an export no module claims fails the build, so a new
 * export cannot go undocumented. Exports whose declaration is tagged `@internal` (kernel registry, argument
 * checkers, formatting helpers: exported for ssm-lab and the tests, not for users) are left out, and so is `tf`,
 * TensorFlow.js's own namespace. For each page an entry file re-exporting that page's names from index.ts is
 * written to a temporary folder and TypeDoc reads those entry files. TypeDoc's warnings (an unresolved
 * `{@link}`, a type used in the API but not exported) fail the build.
 *
 * Skipped when ssm-core's sources, its tsconfig and the TypeDoc versions are unchanged since the last run;
 * otherwise generated into a temporary folder and synced file by file (unchanged pages keep their timestamps, so
 * the bundler's cache stays warm).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORE = join(ROOT, 'packages', 'ssm-core');
const SRC = join(CORE, 'src');
const INDEX = join(SRC, 'index.ts');
const OUT = join(ROOT, 'website', 'docs', 'api');
const CACHE = join(ROOT, 'node_modules', '.cache', 'selectivity-lab');
const STAMP = join(CACHE, 'api-docs.hash');

/** One page of the reference. */
export interface ApiModule {
  /** Page name and file (`ops` → ops.md). */
  name: string;
  /** Sidebar label and page title. */
  title: string;
  /** Source files (relative to packages/ssm-core/src, without .ts) or folders (ending in /) whose exports it lists. */
  files: string[];
  /** A namespace exported by index.ts (`export * as theory`) that this page lists member by member. */
  namespace?: string;
  /** One line for the overview page. */
  summary: string;
  /** The page's introduction (Markdown, TSDoc): what the module is, in the paper's notation, and an example. */
  intro: string;
}

/** The reference's pages, in sidebar order. */
export const MODULES: ApiModule[] = [
  {
    name: 'ops',
    title: 'ops',
    files: ['ops/'],
    summary:
      'selectiveScan, ssdMinimal, linear, causalConv1d and the S6 / Mamba-2 inner ops, with float64 reference twins',
    intro: `The differentiable ops of the selective SSMs, each with a reference twin of the same signature computed in
float64 (\`…Ref\`, and \`…Ref64\` on raw arrays). Each op validates its arguments once and runs the kernel registered
for the live backend: a fused typed-array / WebAssembly kernel with an analytic backward on cpu, wasm and tfjs-node,
tf-op kernels (log-depth scan, chunked SSD) on GPU backends; \`listKernels()\` prints the table.

Shapes follow mamba_ssm's \`selective_scan_ref\`: b batch, d channels (d_inner), n = N state size, L sequence length.
The recurrence (Eq. 14f–14g): h_t = exp(Δ_t A) ⊙ h_{t−1} + B̄_t u_t, y_t = C_t h_t + D u_t, out_t = y_t ⊙ silu(z_t).

\`\`\`ts
import { selectiveScan, selectiveScanRef, tf } from 'ssm-core';
const args = {
  u: tf.randomNormal([1, 4, 16]),            // [b, d, L]
  delta: tf.randomUniform([1, 4, 16]),       // [b, d, L]
  A: tf.neg(tf.ones([4, 8])),                // [d, n]
  B: tf.randomNormal([1, 8, 16]),            // [b, n, L]
  C: tf.randomNormal([1, 8, 16]),            // [b, n, L]
};
const { out } = selectiveScan(args);         // [b, d, L]
const ref = selectiveScanRef(args).out;      // the same in float64: equal to float32 round-off
console.log(out.shape, ref.shape);
\`\`\``,
  },
  {
    name: 'models',
    title: 'models',
    files: ['models/', 'nn/'],
    summary:
      'MambaModel (S4D, S6, Mamba-2, Mamba-Δ⊤ block), the Transformer baseline, configs, weights, memory estimates',
    intro: `The 1-layer sequence models of the paper's experiments: \`MambaModel\` (embedding, optional positional
encoding, one Mamba block with an S4D, S6, Mamba-2 or Mamba-Δ⊤ mixer, un-embedding; Eq. 14) and the
\`TransformerModel\` baseline, their configs, safetensors weights in mamba_ssm's parameter names, and the memory a
training step needs. Tokens are \`number[][]\` or an int32 tensor [B, T]; logits are [B, T, vocabSize].

\`\`\`ts
import { MambaModel, ready } from 'ssm-core';
await ready();
const model = new MambaModel({ vocabSize: 16, dModel: 8, dState: 4, mixer: 's6', seed: 0 });
const logits = model.forward([[1, 2, 3, 4]]);   // [1, 4, 16]
console.log(logits.shape);
logits.dispose();
model.dispose();
\`\`\``,
  },
  {
    name: 'mixers',
    title: 'mixers',
    files: ['mixers/'],
    summary: 'the sequence mixers a MambaModel holds and their internals (Δ̄, B, C, decay)',
    intro: `The sequence mixers a \`MambaModel\` can hold (\`MambaConfig.mixer\`): S4D (fixed B, C, Δ), S6 (Mamba's
input-dependent Δ_t, B_t, C_t, Eq. 14c–14e), Mamba-2 (scalar Δ_t and a per block), Mamba-Δ⊤ (Δ along the state,
Eq. 15) and linear attention. \`MIXERS\` maps each \`MixerKind\` to its implementation; a mixer maps x̂ [B, T, d]
(after the conv) to y [B, T, d].`,
  },
  {
    name: 'tasks',
    title: 'tasks',
    files: ['tasks/'],
    namespace: 'tasks',
    summary: 'seeded KEEP n-TH, MQAR and INDUCTION HEADS generators (App. D)',
    intro: `Seeded generators of the paper's synthetic tasks (App. D): KEEP n-TH, MQAR and INDUCTION HEADS, reached as
\`tasks.keepNth(…)\` etc. (\`import { tasks } from 'ssm-core'\`). Each returns a \`TaskData\`: inputs and targets
[S, T] as flat Int32Arrays, \`IGNORE\` where no loss is taken, drawn from one \`Rng(seed)\` stream, so a seed gives the
same data on every machine.

\`\`\`ts
import { tasks } from 'ssm-core';
const data = tasks.keepNth({ n: 3, vocabSize: 16, T: 10, numSamples: 4, seed: 0 });
console.log(data.inputs.length === data.numSamples * data.T);   // true: [S, T], row-major
\`\`\``,
  },
  {
    name: 'train',
    title: 'train',
    files: ['train/'],
    summary: 'Adam, the cosine schedule, masked cross-entropy and the resumable trainer',
    intro: `Training and evaluation as in the paper's experiments: Adam with the cosine schedule of torch, masked
cross-entropy over the positions whose target is not \`IGNORE\`, a trainer with checkpoints that resume bit for
bit, early stopping, a wall-clock budget and progress hooks.

\`\`\`ts
import { MambaModel, tasks, train } from 'ssm-core';
const model = new MambaModel({ vocabSize: 16, dModel: 16, dState: 8, mixer: 's6', positionalEncoding: true });
const data = (seed: number) => tasks.keepNth({ n: 3, vocabSize: 16, T: 20, numSamples: 256, seed });
const result = await train(
  model,
  { train: data(0), val: data(1) },
  { epochs: 5, batchSize: 32, lr: 3e-3, lrMin: 1e-6, seed: 0 },
);
console.log(result.stopReason, result.final?.valAccuracy);
model.dispose();
\`\`\``,
  },
  {
    name: 'theory',
    title: 'theory',
    files: ['theory/'],
    namespace: 'theory',
    summary: 'Sec. 4 as numbers: Haar and Mamba bases, Thm. 1, Cor. 1 rates, Lem. 1–2 sensitivities, attention',
    intro: `Sec. 4 of the paper made executable, as plain numbers and arrays (\`import { theory } from 'ssm-core'\`):
Haar wavelets and the Mamba basis (Eq. 8–10, 16–18), Thm. 1's construction and its error against w_Δ, Prop. 1
(absolute time), Cor. 1's best N-term approximation rates for Haar/Mamba, Fourier/S4D and wavelets realised by a
real S6 layer, the sensitivities of Lem. 1 (S4D, S6, Mamba-2, by automatic differentiation) and Lem. 2, and
attention's O(1/t) bound (Eq. 44–45). Nothing here draws.

\`\`\`ts
import { theory } from 'ssm-core';
const r = theory.corollary1(2, { NMax: 49 });      // m = 2 discontinuities
console.log(r.mamba.fit.rate, r.mamba.predictedRate); // rate of log₂ error² per Mamba basis, and 1/(3m)
\`\`\``,
  },
  {
    name: 'constructions',
    title: 'constructions',
    files: ['constructions/'],
    namespace: 'constructions',
    summary: 'the analytic weights of Cor. 2, Prop. 1, Thm. 2–4 and Lem. 3, with exact scorers',
    intro: `The paper's analytic constructions as real weights of the ordinary block (\`import { constructions } from
'ssm-core'\`): Cor. 2 (KEEP n-TH), Prop. 1 (clock), Thm. 2 / 3 / 4 (MQAR with Mamba, Mamba-2, S4D), Lem. 3
(INDUCTION HEADS), the tightness explorer, Remark 7's adversarial input, and the scorers that check them exactly.

\`\`\`ts
import { constructions } from 'ssm-core';
const c = constructions.mqarConstruction({ mixer: 'mamba2', numKeys: 8, vocabSize: 64 });
console.log(c.dims.d, c.dims.N, c.dims.bound);   // sizes used, and the paper's bounds for them
const model = c.createModel();                   // the same weights in a fresh MambaModel
model.dispose();
c.dispose();
\`\`\``,
  },
  {
    name: 'io',
    title: 'io',
    files: ['io/'],
    summary: 'safetensors encoding and decoding, atomic file writes and capped reads',
    intro: `Weights and files: safetensors encoding and decoding (the format mamba_ssm checkpoints use, checked
strictly: header, dtypes, offsets, no NaN), and Node file helpers that write atomically (a temporary file, then a
rename) and read with a size cap. The file helpers are Node-only; \`ssm-core/browser\` leaves them out.`,
  },
  {
    name: 'backend',
    title: 'backend and flags',
    files: ['backend', 'gpu', 'policy'],
    summary: 'backend selection, GPU guards and the policy flags',
    intro: `Backend selection, the GPU guards and the policy flags. On import ssm-core picks a TensorFlow.js backend
(tfjs-node-gpu when CUDA works → WebGPU on a hardware adapter → tfjs-node → wasm → cpu; in a browser WebGL when its
package is loaded); \`await ready()\` returns the choice and why. \`tf\` is the TensorFlow.js namespace ssm-core
uses (@tensorflow/tfjs-core, with its gradients and chained tensor methods registered); use it to build
tensors. Flags (\`setFlag\`, or \`SSM_*\` environment variables) set the backend, the scan kernel and the memory
budgets.

\`\`\`ts
import { ready, setFlag } from 'ssm-core';
setFlag('SCAN_IMPL', 'tensor');   // the tf-op scan instead of the fused kernel
const info = await ready();       // { name: 'wasm', gpu: false, reason: '…', tried: […], … }
console.log(info.name, info.reason);
\`\`\``,
  },
  {
    name: 'errors',
    title: 'errors',
    files: ['errors'],
    summary: 'the typed errors (argument, expected, actual) every check throws',
    intro: `Typed errors. Every check in ssm-core throws a subclass of \`SsmError\` that names the argument at fault,
what was expected and what was got (\`err.argument\`, \`err.expected\`, \`err.actual\`), e.g.
\`B: expected [batch, dState, L] (input-dependent) = [1,8,16], got [1,8,15]\` (a \`ShapeError\`).`,
  },
  {
    name: 'random',
    title: 'random',
    files: ['random'],
    summary: 'the seeded generator behind every draw',
    intro: `The seeded generator behind every random draw in ssm-core (weights, task data, JL matrices): a seed gives
the same numbers on every machine and backend.`,
  },
];

/** An export of index.ts: its name, whether it is a value, where it is declared, whether it is internal. */
export interface PublicExport {
  name: string;
  value: boolean;
  /** Declaring file relative to packages/ssm-core/src, without extension. */
  file: string;
  /** `export * as name` of a module. */
  namespace: boolean;
  internal: boolean;
}

/** True when the statement that declares `node` carries an `@internal` tag in its leading doc comment. */
function taggedInternal(node: ts.Node): boolean {
  let n: ts.Node = node;
  while (n.parent && !ts.isSourceFile(n.parent) && !ts.isModuleBlock(n.parent)) n = n.parent;
  const text = n.getSourceFile().getFullText();
  return (ts.getLeadingCommentRanges(text, n.getFullStart()) ?? []).some((r) =>
    /^\/\*\*[\s\S]*@internal\b/.test(text.slice(r.pos, r.end)),
  );
}

/** Every export of packages/ssm-core/src/index.ts, by the TypeScript compiler. */
export function publicExports(): PublicExport[] {
  const cfg = ts.getParsedCommandLineOfConfigFile(
    join(CORE, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  const program = ts.createProgram([INDEX], { ...cfg.options, noEmit: true });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX)!)!;
  return checker.getExportsOfModule(moduleSymbol).map((sym) => {
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    const decl = target.declarations![0];
    const namespace = ts.isSourceFile(decl);
    const fileName = decl.getSourceFile().fileName;
    // `export * as x` carries its doc comment on index.ts's export statement; other exports on their declaration
    const internal = namespace
      ? (sym.declarations ?? []).some(taggedInternal)
      : (target.declarations ?? []).some(taggedInternal);
    return {
      name: sym.name,
      value: (target.flags & ts.SymbolFlags.Value) !== 0,
      file: fileName.startsWith(SRC) ? relative(SRC, fileName).replace(/\.(d\.)?ts$/, '') : fileName,
      namespace,
      internal,
    };
  });
}

/** The module page an export belongs to, or undefined. */
export function moduleOf(e: PublicExport): ApiModule | undefined {
  if (e.namespace) return MODULES.find((m) => m.namespace === e.name);
  return MODULES.find((m) => m.files.some((f) => (f.endsWith('/') ? e.file.startsWith(f) : e.file === f)));
}

/** Exports that are neither documented nor internal: `tf` (TensorFlow.js's namespace, documented by TensorFlow). */
const EXTERNAL = new Set(['tf']);

/** The entry file TypeDoc reads for one page: the intro as the module comment, the page's names from index.ts. */
function entryFile(m: ApiModule, names: PublicExport[], dir: string): string {
  const from = (file: string) => relative(dir, join(SRC, `${file}.js`)).replace(/\\/g, '/');
  const lines = [`/**`, ...m.intro.split('\n').map((l) => ` * ${l}`.trimEnd()), ` *`, ` * @module ${m.name}`, ` */`];
  if (m.namespace) {
    lines.push(`export * from '${from(`${m.namespace}/index`)}';`);
    // names index.ts exports beside the namespace that the namespace's module does not already export
    const ns = readFileSync(join(SRC, m.namespace, 'index.ts'), 'utf8');
    names = names.filter((e) => !e.namespace && !new RegExp(`\\b${e.name}\\b`).test(ns));
  }
  if (names.length)
    lines.push(
      `export { ${names.map((e) => (e.value ? e.name : `type ${e.name}`)).join(', ')} } from '${from('index')}';`,
    );
  return lines.join('\n') + '\n';
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [p];
    });
}

function inputsHash(): string {
  const h = createHash('sha256');
  for (const f of [
    join(CORE, 'tsconfig.json'),
    join(CORE, 'package.json'),
    fileURLToPath(import.meta.url),
    ...walk(SRC).filter((f) => !f.endsWith('.generated.js')),
  ]) {
    h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  // (typedoc-plugin-markdown's "exports" hide its package.json: read it from node_modules)
  for (const pkg of ['typedoc', 'typedoc-plugin-markdown'])
    h.update(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json')));
  return h.digest('hex');
}

/** Front matter for Docusaurus (title, sidebar label and position), and the index page's list of modules. */
function finishPage(rel: string, text: string): string {
  const i = MODULES.findIndex((m) => rel === `${m.name}.md`);
  if (rel === 'index.md') {
    const list = MODULES.map((m) => `- [${m.title}](./${m.name}.md): ${m.summary}`).join('\n');
    return (
      `---\ntitle: API reference\nsidebar_label: Overview\nsidebar_position: 0\nslug: /api\n---\n\n# ssm-core API reference\n\n` +
      `Everything \`import … from 'ssm-core'\` gives, one page per module. \`ssm-core/browser\`, the entry for bundlers, ` +
      `exports a part of it: the backend, flags and errors, the ops, MambaModel and the mixers, tasks and constructions. \`tf\` is TensorFlow.js's namespace (@tensorflow/tfjs-core), documented at ` +
      `https://js.tensorflow.org/api/latest/.\n\n${list}\n`
    );
  }
  if (i < 0) return text;
  const m = MODULES[i];
  // the front matter's title is the page's heading: TypeDoc's `# name` would take the id a member of the same
  // name needs (`### train()` → #train on the train page)
  return `---\ntitle: ${m.title}\nsidebar_position: ${i + 1}\n---\n\n${text.replace(/^# .*\n+/, '')}`;
}

/** Heading ids as Docusaurus assigns them (github-slugger: lower case, punctuation dropped, repeats numbered). */
function headingIds(md: string): { line: number; level: number; id: string }[] {
  const seen = new Map<string, number>();
  const out: { line: number; level: number; id: string }[] = [];
  let fenced = false;
  md.split('\n').forEach((l, line) => {
    if (l.startsWith('```')) fenced = !fenced;
    const h = !fenced && /^(#{1,6}) (.+)$/.exec(l);
    if (!h) return;
    const text = h[2]
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*]/g, '')
      .replace(/\\(.)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.push({ line, level: h[1].length, id: n ? `${base}-${n}` : base });
  });
  return out;
}

/**
 * Links to a property (`#property-x`, an `<a id>` in a table row, which Docusaurus does not count as an anchor)
 * pointed at the heading of the interface or class that holds the row.
 */
function relinkProperties(pages: Map<string, string>): void {
  const owner = new Map<string, Map<string, string>>(); // page → property anchor → heading id
  for (const [page, text] of pages) {
    const map = new Map<string, string>();
    const ids = headingIds(text);
    text.split('\n').forEach((l, line) => {
      const holder = ids.filter((h) => h.line < line && h.level <= 3).at(-1);
      for (const m of l.matchAll(/<a id="(property-[^"]+)"><\/a>/g)) if (holder) map.set(m[1], holder.id);
    });
    owner.set(page, map);
  }
  for (const [page, text] of pages)
    pages.set(
      page,
      text.replace(
        /\]\(((?:\.\/)?[\w-]+\.md)?#(property-[^)\s]+)\)/g,
        (all, file: string | undefined, anchor: string) => {
          const target = owner.get(file ? file.replace(/^\.\//, '') : page)?.get(anchor);
          return target ? `](${file ?? ''}#${target})` : all;
        },
      ),
    );
}

export interface ApiDocsOptions {
  /** Output folder (default website/docs/api). */
  out?: string;
  /** Regenerate even when the inputs are unchanged. */
  force?: boolean;
}

export function main(opts: ApiDocsOptions = {}): number {
  const out = opts.out ?? OUT;
  const t0 = Date.now();
  const hash = inputsHash();
  const stamp = out === OUT ? STAMP : join(out, '.api-docs.hash');
  if (!opts.force && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && existsSync(join(out, 'index.md'))) {
    console.log('API reference: ssm-core unchanged, kept website/docs/api/');
    return 0;
  }
  const exports = publicExports();
  const unclaimed = exports.filter((e) => !e.internal && !EXTERNAL.has(e.name) && !moduleOf(e));
  if (unclaimed.length) {
    console.error(
      `API reference: index.ts exports ${unclaimed.map((e) => `${e.name} (${e.file})`).join(', ')}, which no module ` +
        `of scripts/site/api-docs.ts (MODULES) lists: add its file to a module, or tag it @internal`,
    );
    return 1;
  }
  mkdirSync(CACHE, { recursive: true });
  const entries = mkdtempSync(join(CACHE, 'api-entries-')); // inside the repository: node_modules resolve from here
  const tmp = mkdtempSync(join(tmpdir(), 'ssm-api-'));
  try {
    const entryPoints = MODULES.map((m) => {
      const file = join(entries, `${m.name}.ts`);
      const names = exports.filter((e) => !e.internal && !EXTERNAL.has(e.name) && moduleOf(e) === m);
      writeFileSync(file, entryFile(m, names, entries));
      return file;
    });
    writeFileSync(
      join(entries, 'tsconfig.json'),
      JSON.stringify({
        extends: relative(entries, join(CORE, 'tsconfig.json')),
        compilerOptions: { rootDir: relative(entries, ROOT), noEmit: true, declaration: false, declarationMap: false },
        include: [relative(entries, SRC), '.'],
      }),
    );
    const typedoc = join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(
      process.execPath,
      [
        typedoc,
        '--plugin',
        'typedoc-plugin-markdown',
        ...entryPoints.flatMap((f) => ['--entryPoints', f]),
        '--tsconfig',
        join(entries, 'tsconfig.json'),
        '--out',
        tmp,
        '--name',
        'ssm-core',
        '--readme',
        'none',
        '--entryFileName',
        'index',
        '--outputFileStrategy',
        'modules', // one page per module, not one per symbol (~300 pages)
        '--sort',
        'source-order', // the order of each module's entry file: index.ts's order, related names together
        '--excludeExternals', // not the re-exported `tf` namespace of TensorFlow.js (~1400 pages)
        '--excludePrivate',
        '--excludeInternal',
        '--disableSources',
        '--hideBreadcrumbs',
        '--hidePageHeader',
        '--parametersFormat',
        'table',
        '--interfacePropertiesFormat',
        'table',
        '--classPropertiesFormat',
        'table',
        '--typeDeclarationFormat',
        'table',
        '--propertyMembersFormat',
        'table',
        '--sanitizeComments', // escape MDX-special characters in comments
        '--validation.invalidLink',
        '--validation.notExported',
        '--treatWarningsAsErrors',
        '--logLevel',
        'Warn',
      ],
      { cwd: ROOT, stdio: 'inherit' },
    );
    if (r.status !== 0) return r.status ?? 1;
    // sync tmp → out
    const pages = new Map(
      walk(tmp).map((f) => [relative(tmp, f), finishPage(relative(tmp, f), readFileSync(f, 'utf8'))]),
    );
    relinkProperties(pages);
    let written = 0;
    let removed = 0;
    for (const [rel, text] of pages) {
      const dst = join(out, rel);
      if (existsSync(dst) && readFileSync(dst, 'utf8') === text) continue;
      mkdirSync(dirname(dst), { recursive: true });
      writeFileSync(dst, text);
      written++;
    }
    for (const f of walk(out))
      if (!pages.has(relative(out, f)) && relative(out, f) !== '.api-docs.hash') {
        rmSync(f);
        removed++;
      }
    const prune = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (!statSync(p).isDirectory()) continue;
        prune(p);
        if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      }
    };
    prune(out);
    mkdirSync(dirname(stamp), { recursive: true });
    writeFileSync(stamp, hash);
    console.log(
      `API reference: ${pages.size} page(s), ${written} written, ${removed} removed, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(entries, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  process.exitCode = main({ force: process.argv.includes('--force') });
