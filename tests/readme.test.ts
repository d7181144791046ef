// The README's numbers that come from a recorded run (a `<!-- recorded: FILE -->` … `<!-- /recorded -->` block)
// must be in that file: its table lines verbatim, and every other number (a goal written as "≤ N" / "≥ N" aside).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/<!-- recorded: (\S+) -->\n([\s\S]*?)<!-- \/recorded -->/g)].map((m) => ({
  file: m[1],
  text: m[2],
}));

describe('README blocks quoted from recorded runs', () => {
  it('there is at least one (the GPU benchmark)', () => {
    expect(blocks.map((b) => b.file)).toContain('packages/ssm-core/bench/recorded/h200-2026-11-26.md');
  });

  for (const { file, text } of blocks)
    it(`${file}: table lines verbatim, every other number present`, () => {
      const recorded = readFileSync(join(root, file), 'utf8');
      const lines = text.split('\n');
      const table = lines.filter((l) => l.startsWith('|'));
      for (const line of table) expect(recorded, 'table line').toContain(line);
      const prose = lines
        .filter((l) => !l.startsWith('|'))
        .join('\n')
        .replace(/[≤≥] \d+(\.\d+)?/g, ''); // goals
      const numbers = prose.match(/\d+(?:[.,]\d+)*/g) ?? [];
      expect(table.length + numbers.length, 'a block that quotes something').toBeGreaterThan(3);
      for (const n of numbers)
        expect(recorded, `number ${n}`).toMatch(new RegExp(`(^|[^\\d.])${n.replace(/\./g, '\\.')}($|[^\\d])`));
    });
});
