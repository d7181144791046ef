/**
 * The stored notebooks (executing them is `npm run notebooks`, which CI runs): committed without
 * outputs, for the tslab kernel, importing the library by package name as a user's project would,
 * and their code type-checks against the built packages (without Jupyter).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { NOTEBOOK_DIR, storedProblems, type Notebook } from '../scripts/jupyter.js';

const files = readdirSync(NOTEBOOK_DIR)
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const load = (f: string) => JSON.parse(readFileSync(join(NOTEBOOK_DIR, f), 'utf8')) as Notebook;
const source = (s: string | string[]) => (Array.isArray(s) ? s.join('') : s);

describe('stored notebooks', () => {
  it('exist (one per chapter, at least the primer)', () => {
    expect(files).toContain('01-selectivity-primer.ipynb');
  });

  it.each(files)('%s is stored without outputs, for the tslab kernel', (f) => {
    expect(storedProblems(load(f))).toEqual([]);
  });

  it.each(files)('%s imports ssm-core by name, never from the packages/ folder', (f) => {
    const code = load(f)
      .cells.filter((c) => c.cell_type === 'code')
      .map((c) => source(c.source))
      .join('\n');
    expect(code).not.toMatch(/from ['"][./]*packages\//);
    expect(code).toMatch(/from ['"]ssm-core['"]/);
  });

  it('type-check: every code cell, against the built ssm-core / ssm-lab / ssm-plot declarations', () => {
    // one module per notebook, its cells in order; tslab's extensionless `./lib/x` imports get the ESM `.js`
    const virtual = new Map(
      files.map((f) => [
        join(NOTEBOOK_DIR, `.typecheck-${f.replace(/\.ipynb$/, '.mts')}`),
        load(f)
          .cells.filter((c) => c.cell_type === 'code')
          .map((c) => source(c.source))
          .join('\n')
          .replace(/from '\.\/lib\/([\w-]+)'/g, "from './lib/$1.js'") + '\nexport {};\n',
      ]),
    );
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
      types: ['node'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
    };
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (f) => virtual.has(f) || fileExists(f);
    host.readFile = (f) => virtual.get(f) ?? readFile(f);
    host.getSourceFile = (f, v, ...rest) =>
      virtual.has(f) ? ts.createSourceFile(f, virtual.get(f)!, v) : getSourceFile(f, v, ...rest);
    const program = ts.createProgram([...virtual.keys()], options, host);
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file
        ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
        : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(errors).toEqual([]);
  }, 60_000);
});
