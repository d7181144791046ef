// The API reference (scripts/site/api-docs.ts) as a reader meets it: generated from ssm-core's sources into a
// temporary folder, then read back page by page. Checked against ssm-core's runtime exports (the built package)
// and against the TypeScript compiler's list of index.ts's exports, not against the generator's own tables only.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '@mdx-js/mdx';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ssm from 'ssm-core';
import { main, MODULES, moduleOf, publicExports, type PublicExport } from '../../scripts/site/api-docs.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
let out = '';
let pages: Record<string, string> = {};
let exportsOfIndex: PublicExport[] = [];

/** Kernel internals and helpers exported for ssm-lab and the tests, which the reference must not list. */
const INTERNALS = [
  'registerKernel',
  'unregisterKernel',
  'resolveKernel',
  'getKernel',
  'KernelKey',
  'KernelOptions',
  'wasmScanStatus',
  'fmtBytes',
  'fmtShape',
  'classifyAdapter',
  'checkTrainerState',
  'dataFingerprint',
  'TrainerSchedule',
];

beforeAll(() => {
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true }); // absent in a fresh clone
  out = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'api-docs-test-'));
  expect(main({ out, force: true })).toBe(0);
  pages = Object.fromEntries(
    readdirSync(out)
      .filter((f) => f.endsWith('.md'))
      .map((f) => [f, readFileSync(join(out, f), 'utf8')]),
  );
  exportsOfIndex = publicExports();
}, 300_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

