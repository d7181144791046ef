/**
 * Escaping for MDX 3 (what Docusaurus 3 compiles docs with).
 *
 * Markdown written for Jupyter is CommonMark + `$…$` math; MDX reads `{…}` as JavaScript expressions,
 * `<…>` as JSX, and `import`/`export` at the start of a line as ES modules, so ordinary prose such as
 * `a < b`, `{x}` or an HTML comment breaks the page build. `escapeMarkdown` escapes exactly those
 * characters in the prose and leaves alone what remark parses itself: fenced code, code spans, and
 * `$…$` / `$$…$$` math (remark-math claims the math before MDX sees braces, so LaTeX stays intact).
 */

/** Inline HTML tags Jupyter markdown commonly uses that are also valid JSX without attributes. */
const SAFE_TAGS = new Set([
  'sub',
  'sup',
  'b',
  'i',
  'em',
  'strong',
  'kbd',
  'small',
  'u',
  's',
  'code',
  'br',
  'hr',
  'p',
  'details',
  'summary',
  'center',
]);
const VOID_TAGS = new Set(['br', 'hr']);

/**
 * A JavaScript string literal that is safe inside an MDX JSX attribute expression `{…}`: JSON, with
 * braces and angle brackets (and the line separators U+2028/2029) written as `\uXXXX` escapes so no
 * MDX tokenizer can mistake them for syntax.
 */
