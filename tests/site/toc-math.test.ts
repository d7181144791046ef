// The "On this page" TOC of a heading with math (scripts/site/remark-toc-math.ts): MDX compiled with the
// plugins Docusaurus runs (remark-math, Docusaurus's own heading-id and TOC plugins, then ours), the exported
// `toc` evaluated, and its HTML compared with KaTeX's rendering of the same TeX.
import { createRequire } from 'node:module';
import { compile, run } from '@mdx-js/mdx';
import katex from 'katex';
import * as runtime from 'react/jsx-runtime';
import remarkMath from 'remark-math';
import { describe, expect, it } from 'vitest';
import remarkTocMath, { headingHtml } from '../../scripts/site/remark-toc-math.js';

const require = createRequire(import.meta.url);
type Plugin = (options?: unknown) => unknown;
const docusaurus = (name: string): Plugin => require(`@docusaurus/mdx-loader/lib/remark/${name}`).default as Plugin;

interface TocItem {
  value: string;
  id: string;
  level: number;
}

async function tocOf(mdx: string, withPlugin = true): Promise<TocItem[]> {
  const code = await compile(mdx, {
    outputFormat: 'function-body',
    remarkPlugins: [
      remarkMath,
      [docusaurus('headings'), { anchorsMaintainCase: false }],
      docusaurus('toc'),
      ...(withPlugin ? [remarkTocMath] : []),
    ] as never,
  });
  const mod = (await run(String(code), { ...runtime, baseUrl: import.meta.url })) as unknown as { toc: TocItem[] };
  return mod.toc;
}

/** What a reader sees of a TOC entry: its HTML without KaTeX's MathML twin (visually hidden) and without tags. */
const visibleText = (html: string) =>
  html
    .replace(/<span class="katex-mathml">[\s\S]*?<\/math><\/span>/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/&[#\w]+;/g, ' ');

describe('TOC entries of headings with math', () => {
  const page =
    '# Title\n\n## The step size $\\Delta_t$\n\ntext\n\n## How fast: error as $w_\\Delta \\to -\\infty$\n\n## Plain *heading* `code`\n';

  it('without the plugin, Docusaurus writes the raw TeX (what the plugin fixes)', async () => {
    const toc = await tocOf(page, false);
    expect(toc.map((t) => t.value)).toContain('The step size \\Delta_t');
  });

  it('renders the math with KaTeX, keeps ids and levels, leaves headings without math alone', async () => {
    const plain = await tocOf(page, false);
    const toc = await tocOf(page);
    expect(toc.map((t) => [t.id, t.level])).toEqual(plain.map((t) => [t.id, t.level]));
    expect(toc[0].value).toBe(
      'The step size ' + katex.renderToString('\\Delta_t', { throwOnError: false, output: 'htmlAndMathml' }),
    );
    expect(toc[1].value).toContain(katex.renderToString('w_\\Delta \\to -\\infty', { output: 'htmlAndMathml' }));
    expect(toc[2]).toEqual(plain[2]);
    for (const t of toc) expect(visibleText(t.value), t.value).not.toMatch(/\\[A-Za-z]+|\$/);
  });

  it('escapes text and keeps code, emphasis and strong as Docusaurus does', () => {
    const h = {
      type: 'heading',
      depth: 2,
      children: [
        { type: 'text', value: 'a < b & ' },
        { type: 'inlineCode', value: '<x>' },
        { type: 'emphasis', children: [{ type: 'text', value: 'e' }] },
        { type: 'strong', children: [{ type: 'text', value: 's' }] },
        { type: 'inlineMath', value: '\\kappa' },
      ],
    };
    expect(headingHtml(h)).toBe(
      `a &lt; b &amp; <code>&lt;x&gt;</code><em>e</em><strong>s</strong>${katex.renderToString('\\kappa', { output: 'htmlAndMathml' })}`,
    );
  });

  it('a TeX error shows the source, not a crash', () => {
    const html = headingHtml({ type: 'heading', children: [{ type: 'inlineMath', value: '\\frac{' }] });
    expect(html).toContain('katex-error');
  });
});
