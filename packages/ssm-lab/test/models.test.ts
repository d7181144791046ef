/**
 * One table of model names: the same name builds the same model in `ssm-lab train --model NAME`
 * (the CLI's argument mapping) and in a sweep spec's `"model": NAME` (the grid); Tab. 1's runs use
 * it too. Sweep presets keep the cell ids of ssm-core 0.1, spec files of 0.1 (field "arch") are refused
 * with the edit that keeps their ids, and results files written by 0.1 (its sweep spellings mamba, s4d,
 * mamba-dt) merge byte-identically and report as before.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createModel, ready, type ModelSpec } from 'ssm-core';
import { ConfigError } from 'ssm-core';
import {
  MODEL_NAMES,
  MODELS,
  SWEEP_PRESETS,
  expandGrid,
  validateSweepSpec,
  mergeResults,
  modelName,
  parseResults,
  recordModelName,
  sweepReport,
  table1Jobs,
  toJsonl,
} from 'ssm-lab';
import { beforeAll, describe, expect, it } from 'vitest';
import { Opts } from '../src/cli/args.js';
import { modelSpecOf } from '../src/cli/mapping.js';

const fixture = (f: string) => new URL(`./fixtures/${f}`, import.meta.url);
const legacy = JSON.parse(readFileSync(fixture('legacy-expected.json'), 'utf8'));

/** The resolved config of a spec (vocabulary and classes fixed; seed dropped). */
function built(spec: ModelSpec): unknown {
  const m = createModel({ ...spec, vocabSize: 16, numClasses: 16 } as ModelSpec);
  try {
    const { seed: _seed, ...config } = m.config as unknown as Record<string, unknown>;
    return config;
  } finally {
    m.dispose();
  }
}