/** Headings of a page: level and text without Markdown. */
function headings(md: string): { level: number; text: string }[] {
  let fenced = false;
  const hs: { level: number; text: string }[] = [];
  for (const line of md.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = !fenced && /^(#{1,6}) (.+)$/.exec(line);
    if (m)
      hs.push({
        level: m[1].length,
        text: m[2]
          .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
          .replace(/[`*]/g, '')
          .replace(/\\(.)/g, '$1'),
      });
  }
  return hs;
}

/**
 * The anchors Docusaurus's link checker accepts on a page: the ids of its h2–h6 headings (github-slugger: lower
 * case, punctuation dropped, repeats numbered, an h1 counted but not an anchor). `<a id>` elements in the Markdown
 * are not among them.
 */
function anchorsOf(md: string): Set<string> {
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  for (const { level, text } of headings(md)) {
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    if (level > 1) ids.add(n ? `${base}-${n}` : base);
  }
  return ids;
}

/** The prose under a `### name` heading, before its first sub-heading or the next member. */
function description(md: string, heading: string): string | undefined {
  const lines = md.split('\n');
  const i = lines.findIndex((l) => l === `### ${heading}`);
  if (i < 0) return undefined;
  const body: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (/^#{2,4} /.test(l) || l.startsWith('***')) break;
    if (!l.startsWith('>')) body.push(l); // the signature line
  }
  return body.join('\n').trim();
}

const isClass = (v: unknown) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v));

describe('the API reference', () => {
  it('has one page per module, each with a title and an introduction, and an overview linking them', () => {
    expect(Object.keys(pages).sort()).toEqual(['index.md', ...MODULES.map((m) => `${m.name}.md`)].sort());
    for (const m of MODULES) {
      const page = pages[`${m.name}.md`];
      expect(page.startsWith(`---\ntitle: ${m.title}\n`), m.name).toBe(true);
      expect(
        headings(page).filter((h) => h.level === 1),
        m.name,
      ).toEqual([]); // the title is the front matter's
      expect(page.replace(/\\([{}])/g, '$1'), m.name).toContain(m.intro.split('\n')[0]); // (MDX escapes)
      expect(pages['index.md'], m.name).toContain(`](./${m.name}.md)`);
    }
    // no page grows into the old single page of everything (≈ 92,000 px; 60 kB of Markdown is ≈ 25,000 px)
    for (const [f, text] of Object.entries(pages)) expect(text.length, f).toBeLessThan(60_000);
  });

  it('lists every public export of index.ts on its module page, and every function and class with a description', () => {
    const runtime = ssm as unknown as Record<string, unknown>;
    const internal = new Set(exportsOfIndex.filter((e) => e.internal).map((e) => e.name));
    let functions = 0;
    const check = (page: string, name: string, value: unknown) => {
      if (typeof value !== 'function') return;
      let heading = isClass(value) ? name : `${name}()`;
      let text = description(pages[page], heading);
      // an alias (`export { mqarConstruction as mqar }`) is listed as a reference to the documented original
      const original = /^Renames and re-exports \[(\w+)\]/.exec(description(pages[page], name) ?? '')?.[1];
      if (text === undefined && original) text = description(pages[page], (heading = `${original}()`));
      expect(text, `${page}: ### ${heading}`).toBeTruthy();
      expect(text!.length, `${page}: ${heading} has a one-word description`).toBeGreaterThan(15);
      functions++;
    };
    for (const e of exportsOfIndex) {
      if (e.internal || e.name === 'tf') continue;
      const m = moduleOf(e);
      expect(m, `${e.name} (${e.file}) is on no page`).toBeDefined();
      const page = `${m!.name}.md`;
      if (e.namespace) {
        for (const [k, v] of Object.entries(runtime[e.name] as Record<string, unknown>)) check(page, k, v);
        continue;
      }
      expect(
        headings(pages[page]).some((h) => h.text === e.name || h.text === `${e.name}()`),
        `${page} has no heading for ${e.name}`,
      ).toBe(true);
      if (!internal.has(e.name)) check(page, e.name, runtime[e.name]);
    }
    expect(functions).toBeGreaterThan(100);
  });

  it('documents every field of every interface and class', () => {
    const undocumented: string[] = [];
    for (const [f, text] of Object.entries(pages)) {
      for (const line of text.split('\n')) {
        const row = /^\| <a id="property-[^"]*"><\/a> `([^`]+)` \| (.*) \|$/.exec(line);
        if (!row) continue;
        // columns: [Modifier,] Type, Description[, Overrides / Inherited from]
        const cells = row[2].split(' | ').filter((c) => !/^`readonly`$/.test(c.trim()));
        if (cells.length < 2 || cells[1].trim() === '-') undocumented.push(`${f}: ${row[1]}`);
      }
    }
    expect(undocumented).toEqual([]);
  });

  it('leaves out the kernel internals, the argument checkers and TensorFlow.js itself', () => {
    const all = Object.values(pages).join('\n');
    const names = new Set(Object.values(pages).flatMap((p) => headings(p).map((h) => h.text.replace(/\(\)$/, ''))));
    for (const n of INTERNALS) {
      expect(names.has(n), n).toBe(false);
      expect(all, n).not.toMatch(new RegExp(`\\b${n}\\b`));
      // still exported for ssm-lab and the tests, tagged @internal
      expect(exportsOfIndex.find((e) => e.name === n)?.internal, n).toBe(true);
    }
    expect(pages['validate.md']).toBeUndefined();
    expect(names.has('validate')).toBe(false);
    expect(names.has('tf')).toBe(false);
  });

  it('has no broken link or anchor, and every page compiles as MDX', async () => {
    const broken: string[] = [];
    const anchors = Object.fromEntries(Object.entries(pages).map(([f, t]) => [f, anchorsOf(t)]));
    let links = 0;
    for (const [f, text] of Object.entries(pages)) {
      for (const m of text.replace(/```[\s\S]*?```/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^https?:/.test(target)) continue;
        links++;
        const [file, anchor] = target.split('#');
        const page = file ? file.replace(/^\.\//, '') : f;
        if (!pages[page]) broken.push(`${f}: ${target} (no page ${page})`);
        else if (anchor !== undefined && !anchors[page].has(anchor)) broken.push(`${f}: ${target} (no anchor)`);
      }
      await compile(text.replace(/^---\n[\s\S]*?\n---\n/, ''));
    }
    expect(broken).toEqual([]);
    expect(links).toBeGreaterThan(200);
  });

  it("the modules' examples type-check strictly against the built package", () => {
    mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'api-examples-'));
    try {
      mkdirSync(dir, { recursive: true });
      const files = MODULES.flatMap((m) =>
        [...m.intro.matchAll(/```ts\n([\s\S]*?)```/g)].map((x, i) => {
          const f = join(dir, `${m.name}-${i}.mts`);
          writeFileSync(f, `${x[1]}\nexport {};\n`);
          return f;
        }),
      );
      expect(files.length).toBeGreaterThanOrEqual(7);
      const program = ts.createProgram(files, {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      });
      const errors = ts
        .getPreEmitDiagnostics(program)
        .map(
          (d) =>
            `${d.file ? `${d.file.fileName.slice(dir.length + 1)}: ` : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
        );
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
