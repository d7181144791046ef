// Notebook → MDX converter (scripts/site/notebooks-to-mdx.ts): synthetic notebooks in, MDX out.
// The MDX is also compiled with @mdx-js/mdx + remark-math (what Docusaurus uses), so "escaped properly"
// means "compiles, and the text survives", not just "contains backslashes".
import { describe, expect, it } from 'vitest';
import { compile } from '@mdx-js/mdx';
import remarkMath from 'remark-math';
import { setDisplaySink, show, type DisplayMessage } from 'ssm-plot';
import {
  convertNotebook,
  downloadCopy,
  fence,
  type NbCell,
  type Notebook,
} from '../../scripts/site/notebooks-to-mdx.js';
import { cleanTerminalText, escapeMarkdown, jsString, plainText } from '../../scripts/site/mdx.js';

const md = (source: string): NbCell => ({ cell_type: 'markdown', source, metadata: {} });
const code = (source: string, outputs: NbCell['outputs'] = []): NbCell => ({
  cell_type: 'code',
  source,
  outputs,
  metadata: {},
  execution_count: 1,
});
const nb = (...cells: NbCell[]): Notebook => ({
  cells,
  metadata: { kernelspec: { name: 'tslab', language: 'typescript' } },
  nbformat: 4,
});

/** Compile MDX the way Docusaurus does (MDX 3 + remark-math); throws on syntax errors. */
async function compiles(mdx: string): Promise<string> {
  const body = mdx.replace(/^---\n[\s\S]*?\n---\n/, ''); // front matter is parsed by Docusaurus, not MDX
  return String(await compile(body, { remarkPlugins: [remarkMath] }));
}

describe('escapeMarkdown', () => {
  it('escapes braces, stray < and leaves > alone', () => {
    expect(escapeMarkdown('a {b} < c > d')).toBe('a \\{b\\} \\< c > d');
  });

  it('keeps inline and display math verbatim', () => {
    const s = 'Let $\\frac{a}{b} < 1$ and\n\n$$\nh_t = \\Lambda_t h_{t-1} + \\{x\\}\n$$\n\nthen $$x^{2}$$ too.';
    expect(escapeMarkdown(s)).toBe(s);
  });

  it('keeps code spans and fenced code verbatim', () => {
    const s = 'Use `f({x: 1} < 2)` or\n\n```ts\nconst o = { a: 1 } as Record<string, number>;\n```\n\nafter {x}';
    expect(escapeMarkdown(s)).toBe(
      'Use `f({x: 1} < 2)` or\n\n```ts\nconst o = { a: 1 } as Record<string, number>;\n```\n\nafter \\{x\\}',
    );
  });

  it('keeps an escaped dollar and an unclosed one as text', () => {
    expect(escapeMarkdown('costs \\$5 {each}')).toBe('costs \\$5 \\{each\\}');
    expect(escapeMarkdown('a lone $ sign')).toBe('a lone \\$ sign');
  });

  it('keeps simple inline tags, normalises <br>, drops comments, converts autolinks', () => {
    expect(escapeMarkdown('x<sub>t</sub><br>y <!-- note --> <https://example.com/a_b>')).toBe(
      'x<sub>t</sub><br />y  [https://example.com/a\\_b](https://example.com/a_b)',
    );
    expect(escapeMarkdown('<div style="color:red">x</div>')).toBe('\\<div style="color:red">x\\</div>');
  });

  it('defuses import/export at the start of a line', () => {
    expect(escapeMarkdown('import the data\nexport it')).toBe('&#105;mport the data\n&#101;xport it');
    expect(escapeMarkdown('we import it')).toBe('we import it');
  });
});