describe('the model table', () => {
  beforeAll(async () => {
    await ready();
  });

  it.each(MODEL_NAMES)('%s builds the same model from the CLI and from a sweep spec', (name) => {
    const d = 8,
      N = 4,
      T = 24;
    const cli = modelSpecOf(new Opts({ model: name, d: String(d), N: String(N) }), T);
    const [cell] = expandGrid({
      name: 'same',
      task: { kind: 'mqar', T, vocabSize: 16 },
      architectures: [{ model: name, N }],
      sizes: [2],
      d: [d],
      seeds: [0],
      train: { epochs: 1, batchSize: 8, lr: 0.01, lrMin: 0 },
      samples: { train: 64, val: 8, test: 8 },
    });
    expect(cell.arch).toBe(name);
    expect(cell.label.startsWith(MODELS[name].label)).toBe(true);
    const a = built(cli),
      b = built(cell.job.model);
    expect(a).toEqual(b);
    const e = MODELS[name];
    if (e.block !== 'transformer')
      expect(a).toMatchObject({ mixer: e.block.mixer, conv: e.block.conv, gate: e.block.gate });
  });

  it('tells Tab. 1 models (no conv, no gate) from the Fig. 2/3 blocks; one spelling per model', () => {
    expect(MODELS.mamba.block).toMatchObject({ mixer: 's6', conv: false, gate: false, positionalEncoding: false });
    expect(MODELS.s4d.block).toMatchObject({ mixer: 's4d', conv: false, gate: false });
    expect(MODELS['mamba-conv'].block).toMatchObject({ mixer: 's6', conv: { kernelSize: 4 }, gate: false });
    expect(MODELS['mamba-s4d'].block).toMatchObject({
      mixer: 's4d',
      conv: { kernelSize: 4 },
      gate: { activation: 'silu' },
    });
    expect(MODELS['mamba-delta-t'].block).toMatchObject({ mixer: 'mambaDeltaT', conv: { kernelSize: 4 }, gate: false });
    // ssm-core 0.1's sweep spelling is no second name: only its results records map (recordModelName)
    expect(() => modelName('mamba-dt', '--model')).toThrow(/--model: expected mamba\+pe \| mamba \| s4d/);
    expect(recordModelName({ arch: 'mamba-dt' })).toBe('mamba-delta-t');
    expect(() => modelName('rnn', '--model')).toThrow(/--model: expected mamba\+pe \| mamba \| s4d/);
    // Tab. 1's jobs are the table's models under their paper names
    expect(table1Jobs('quick', 0).map((j) => [j.label, j.id])).toEqual([
      ['Mamba+PE', 'table1/mamba+pe'],
      ['Mamba', 'table1/mamba'],
      ['S4D', 'table1/s4d'],
      ['S4D+PE', 'table1/s4d+pe'],
      ['Transformer', 'table1/transformer'],
    ]);
    for (const j of table1Jobs('quick', 0)) {
      const name = j.id.split('/')[1] as keyof typeof MODELS;
      expect(built(j.model)).toEqual(built(modelSpecOf(new Opts({ model: name }), 50)));
    }
  });

  it('keeps the sweep presets’ cell ids of ssm-core 0.1', () => {
    for (const [name, p] of Object.entries(SWEEP_PRESETS)) {
      const ids = expandGrid(p).map((c) => c.id);
      expect(ids.length, name).toBe(legacy.ids[name].cells);
      expect(ids[0], name).toBe(legacy.ids[name].first);
      expect(createHash('sha256').update(ids.join('\n')).digest('hex'), name).toBe(legacy.ids[name].sha256);
    }
  });

  it('refuses a spec file of ssm-core 0.1 ("arch") with the mapping; renamed to "model" it expands to 0.1\'s cell ids', () => {
    // fig2-quick and fig3-quick as `ssm-core sweep show` printed them in 0.1 (the fields that differ)
    const old = {
      'fig2-quick':
        '[{"arch": "s4d", "N": 4}, {"arch": "mamba", "N": "2*size"}, {"arch": "mamba2", "N": "8*ln(size)"}]',
      'fig3-quick': '[{"arch": "mamba", "N": "4*size"}, {"arch": "mamba-dt", "N": "4*size"}]',
    };
    for (const [name, archs] of Object.entries(old)) {
      const file = (architectures: string) =>
        JSON.parse(JSON.stringify({ ...SWEEP_PRESETS[name], architectures: '@' }).replace('"@"', architectures));
      const refused = () => expandGrid(file(archs));
      expect(refused).toThrow(ConfigError);
      expect(refused).toThrow(/^spec\.architectures\[0\]\.arch: expected no field "arch": the field is now "model"/);
      expect(refused).toThrow(
        /"arch": "mamba" → "model": "mamba-conv", "arch": "s4d" → "model": "mamba-s4d", "arch": "mamba2" → "model": "mamba2", "arch": "mamba-dt" → "model": "mamba-delta-t"/,
      );
      expect(refused).toThrow(name === 'fig2-quick' ? /here: "model": "mamba-s4d"/ : /here: "model": "mamba-conv"/);
      // the one edit the message gives
      const fixed = archs
        .replace('"arch": "s4d"', '"model": "mamba-s4d"')
        .replace('"arch": "mamba"', '"model": "mamba-conv"')
        .replace('"arch": "mamba2"', '"model": "mamba2"')
        .replace('"arch": "mamba-dt"', '"model": "mamba-delta-t"');
      const ids = expandGrid(file(fixed)).map((c) => c.id);
      expect(ids.length, name).toBe(legacy.ids[name].cells);
      expect(ids[0], name).toBe(legacy.ids[name].first);
      expect(ids.at(-1), name).toBe(legacy.ids[name].last);
      expect(createHash('sha256').update(ids.join('\n')).digest('hex'), name).toBe(legacy.ids[name].sha256);
    }
    // 0.1's per-architecture overrides ("model": {…}) come with "arch", so they are refused too; "overrides" replaces them
    const spec = (a: unknown) => ({ ...SWEEP_PRESETS['fig2-quick'], architectures: [a] });
    expect(() => validateSweepSpec(spec({ arch: 'mamba', N: 4, model: { gate: false } }))).toThrow(
      /\.arch: expected no field "arch"/,
    );
    expect(() => validateSweepSpec(spec({ model: { gate: false }, N: 4 }))).toThrow(
      /\.model: expected a model name \(MambaConfig overrides go in "overrides"\)/,
    );
    expect(validateSweepSpec(spec({ model: 'mamba-s4d', N: 4, overrides: { gate: false } })).architectures[0]).toEqual({
      model: 'mamba-s4d',
      N: 4,
      overrides: { gate: false },
    });
  });

  it('merges and reports results files written by ssm-core 0.1 as it did', () => {
    for (const fig of ['fig2', 'fig3'] as const) {
      const merged = mergeResults([parseResults(readFileSync(fixture(`legacy-${fig}-quick.jsonl`), 'utf8'))]);
      expect(toJsonl(merged)).toBe(legacy[fig].merged);
      const rep = sweepReport(merged);
      expect(rep.text).toBe(legacy[fig].text);
      expect(rep.panels.map((p) => [p.label, p.bound])).toEqual(
        legacy[fig].panels.map((p: { label: string; bound: unknown }) => [p.label, p.bound]),
      );
    }
    const fig3 = sweepReport(mergeResults([parseResults(readFileSync(fixture('legacy-fig3-quick.jsonl'), 'utf8'))]));
    expect(fig3.panels.map((p) => p.arch)).toEqual(['mamba-conv', 'mamba-delta-t']);
    expect(fig3.comparison?.compared).toBe(1);
  });
});
