/**
 * Command-line options → the experiment schema: a TaskSpec, a ModelSpec (from the model table,
 * ../experiments/models.ts, with --conv/--gate/--pe/--disc/--heads as overrides) and a JobSpec.
 * Every bad value is an error naming its option.
 */
import { configError, SsmError, type ModelSpec } from 'ssm-core';
import type { JobSpec, TaskSpec } from '../experiments/jobs.js';
import type { SizeNames } from '../experiments/memory.js';
import { MODELS, modelName, modelSpec, type ModelName } from '../experiments/models.js';
import type { Opts } from './args.js';

export function taskSpec(task: string, o: Opts): TaskSpec {
  if (task === 'keep-nth')
    return {
      task,
      n: o.num('n', 5, { int: true, min: 1 }),
      vocabSize: o.num('vocab', 128, { int: true, min: 2 }),
      T: o.num('T', 50, { int: true, min: 1 }),
    };
  if (task === 'mqar') {
    const mode = o.oneOf('mode', ['paper', 'zoology'] as const, 'paper');
    return {
      task,
      mode,
      numKeys: o.num('keys', 8, { int: true, min: 1 }),
      vocabSize: o.num('vocab', mode === 'zoology' ? 8192 : 128, { int: true, min: 2 }),
      T: o.num('T', mode === 'zoology' ? 256 : 100, { int: true, min: 1 }),
      ...(mode === 'zoology' && o.has('power-a') ? { powerA: o.num('power-a', 0.01) } : {}),
    };
  }
  if (task === 'induction-heads') {
    const setting = o.oneOf('setting', ['standard', 'hard'] as const, 'standard');
    return {
      task,
      setting,
      vocabSize: o.num('vocab', 20, { int: true, min: 2 }),
      T: o.num('T', 100, { int: true, min: 2 }),
      ...(setting === 'hard'
        ? { p: o.num('p', 0.75, { min: 0, max: 1 }), gamma: o.num('gamma', 0.1, { min: 0, max: 0.1 }) }
        : {}),
    };
  }
  throw new SsmError(
    `<task>: expected keep-nth | mqar | induction-heads, got ${JSON.stringify(task)}`,
    '<task>',
    'keep-nth | mqar | induction-heads',
    JSON.stringify(task),
  );
}

/** The --model name (or an alias), canonical. */
export const modelNameOf = (o: Opts): ModelName => modelName(o.str('model', 'mamba+pe'), '--model');

/** The model of --model at the sizes --d/--N (sequence length T for the Transformer), with the block options as overrides. */
export function modelSpecOf(o: Opts, T: number): ModelSpec {
  const name = modelNameOf(o);
  const e = MODELS[name];
  const d = o.num('d', e.defaults.d, { int: true, min: 1 });
  if (e.block === 'transformer')
    return modelSpec(name, { d, T }, o.has('heads') ? { numHeads: o.num('heads', 1, { int: true, min: 1 }) } : {});
  const block = e.block;
  const overrides: Record<string, unknown> = {};
  const onOff = (k: string, on: () => unknown) => (o.str(k) === 'off' ? false : on());
  const convAct = () => o.oneOf('conv-act', ['silu', 'relu', 'identity'] as const, 'silu');
  if (o.has('conv'))
    overrides.conv = onOff('conv', () => ({
      kernelSize: o.num('conv', 4, { int: true, min: 1 }),
      activation: convAct(),
    }));
  else if (o.has('conv-act') && block.conv) overrides.conv = { ...block.conv, activation: convAct() };
  if (o.has('gate'))
    overrides.gate = onOff('gate', () => ({
      activation: o.oneOf('gate', ['silu', 'relu', 'sigmoid', 'identity'] as const, 'silu'),
    }));
  if (o.has('pe')) overrides.positionalEncoding = onOff('pe', () => ({ scale: o.num('pe', 0.1) }));
  if (o.has('disc')) overrides.discretization = o.oneOf('disc', ['euler', 'zoh', 'identity'] as const, 'euler');
  return modelSpec(name, { d, N: o.num('N', e.defaults.N, { int: true, min: 1 }), T }, overrides);
}

/** Largest `--lr` accepted: Adam moves each weight by up to lr per step, so a larger rate only diverges. */
export const LR_MAX = 10;

/** --resume and --force (one or neither: continuing a run and moving it aside contradict each other). */
export function runDirFlags(o: Opts): { resume: boolean; force: boolean } {
  if (o.flag('resume') && o.flag('force'))
    throw configError(
      '--force',
      'not with --resume',
      '--resume --force',
      '--resume continues the run, --force moves it aside',
    );
  return { resume: o.flag('resume'), force: o.flag('force') };
}

/** How memory errors name a job's sizes: the CLI options, marked as set when given on the command line. */
export function cliSizeNames(o: Opts): SizeNames {
  const n = (name: string) => ({ name: `--${name}`, explicit: o.has(name) });
  return {
    T: n('T'),
    trainSamples: n('train-samples'),
    valSamples: n('val-samples'),
    testSamples: n('test-samples'),
    batch: n('batch'),
    d: n('d'),
    N: n('N'),
    vocab: n('vocab'),
  };
}

/** `ssm-lab train <task> …` as a job (vocabSize/numClasses are set from the task when it runs). */
export function jobFromArgs(task: string, o: Opts): JobSpec {
  const t = taskSpec(task, o);
  const seed = o.num('seed', 0, { int: true, min: 0 });
  const lr = o.num('lr', 0.03, { above: 0, max: LR_MAX });
  return {
    id: `train/${task}`,
    label: o.str('model', 'mamba+pe'),
    task: t,
    model: modelSpecOf(o, t.T),
    seed,
    runDir: o.path('out'),
    ...runDirFlags(o),
    samples: {
      train: o.num('train-samples', 100_000, { int: true, min: 1 }),
      val: o.num('val-samples', 1_000, { int: true, min: 1 }),
      test: o.num('test-samples', 100_000, { int: true, min: 1 }),
    },
    train: {
      epochs: o.num('epochs', 600, { int: true, min: 1 }),
      batchSize: o.num('batch', 16, { int: true, min: 1 }),
      lr,
      lrMin: o.num('lr-min', 1e-6, { min: 0, max: lr }),
      seed,
      stepsPerEpoch: o.num('steps-per-epoch', undefined, { int: true, min: 1 }),
      stopValLoss: o.num('stop-val-loss', 1e-6, { min: 0 }),
      stopValAccuracy: o.num('stop-val-acc', undefined, { min: 0, max: 1 }),
      maxSeconds: o.num('max-seconds', 21_600, { min: 0 }),
    },
  };
}