export function jsString(s: string): string {
  return JSON.stringify(s).replace(/[{}<>\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Strip ANSI colour/cursor codes (tracebacks, progress bars) and resolve carriage returns per line. */
export function cleanTerminalText(s: string): string {
  // eslint-disable-next-line no-control-regex
  const noAnsi = s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b\][^\x07]*\x07/g, '');
  return noAnsi
    .split('\n')
    .map((line) => {
      const parts = line.split('\r');
      // "abc\r" keeps abc (a trailing \r before \n); "12%\r50%" keeps 50%
      const last = parts.filter((p, i) => p.length > 0 || i === 0).pop() ?? '';
      return last;
    })
    .join('\n');
}

function escapeHtmlish(s: string, i: number): { out: string; len: number } | null {
  const rest = s.slice(i);
  const comment = /^<!--[\s\S]*?-->/.exec(rest);
  if (comment) return { out: '', len: comment[0].length };
  const autolink = /^<((?:https?|mailto|ftp):[^\s<>]+)>/i.exec(rest);
  if (autolink) {
    const url = autolink[1];
    const text = url.replace(/[\\[\]{}<>*_`$]/g, (c) => `\\${c}`);
    return { out: `[${text}](${url.replace(/[()\s{}<>]/g, encodeURIComponent)})`, len: autolink[0].length };
  }
  const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9]*)\s*(\/?)>/.exec(rest);
  if (tag && SAFE_TAGS.has(tag[2].toLowerCase())) {
    const name = tag[2].toLowerCase();
    if (VOID_TAGS.has(name))
      return tag[1] ? { out: '', len: tag[0].length } : { out: `<${name} />`, len: tag[0].length };
    return { out: `<${tag[1]}${name}${tag[3] ? ' /' : ''}>`, len: tag[0].length };
  }
  return null;
}

/** Length of the math span starting at `i` (a run of `$`), or 0 if it is not closed in this paragraph. */
function mathSpan(s: string, i: number): number {
  let n = 0;
  while (s[i + n] === '$') n++;
  const fence = '$'.repeat(n);
  let j = i + n;
  while (j < s.length) {
    if (s[j] === '\\') {
      j += 2;
      continue;
    }
    if (n === 1 && s.startsWith('\n\n', j)) return 0; // inline math does not cross paragraphs
    if (s.startsWith(fence, j) && s[j + n] !== '$') return j + n - i;
    if (s[j] === '$') {
      while (s[j] === '$') j++;
      continue;
    }
    j++;
  }
  return 0;
}

/** Length of the code span starting at `i` (a run of backticks), or 0 if unmatched. */
function codeSpan(s: string, i: number): number {
  let n = 0;
  while (s[i + n] === '`') n++;
  const re = new RegExp(`(?<!\`)\`{${n}}(?!\`)`, 'g');
  re.lastIndex = i + n;
  const m = re.exec(s);
  return m ? m.index + n - i : 0;
}

/**
 * Escape Jupyter markdown for MDX: `{`, `}` and stray `<` become `\{`, `\}`, `\<`; `<url>` autolinks
 * become links; HTML comments are dropped; a few attribute-free inline tags (`<sub>`, `<br>`, …) are
 * kept as JSX; `import`/`export` at a line start are defused. Code (fenced and inline) and math are
 * copied verbatim.
 */
export function escapeMarkdown(md: string): string {
  const s = md.replace(/\r\n?/g, '\n');
  let out = '';
  let i = 0;
  let lineStart = true;
  while (i < s.length) {
    if (lineStart) {
      // fenced code block: copy through the closing fence
      const fence = /^( {0,3})(`{3,}|~{3,})[^\n]*/.exec(s.slice(i));
      if (fence && !(fence[2][0] === '`' && fence[0].slice(fence[1].length + fence[2].length).includes('`'))) {
        const ch = fence[2][0];
        const close = new RegExp(`^ {0,3}\\${ch}{${fence[2].length},}[ \\t]*$`);
        const lines = s.slice(i).split('\n');
        let k = 1;
        while (k < lines.length && !close.test(lines[k])) k++;
        const block = lines.slice(0, Math.min(k + 1, lines.length)).join('\n');
        out += block;
        i += block.length;
        lineStart = false;
        continue;
      }
      const esm = /^(import|export)\b/.exec(s.slice(i));
      if (esm) {
        out += `&#${esm[1].charCodeAt(0)};${esm[1].slice(1)}`;
        i += esm[1].length;
        lineStart = false;
        continue;
      }
    }
    const c = s[i];
    lineStart = c === '\n';
    if (c === '\\' && i + 1 < s.length) {
      out += s.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '`') {
      const len = codeSpan(s, i);
      if (len) {
        out += s.slice(i, i + len);
        i += len;
        continue;
      }
      let n = 0;
      while (s[i + n] === '`') n++;
      out += '\\`'.repeat(n);
      i += n;
      continue;
    }
    if (c === '$') {
      const len = mathSpan(s, i);
      const lineSoFar = out.slice(out.lastIndexOf('\n') + 1);
      if (len && s.startsWith('$$', i) && s[i + 2] !== '$' && lineSoFar.trim() === '') {
        // Display math opening a line. Jupyter (MathJax) accepts `$$a\n b$$` anywhere; remark-math only
        // treats `$$` as display math when the fences sit on their own lines, so put them there.
        const inner = s.slice(i + 2, i + len - 2).trim();
        const before = out.slice(0, out.length - lineSoFar.length).replace(/\n*$/, '');
        out = `${before}${before ? '\n\n' : ''}${lineSoFar}$$\n${inner}\n${lineSoFar}$$`;
        i += len;
        const restOfLine = /^[^\n]*/.exec(s.slice(i))![0];
        if (restOfLine.trim()) out += '\n\n';
        else {
          out += restOfLine;
          i += restOfLine.length;
          if (s[i] === '\n' && s[i + 1] !== '\n' && i + 1 < s.length) out += '\n';
        }
        lineStart = false;
        continue;
      }
      if (len) {
        out += s.slice(i, i + len);
        i += len;
        continue;
      }
      out += '\\$';
      i++;
      continue;
    }
    if (c === '{' || c === '}') {
      out += `\\${c}`;
      i++;
      continue;
    }
    if (c === '<') {
      const html = escapeHtmlish(s, i);
      if (html) {
        out += html.out;
        i += html.len;
        continue;
      }
      out += '\\<';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

const GREEK =
  'alpha α beta β gamma γ delta δ epsilon ε zeta ζ eta η theta θ iota ι kappa κ lambda λ mu μ nu ν xi ξ pi π ' +
  'rho ρ sigma σ tau τ phi φ chi χ psi ψ omega ω Gamma Γ Delta Δ Theta Θ Lambda Λ Xi Ξ Pi Π Sigma Σ Phi Φ Psi Ψ Omega Ω';
const TEX_SYMBOLS: Record<string, string> = {
  ...Object.fromEntries(
    GREEK.split(' ').reduce<string[][]>((acc, w, i, a) => (i % 2 ? acc : [...acc, [w, a[i + 1]]]), []),
  ),
  top: '⊤',
  dots: '…',
  ldots: '…',
  cdot: '·',
  times: '×',
  le: '≤',
  ge: '≥',
  leq: '≤',
  geq: '≥',
  to: '→',
  infty: '∞',
};

/** Plain text of a markdown heading or paragraph: math delimiters, emphasis and code marks removed. */
export function plainText(md: string): string {
  return md
    .replace(/\$+([^$]*)\$+/g, (_, m: string) =>
      m.replace(/\\([a-zA-Z]+)\s*/g, (_c, name: string) => TEX_SYMBOLS[name] ?? '').replace(/[{}^_\\]/g, ''),
    )
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*`]/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
