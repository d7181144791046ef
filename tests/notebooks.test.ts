/**
 * The stored notebooks (executing them is `npm run notebooks`, which CI runs): committed without
 * outputs, for the tslab kernel, importing the library by package name as a user's project would,
 * and their code type-checks against the built packages (without Jupyter). A notebook saved from
 * Jupyter comes back to its stored form (what `npm run notebooks` executes and `--strip` writes).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import {
  approxTime,
  MEASURED_SECONDS,
  notebookCosts,
  normalizeStored,
  NOTEBOOK_DIR,
  notebookText,
  ROOT,
  storedProblems,
  type Notebook,
} from '../scripts/jupyter.js';

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

  it.each(files)('%s is written as nbformat writes it, so a Jupyter save and --strip leave no diff', (f) => {
    const text = readFileSync(join(NOTEBOOK_DIR, f), 'utf8');
    expect(text === notebookText(JSON.parse(text) as Notebook), `${f}: run npm run notebooks -- --strip`).toBe(true);
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

/** What saving from JupyterLab adds to a notebook: outputs, counts, run times, ids (nbformat 4.5), the kernel's info. */
function savedFromJupyter(nb: Notebook): Notebook {
  const saved = structuredClone(nb);
  saved.nbformat_minor = 5;
  saved.metadata.language_info = {
    ...(saved.metadata.language_info as Record<string, unknown>),
    codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
    version: '3.7.2',
  };
  saved.metadata.signature = 'sha256:0';
  saved.cells.forEach((c, i) => {
    c.id = `cell-${i}`;
    c.metadata = { ...c.metadata, trusted: true, scrolled: true, jupyter: { source_hidden: false } };
    if (c.cell_type !== 'code') return;
    c.execution_count = i + 1;
    c.metadata.execution = { 'iopub.status.busy': '2026-01-01T00:00:00Z' };
    c.outputs = [{ output_type: 'display_data', data: { 'text/plain': 'x' } }];
  });
  return saved;
}

describe('notebooks saved from Jupyter', () => {
  it.each(files)(
    '%s comes back to its stored form: outputs, ids, run times and the kernel info go, sources stay',
    (f) => {
      const stored = load(f);
      const saved = savedFromJupyter(stored);
      expect(storedProblems(saved).length).toBeGreaterThan(0);
      const back = normalizeStored(saved);
      expect(back).toEqual(stored);
      expect(storedProblems(back)).toEqual([]);
      expect(notebookText(back)).toBe(notebookText(stored));
    },
  );

  it('a notebook whose outputs were removed but whose metadata Jupyter changed is not in its stored form', () => {
    const nb = load(files[0]);
    nb.metadata.language_info = { ...(nb.metadata.language_info as Record<string, unknown>), version: '3.7.2' };
    expect(storedProblems(nb)).toEqual([expect.stringMatching(/metadata, cell ids or nbformat version/)]);
  });

  it('keeps tags and cell metadata that are not front-end state', () => {
    const nb = load(files[0]);
    nb.cells[0].metadata = { tags: ['remove-input'], slideshow: { slide_type: 'slide' }, ExecuteTime: {} };
    expect(normalizeStored(nb).cells[0].metadata).toEqual({
      tags: ['remove-input'],
      slideshow: { slide_type: 'slide' },
    });
  });

  it('writes the file as nbformat does (keys sorted, one-space indent, non-ASCII as is, final newline)', () => {
    const nb = { cells: [], metadata: { b: 'Δ', a: [1, { d: 1, c: 2 }] }, nbformat: 4, nbformat_minor: 4 };
    expect(notebookText(nb as Notebook)).toBe(
      '{\n "cells": [],\n "metadata": {\n  "a": [\n   1,\n   {\n    "c": 2,\n    "d": 1\n   }\n  ],\n  "b": "Δ"\n },\n "nbformat": 4,\n "nbformat_minor": 4\n}\n',
    );
  });

  it("git ignores Jupyter's checkpoints next to the notebooks and their helpers", () => {
    for (const p of [
      'notebooks/.ipynb_checkpoints/01-x-checkpoint.ipynb',
      'notebooks/lib/.ipynb_checkpoints/a-checkpoint.ts',
    ]) {
      expect(spawnSync('git', ['check-ignore', '-q', '--no-index', p], { cwd: ROOT }).status, p).toBe(0);
    }
  });
});

describe('what npm run lab says each notebook costs', () => {
  it('has a measured time for every stored notebook, in both modes, quick below full', () => {
    expect(Object.keys(MEASURED_SECONDS).sort()).toEqual(files.map((f) => f.replace(/\.ipynb$/, '')));
    for (const [f, t] of Object.entries(MEASURED_SECONDS)) {
      expect(t.quick, f).toBeGreaterThan(0);
      expect(t.full, f).toBeGreaterThanOrEqual(t.quick);
    }
  });

  it('rounds times for reading', () => {
    expect([approxTime(0.2), approxTime(14.4), approxTime(89), approxTime(1140), approxTime(3900)]).toEqual([
      '≈ 1 s',
      '≈ 14 s',
      '≈ 89 s',
      '≈ 19 min',
      '≈ 1 h 05 min',
    ]);
  });

  it("prefers this machine's last run in the same mode, notebook by notebook", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-costs-'));
    try {
      const report = join(dir, 'report.json');
      const first = files[0];
      writeFileSync(
        report,
        JSON.stringify({
          quick: true,
          notebooks: [
            { notebook: first, ok: true, seconds: 600 },
            { notebook: files[1], ok: false, seconds: 3 },
          ],
        }),
      );
      const q = notebookCosts(true, report);
      expect(q.notebooks[0]).toEqual({ notebook: first.replace(/\.ipynb$/, ''), time: '≈ 10 min' });
      const table = Object.values(MEASURED_SECONDS);
      expect(q.notebooks[1].time).toBe(approxTime(table[1].quick)); // a failed run is not a measurement
      expect(q.total).toBe(approxTime(600 + table.slice(1).reduce((n, t) => n + t.quick, 0)));
      expect(q.source).toMatch(/this machine/);
      const full = notebookCosts(false, report); // the report is of the other mode
      expect(full.notebooks.map((n) => n.time)).toEqual(table.map((t) => approxTime(t.full)));
      expect(full.source).not.toMatch(/this machine/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
