/**
 * A remark plugin for Docusaurus that renders `$…$` math in the "On this page" table of contents.
 *
 * Docusaurus's TOC plugin turns each heading into an HTML string (`export const toc = [{value, id, level}]`)
 * and serialises node types it does not know by their plain text, so a heading `## The step size $\Delta_t$`
 * appears in the TOC as `The step size \Delta_t`. This plugin runs after it (it goes in `remarkPlugins`,
 * which Docusaurus applies after its own TOC plugin) and rewrites each heading entry's `value` with the
 * heading's inline math rendered by KaTeX, the same renderer rehype-katex uses for the heading itself.
 * The KaTeX stylesheet is loaded site-wide, so the TOC shows the same glyphs as the page.
 */
import katex from 'katex';

interface MdNode {
  type: string;
  value?: string;
  depth?: number;
  url?: string;
  alt?: string;
  name?: string | null;
  attributes?: { type: string; name?: string; value?: unknown }[];
  children?: MdNode[];
  data?: { id?: string; estree?: EsNode; [k: string]: unknown };
}

interface EsNode {
  type: string;
  [k: string]: unknown;
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The text of a node as mdast-util-to-string computes it (what Docusaurus falls back to). */
function plain(node: MdNode): string {
  if (typeof node.value === 'string') return node.value;
  if (typeof node.alt === 'string') return node.alt;
  return (node.children ?? []).map(plain).join('');
}

/** Inline math as KaTeX HTML (MathML included for screen readers); a TeX error keeps the source, escaped. */
export function renderInlineMath(tex: string): string {
  return katex.renderToString(tex, { displayMode: false, throwOnError: false, output: 'htmlAndMathml' });
}

/**
 * A heading's content as the HTML string Docusaurus puts in its TOC: text escaped, code, emphasis, strong,
 * deletion and JSX elements (tag and class) kept as Docusaurus keeps them, links reduced to their text,
 * and inline math rendered by KaTeX.
 */
export function headingHtml(node: MdNode): string {
  const inner = () => (node.children ?? []).map(headingHtml).join('');
  switch (node.type) {
    case 'heading':
      return inner().trim();
    case 'text':
      return escapeHtml(node.value ?? '');
    case 'inlineMath':
      return renderInlineMath(node.value ?? '');
    case 'inlineCode':
      return `<code>${escapeHtml(node.value ?? '')}</code>`;
    case 'emphasis':
      return `<em>${inner()}</em>`;
    case 'strong':
      return `<strong>${inner()}</strong>`;
    case 'delete':
      return `<del>${inner()}</del>`;
    case 'link':
      return inner();
    case 'mdxJsxTextElement': {
      if (!node.name || node.name === 'img') return '';
      const cls = node.attributes?.find(
        (a) => a.type === 'mdxJsxAttribute' && (a.name === 'className' || a.name === 'class'),
      );
      return `<${node.name}${cls ? ` class="${escapeHtml(String(cls.value))}"` : ''}>${inner()}</${node.name}>`;
    }
    default:
      return escapeHtml(plain(node));
  }
}

function hasMath(node: MdNode): boolean {
  return node.type === 'inlineMath' || (node.children ?? []).some(hasMath);
}

function walk(node: MdNode, visit: (n: MdNode) => void): void {
  visit(node);
  for (const c of node.children ?? []) walk(c, visit);
}

/** The `{value, id, level}` object literals of an `export const toc = [...]` program, if it is one. */
function tocEntries(program: EsNode | undefined): EsNode[] {
  const body = program?.body as EsNode[] | undefined;
  if (body?.length !== 1 || body[0].type !== 'ExportNamedDeclaration') return [];
  const decl = body[0].declaration as EsNode | null;
  const d = (decl?.declarations as EsNode[] | undefined)?.[0];
  if (decl?.type !== 'VariableDeclaration' || (d?.id as EsNode | undefined)?.name !== 'toc') return [];
  const init = d?.init as EsNode | undefined;
  if (init?.type !== 'ArrayExpression') return [];
  return (init.elements as EsNode[]).filter((e) => e?.type === 'ObjectExpression');
}

function property(obj: EsNode, key: string): EsNode | undefined {
  return (obj.properties as EsNode[]).find(
    (p) =>
      p.type === 'Property' &&
      ((p.key as EsNode).name === key || (p.key as EsNode).value === key) &&
      (p.value as EsNode).type === 'Literal',
  )?.value as EsNode | undefined;
}

/** The plugin: `remarkPlugins: [remarkMath, remarkTocMath]`. */
export default function remarkTocMath() {
  return (tree: MdNode): void => {
    const html = new Map<string, string>();
    walk(tree, (n) => {
      if (n.type === 'heading' && n.data?.id && hasMath(n)) html.set(n.data.id, headingHtml(n));
    });
    if (!html.size) return;
    walk(tree, (n) => {
      if (n.type !== 'mdxjsEsm') return;
      for (const entry of tocEntries(n.data?.estree)) {
        const id = property(entry, 'id')?.value;
        const value = property(entry, 'value');
        if (typeof id !== 'string' || !value || !html.has(id)) continue;
        value.value = html.get(id);
        delete value.raw; // estree-util-to-js prints `raw` when present
      }
    });
  };
}