describe('helpers', () => {
  it('jsString is a JS string literal without braces or angle brackets', () => {
    const s = 'a {b} <c> "d" \\ \u2028';
    const lit = jsString(s);
    expect(lit).not.toMatch(/[{}<>\u2028]/);
    expect(JSON.parse(lit)).toBe(s);
  });

  it('cleanTerminalText strips ANSI codes and resolves carriage returns', () => {
    expect(cleanTerminalText('\x1b[31mError\x1b[0m: x\n 10%\r 50%\r100%\ndone')).toBe('Error: x\n100%\ndone');
  });

  it('fence is longer than any backtick run in the code', () => {
    expect(fence('a ``` b', 'ts')).toBe('````ts\na ``` b\n````');
  });

  it('plainText removes math delimiters and markup', () => {
    expect(plainText('04 · KEEP $n$-TH: **Tab. 1** and `code`')).toBe('04 · KEEP n-TH: Tab. 1 and code');
  });
});

describe('convertNotebook', () => {
  it('marks a page built from a stored (unexecuted) notebook, and still compiles', async () => {
    const stored = nb(md('# 09 · Stored\n\nProse.'), code('const x = 1;'));
    const page = convertNotebook(stored, { name: '09-stored', executed: false }).mdx;
    expect(page).toContain('executed={false}');
    expect(convertNotebook(stored, { name: '09-stored' }).mdx).not.toContain('executed={false}');
    await compiles(page);
  });

  const notebook = nb(
    md(
      '# 07 · A test: $\\Delta_t$ and {braces}\n\nThe first paragraph, with $x < y$.\n\n## Section\n\nMore <text> and {x}.',
    ),
    code('const o = { a: 1 };\nconsole.log(`${o.a} < 2`);', [
      { output_type: 'stream', name: 'stdout', text: ['1 < 2 {ok}\n', 'second </div> line\n'] },
      { output_type: 'stream', name: 'stdout', text: 'merged\n' },
      { output_type: 'stream', name: 'stderr', text: '\x1b[33mwarn\x1b[0m\n' },
    ]),
    code('show(fig)', [
      {
        output_type: 'display_data',
        data: {
          'application/vnd.plotly.v1+json': {
            data: [{ type: 'scatter', x: [1, 2], y: [3, 4] }],
            layout: { title: { text: 'Δ<sub>t</sub> {x}' } },
          },
          'text/html': '<div>fallback</div><script>draw()</script>',
          'text/plain': '[Plotly figure] Δt {x}',
        },
        metadata: {},
      },
    ]),
    code('img', [
      { output_type: 'display_data', data: { 'image/png': 'iVBORw0KGgo=\n', 'text/plain': '<Figure>' }, metadata: {} },
    ]),
    code('table', [
      { output_type: 'display_data', data: { 'text/markdown': '| a | b |\n|---|---|\n| {1} | <2 |' }, metadata: {} },
    ]),
    code('html', [
      { output_type: 'display_data', data: { 'text/html': '<table><tr><td>{x}</td></tr></table>' }, metadata: {} },
    ]),
    code('1 + 1', [
      { output_type: 'execute_result', data: { 'text/plain': '2' }, metadata: {}, execution_count: 5 } as never,
    ]),
    code('throw new Error("x")', [
      {
        output_type: 'error',
        ename: 'Error',
        evalue: 'x',
        traceback: ['\x1b[31mError: x {at} <anon>\x1b[0m', '    at f'],
      },
    ]),
    {
      ...code('secret()', [{ output_type: 'stream', name: 'stdout', text: 'hidden\n' }]),
      metadata: { tags: ['remove-cell'] },
    },
    {
      ...code('quiet()', [{ output_type: 'stream', name: 'stdout', text: 'no output shown\n' }]),
      metadata: { tags: ['remove-output'] },
    },
    md('<!-- a comment -->\nimport this line\n\n```ts\nconst x = {y};\n```'),
  );
  const r = convertNotebook(notebook, { name: '07-test', quick: true });

  it('writes front matter from the first heading', () => {
    expect(r.title).toBe('07 · A test: Δt and {braces}');
    expect(r.sidebarLabel).toBe('07 · A test');
    expect(r.mdx).toMatch(
      /^---\ntitle: "07 · A test: Δt and \{braces\}"\nsidebar_label: "07 · A test"\nsidebar_position: 7\n/,
    );
    expect(r.mdx).toContain('description: "The first paragraph, with x < y."');
    expect(r.mdx).toContain('slug: "/chapters/07-test"');
  });

  it('keeps the heading with its math, then the notebook header with the download link', () => {
    expect(r.mdx).toContain(
      '# 07 · A test: $\\Delta_t$ and \\{braces\\}\n\n<NotebookHeader notebook="07-test.ipynb" quick={true} ok={true} />',
    );
    expect(r.mdx).toContain('More \\<text> and \\{x\\}.');
  });

  it('turns code cells into highlighted code blocks, verbatim', () => {
    expect(r.mdx).toContain('```ts\nconst o = { a: 1 };\nconsole.log(`${o.a} < 2`);\n```');
  });

  it('merges streams and escapes text outputs into string props', () => {
    expect(r.mdx).toContain(
      '<NotebookOutput kind="stdout" text={"1 \\u003c 2 \\u007bok\\u007d\\nsecond \\u003c/div\\u003e line\\nmerged"} />',
    );
    expect(r.mdx).toContain('<NotebookOutput kind="stderr" text={"warn"} />');
    expect(r.mdx).toContain('<NotebookOutput kind="result" text={"2"} />');
    expect(r.mdx).toMatch(
      /<NotebookOutput kind="error" text=\{"Error: x \\u007bat\\u007d \\u003canon\\u003e\\n {4}at f"\} \/>/,
    );
  });

  it('renders Plotly outputs as PlotlyFigure with the spec in a JSON file', () => {
    expect(r.figures).toBe(1);
    expect(r.mdx).toContain("import fig1 from './_figures/07-test/fig-1.json';");
    expect(r.mdx).toContain(
      '<PlotlyFigure figure={fig1} alt={"[Plotly figure] \\u0394t \\u007bx\\u007d"} />'.replace('\\u0394', 'Δ'),
    );
    const spec = JSON.parse(String(r.assets.find((a) => a.path === '_figures/07-test/fig-1.json')!.content));
    expect(spec.layout.title.text).toBe('Δ<sub>t</sub> {x}');
    expect(r.mdx).not.toContain('draw()'); // the HTML fallback is not used when the JSON is there
  });

  it('keeps images as files next to the page', () => {
    const img = r.assets.find((a) => a.path === '_assets/07-test/out-1.png')!;
    expect(Buffer.isBuffer(img.content)).toBe(true);
    expect(r.mdx).toContain('![Figure](./_assets/07-test/out-1.png)');
  });

  it('escapes markdown and wraps HTML outputs', () => {
    expect(r.mdx).toContain('| a | b |\n|---|---|\n| \\{1\\} | \\<2 |');
    expect(r.mdx).toContain('<NotebookHtml html={"\\u003ctable\\u003e\\u003ctr\\u003e\\u003ctd\\u003e\\u007bx\\u007d');
  });

  it('honours remove-cell and remove-output tags', () => {
    expect(r.mdx).not.toContain('secret()');
    expect(r.mdx).not.toContain('hidden');
    expect(r.mdx).toContain('quiet()');
    expect(r.mdx).not.toContain('no output shown');
  });

  it('drops HTML comments and defuses import lines in markdown', () => {
    expect(r.mdx).not.toContain('a comment');
    expect(r.mdx).toContain('&#105;mport this line');
    expect(r.mdx).toContain('```ts\nconst x = {y};\n```');
  });

  it('produces MDX that compiles, with math intact', async () => {
    const js = await compiles(r.mdx);
    expect(js).toContain('math-inline');
    expect(js).toContain('\\\\Delta_t');
    expect(js).toContain('x < y');
  });

  it('a notebook without a heading still gets a title and header; failures get a banner', async () => {
    const r2 = convertNotebook(nb(code('1', [{ output_type: 'stream', name: 'stdout', text: '1\n' }])), {
      name: '09-no-title',
      ok: false,
    });
    expect(r2.title).toBe('no title');
    expect(r2.mdx).toContain('<NotebookHeader notebook="09-no-title.ipynb" quick={false} ok={false} />');
    await compiles(r2.mdx);
  });

  it('compiles hostile markdown', async () => {
    const hostile = nb(
      md(
        '# T\n\n{ } < > <b>bold</b> <3 a<b x{y}z\n\n$\\{a\\} < \\left\\{ b \\right.$\n\n' +
          '$$\n\\begin{cases} 1 & x<0 \\\\ 0 & x \\ge 0 \\end{cases}\n$$\n\nexport default 1\n\n<br>',
      ),
    );
    await compiles(convertNotebook(hostile, { name: '10-hostile' }).mdx);
  });
});

describe('display math', () => {
  it('puts $$ fences on their own lines (Jupyter allows $$a … b$$ inside a paragraph, remark-math does not)', () => {
    expect(escapeMarkdown('as (Eq. 3)\n\n$$h_t = a,\n  y_t = b.$$\n\nBelow')).toBe(
      'as (Eq. 3)\n\n$$\nh_t = a,\n  y_t = b.\n$$\n\nBelow',
    );
    expect(escapeMarkdown('text\n$$x^{2}$$ then more')).toBe('text\n\n$$\nx^{2}\n$$\n\n then more');
    expect(escapeMarkdown('$$\nx\n$$\nnext')).toBe('$$\nx\n$$\n\nnext');
    expect(escapeMarkdown('inline $$x$$ stays')).toBe('inline $$x$$ stays');
  });

  it('compiles to display math', async () => {
    const js = await compiles(
      convertNotebook(nb(md('# T\n\nsee\n$$a_{t} = \\{b\\},\n c < d.$$ and more')), { name: '11-math' }).mdx,
    );
    expect(js).toContain('math-display');
    expect(js).toContain('a_{t} = \\\\{b\\\\},\\n c < d.');
  });
});

describe("ssm-plot's plotly.js loader", () => {
  it('is left out of the page: the figures are drawn from their JSON with the site’s own plotly.js', () => {
    const sent: DisplayMessage[] = [];
    setDisplaySink((m) => sent.push(m));
    try {
      show({ data: [{ type: 'scatter', y: [1, 2] }], layout: { title: 'one' } });
      show({ data: [{ type: 'bar', y: [3] }], layout: { title: 'two' } });
    } finally {
      setDisplaySink(undefined);
    }
    expect(sent).toHaveLength(3); // loader, figure, figure
    const outputs = sent.map((m) => ({ output_type: 'display_data' as const, data: m.data, metadata: m.metadata }));
    const r = convertNotebook(nb(md('# Loader'), code('show(a); show(b)', outputs)), { name: '12-loader' });
    expect(r.figures).toBe(2);
    expect(r.mdx).not.toContain('NotebookHtml html=');
    expect(r.mdx.length).toBeLessThan(5000); // not the 4.8 MB of plotly.js
  });

  it('is left out of the downloadable copy, every other output kept; a notebook without one is returned as it is', () => {
    const sent: DisplayMessage[] = [];
    setDisplaySink((m) => sent.push(m));
    try {
      show({ data: [{ type: 'scatter', y: [1, 2] }], layout: { title: 'one' } });
    } finally {
      setDisplaySink(undefined);
    }
    const outputs = sent.map((m) => ({ output_type: 'display_data' as const, data: m.data, metadata: m.metadata }));
    const withLoader = nb(md('# Loader'), code('show(a)', outputs));
    const bytes = Buffer.from(JSON.stringify(withLoader, null, 1) + '\n');
    const copy = JSON.parse(downloadCopy(bytes).toString('utf8')) as Notebook;
    expect(copy.cells[1].outputs).toEqual([outputs[1]]); // the figure stays, the loader goes
    expect(downloadCopy(bytes).length).toBeLessThan(bytes.length / 100);
    const plain = Buffer.from(JSON.stringify(nb(md('# None'), code('1', [outputs[1]])), null, 1) + '\n');
    expect(downloadCopy(plain)).toBe(plain);
  });
});
