/**
 * `ssm-lab` — train, evaluate and reproduce the paper's experiments from the command line.
 * Run `ssm-lab --help` (or `ssm-lab <command> --help`) for every option.
 */
import { parseArgs } from 'node:util';
import { backendInfo, ready } from '../backend.js';
import { SsmError } from '../errors.js';
import { writeFileAtomic } from '../io/file.js';
import { InterruptedError, makeTask, runJob, type JobResult, type JobSpec, type TaskSpec } from '../lab/jobs.js';
import { FIG1_T, PRESETS, fig1Jobs, table1Jobs, table1Models, trainConfigFor, type Preset } from '../lab/presets.js';
import type { ModelSpec } from '../models/index.js';
import { modelFromSafetensors } from '../models/index.js';
import { configFromMetadata } from '../models/weights.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { evaluate } from '../train/trainer.js';
import { constructionsReport } from '../constructions/index.js';
import { Opts } from './args.js';
import { runJobs } from './pool.js';
import { sweepMain } from '../sweep/cli.js';

const HELP = `ssm-lab — Selectivity Lab command line (paper: Understanding Input Selectivity in Mamba)

Usage
  ssm-lab train <task> [task options] [model options] [training options] [--out DIR] [--resume]
  ssm-lab eval <run-dir | model.safetensors> [task options] [--test-samples N] [--seed S]
  ssm-lab reproduce table1 [--preset quick|paper] [--out FILE.json] [--workers N] [--seed S] [--resume]
  ssm-lab reproduce fig1   [--preset quick|paper] [--out FILE.json] [--workers N] [--seed S] [--resume]
  ssm-lab constructions [--keys 8] [--vocab 64] [--T 32] [--instances 2000] [--tightness] [--remark7] [--json]
                    the paper's analytic weights (Cor. 2, Prop. 1, Thm 2–4, Lem. 3) in the ordinary block:
                    d and N used vs. each theorem's bound, and accuracy on random instances
  ssm-lab sweep run <spec.json|preset> [--out FILE.jsonl] [--workers N] [--shard i/n]   (also: sweep list | merge | report;
                    Fig. 2 / Fig. 3 grids, resumable, sharded for Slurm / Kubernetes — ssm-lab sweep --help)
  ssm-lab --help

Tasks (App. D) and their options
  keep-nth          --n 5  --T 50  --vocab 128                 target x_n at every t ≥ n
  mqar              --keys 8  --vocab 128  --T 100  --mode paper|zoology
                    (zoology: --power-a 0.01)                  recall the value of each queried key
  induction-heads   --vocab 20  --T 100  --setting standard|hard  (hard: --p 0.75 --gamma 0.1)

Model options
  --model NAME      mamba+pe | mamba | s4d | s4d+pe   Tab. 1 models: embedding → SSM → linear (no conv, no gate)
                    transformer                        1-layer causal softmax attention (positional table of length T)
                    mamba-block | s4d-block | mamba2 | mamba-dt | linear-attention
                                                       full blocks (conv k=4 silu; gate silu except mamba2 and
                                                       mamba-dt, whose App. C.1/D.4 experiments disable the gate)
                    default: mamba+pe
  --d D  --N N      embedding and state size (default 32 and 8; transformer d 16)
  --conv K | off    short causal conv kernel size;  --conv-act silu|relu|identity
  --gate ACT | off  gate σ(Linear(x)) ⊙ y with σ = silu|relu|sigmoid|identity
  --pe SCALE | off  positional encoding SCALE·t in the last embedding coordinate
  --disc euler|zoh|identity   discretisation of B
  --heads H         transformer heads (default 1)

Training options (App. D.1 defaults in brackets)
  --epochs 600  --batch 16  --lr 0.03  --lr-min 1e-6  --steps-per-epoch N (default: one pass)
  --stop-val-loss 1e-6  --stop-val-acc A  --max-seconds 21600
  --train-samples 100000  --val-samples 1000  --test-samples 100000
  --seed 0          model seed S; data seeds 3S+1 (train), 3S+2 (val), 3S+3 (test)
  --out DIR         write checkpoint.safetensors (every epoch and on Ctrl-C), metrics.jsonl,
                    model.safetensors and result.json there
  --resume          continue from DIR/checkpoint.safetensors (bit-for-bit as if never stopped)
  --json            print the result as JSON

Reproduce
  table1            KEEP FIFTH (T=50, |V|=128): Mamba+PE, Mamba, S4D, S4D+PE, Transformer; prints a
                    Markdown table of test accuracy and parameters beside the paper's values
  fig1              distribution of e^{−λΔ_t} on test inputs for T ∈ {${FIG1_T.join(', ')}}, overall and per
                    timestep, for Mamba+PE and S4D+PE, as JSON for plotting
  --preset quick    minutes on 2 CPU cores (batch 32, ≤ 2500 steps, stop at val acc 1.0)
  --preset paper    App. D.1 (600 epochs of 10⁵ samples, batch 16, early stop at val loss < 1e-6 or 6 h)
  --workers N       parallel worker threads (default: one per core)
  --out FILE.json   results file; per-model runs (checkpoints, metrics) go to FILE.runs/

Environment
  SSM_BACKEND=wasm|cpu|tensorflow   force a TensorFlow.js backend (default: best available)
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, resume: { type: 'boolean' },
  n: { type: 'string' }, T: { type: 'string' }, vocab: { type: 'string' }, keys: { type: 'string' }, mode: { type: 'string' },
  'power-a': { type: 'string' }, setting: { type: 'string' }, p: { type: 'string' }, gamma: { type: 'string' },
  model: { type: 'string' }, d: { type: 'string' }, N: { type: 'string' }, conv: { type: 'string' }, 'conv-act': { type: 'string' },
  gate: { type: 'string' }, pe: { type: 'string' }, disc: { type: 'string' }, heads: { type: 'string' },
  epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, 'lr-min': { type: 'string' },
  'steps-per-epoch': { type: 'string' }, 'stop-val-loss': { type: 'string' }, 'stop-val-acc': { type: 'string' },
  'max-seconds': { type: 'string' }, 'train-samples': { type: 'string' }, 'val-samples': { type: 'string' },
  'test-samples': { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, preset: { type: 'string' },
  workers: { type: 'string' }, instances: { type: 'string' }, tightness: { type: 'boolean' }, remark7: { type: 'boolean' },
} as const;

const MODELS = ['mamba+pe', 'mamba', 's4d', 's4d+pe', 'transformer', 'mamba-block', 's4d-block', 'mamba2', 'mamba-dt', 'linear-attention'] as const;

function taskSpec(task: string, o: Opts): TaskSpec {
  if (task === 'keep-nth') return { task, n: o.num('n', 5, { int: true, min: 1 }), vocabSize: o.num('vocab', 128, { int: true, min: 2 }), T: o.num('T', 50, { int: true, min: 1 }) };
  if (task === 'mqar') {
    const mode = o.oneOf('mode', ['paper', 'zoology'] as const, 'paper');
    return {
      task, mode, numKeys: o.num('keys', 8, { int: true, min: 1 }), vocabSize: o.num('vocab', mode === 'zoology' ? 8192 : 128, { int: true, min: 2 }),
      T: o.num('T', mode === 'zoology' ? 256 : 100, { int: true, min: 1 }), ...(mode === 'zoology' && o.has('power-a') ? { powerA: o.num('power-a', 0.01) } : {}),
    };
  }
  if (task === 'induction-heads') {
    const setting = o.oneOf('setting', ['standard', 'hard'] as const, 'standard');
    return {
      task, setting, vocabSize: o.num('vocab', 20, { int: true, min: 2 }), T: o.num('T', 100, { int: true, min: 2 }),
      ...(setting === 'hard' ? { p: o.num('p', 0.75, { min: 0, max: 1 }), gamma: o.num('gamma', 0.1, { min: 0, max: 0.1 }) } : {}),
    };
  }
  throw new SsmError(`<task>: expected keep-nth | mqar | induction-heads, got ${JSON.stringify(task)}`, '<task>', 'keep-nth | mqar | induction-heads', JSON.stringify(task));
}

function modelSpec(o: Opts, T: number): ModelSpec {
  const name = o.oneOf('model', MODELS, 'mamba+pe');
  if (name === 'transformer') {
    return { kind: 'transformer', vocabSize: 1, dModel: o.num('d', 16, { int: true, min: 1 }), maxLen: T, numHeads: o.num('heads', 1, { int: true, min: 1 }) };
  }
  const tab1 = ['mamba+pe', 'mamba', 's4d', 's4d+pe'].includes(name);
  const mixer = name.startsWith('s4d') ? 's4d' : name === 'mamba2' ? 'mamba2' : name === 'mamba-dt' ? 'mambaDeltaT' : name === 'linear-attention' ? 'linearAttention' : 's6';
  const onOff = (k: string, on: () => unknown, def: unknown) => (!o.has(k) ? def : o.str(k) === 'off' ? false : on());
  const conv = onOff('conv', () => ({ kernelSize: o.num('conv', 4, { int: true, min: 1 }), activation: o.oneOf('conv-act', ['silu', 'relu', 'identity'] as const, 'silu') }),
    tab1 ? false : { kernelSize: 4, activation: o.oneOf('conv-act', ['silu', 'relu', 'identity'] as const, 'silu') });
  const gate = onOff('gate', () => ({ activation: o.oneOf('gate', ['silu', 'relu', 'sigmoid', 'identity'] as const, 'silu') }), tab1 || name === 'mamba2' || name === 'mamba-dt' ? false : { activation: 'silu' });
  const pe = onOff('pe', () => ({ scale: o.num('pe', 0.1) }), name.endsWith('+pe') ? { scale: 0.1 } : false);
  return {
    kind: 'mamba', vocabSize: 1, mixer, dModel: o.num('d', 32, { int: true, min: 1 }), dState: o.num('N', 8, { int: true, min: 1 }), conv, gate,
    positionalEncoding: pe, ...(o.has('disc') ? { discretization: o.oneOf('disc', ['euler', 'zoh', 'identity'] as const, 'euler') } : {}),
  } as ModelSpec; // vocabSize/numClasses are set from the task when the job runs
}

function jobFromArgs(task: string, o: Opts): JobSpec {
  const t = taskSpec(task, o);
  const seed = o.num('seed', 0, { int: true, min: 0 });
  return {
    id: `train/${task}`, label: o.str('model', 'mamba+pe'), task: t, model: modelSpec(o, t.T), seed, runDir: o.str('out'), resume: o.flag('resume'),
    samples: { train: o.num('train-samples', 100_000, { int: true, min: 1 }), val: o.num('val-samples', 1_000, { int: true, min: 1 }), test: o.num('test-samples', 100_000, { int: true, min: 1 }) },
    train: {
      epochs: o.num('epochs', 600, { int: true, min: 1 }), batchSize: o.num('batch', 16, { int: true, min: 1 }), lr: o.num('lr', 0.03, { min: 0 }), lrMin: o.num('lr-min', 1e-6, { min: 0 }),
      seed, stepsPerEpoch: o.num('steps-per-epoch', undefined, { int: true, min: 1 }), stopValLoss: o.num('stop-val-loss', 1e-6, { min: 0 }),
      stopValAccuracy: o.num('stop-val-acc', undefined, { min: 0, max: 1 }), maxSeconds: o.num('max-seconds', 21_600, { min: 0 }),
    },
  };
}

/** Abort on the first Ctrl-C (jobs checkpoint and stop); exit at once on the second. */
function interruptOnSigint(): AbortController {
  const ctl = new AbortController();
  process.on('SIGINT', () => {
    if (ctl.signal.aborted) process.exit(130);
    process.stderr.write('\nInterrupt: saving checkpoints… (Ctrl-C again to quit at once)\n');
    ctl.abort();
  });
  return ctl;
}

async function cmdTrain(task: string, o: Opts): Promise<void> {
  const job = jobFromArgs(task, o);
  const ctl = interruptOnSigint();
  const r = await runJob(job, { signal: ctl.signal, progress: 'auto' });
  console.log(o.flag('json') ? JSON.stringify(r, null, 2) : `${job.label} on ${task}: test accuracy ${r.accuracy.toFixed(4)}, loss ${r.loss.toFixed(4)}, ${r.params} parameters, ${r.steps} steps in ${r.seconds.toFixed(1)} s (${r.stopReason})${job.runDir ? `\nrun saved in ${job.runDir}` : ''}`);
}

async function cmdEval(target: string, o: Opts): Promise<void> {
  const fs = await import('node:fs/promises');
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat) throw new SsmError(`<run-dir | model.safetensors>: expected an existing path, got ${JSON.stringify(target)}`, '<path>', 'an existing path', target);
  const file = stat.isDirectory() ? `${target}/model.safetensors` : target;
  const bytes = new Uint8Array(await fs.readFile(file));
  const meta = decodeSafetensors(bytes, file).metadata;
  configFromMetadata(meta, file);
  const saved: JobSpec | undefined = meta.job ? JSON.parse(meta.job) : undefined;
  const model = modelFromSafetensors(bytes, file);
  const task = o.has('n') || o.has('T') || o.has('keys') || o.has('vocab') || !saved ? taskSpec(saved?.task.task ?? 'keep-nth', o) : saved.task;
  const seed = o.num('seed', saved?.seed ?? 0, { int: true, min: 0 });
  const test = makeTask(task, o.num('test-samples', saved?.samples.test ?? 10_000, { int: true, min: 1 }), 3 * seed + 3);
  const r = evaluate(model, test);
  model.dispose();
  console.log(o.flag('json') ? JSON.stringify({ ...r, task, seed }, null, 2) : `${file}: test accuracy ${r.accuracy.toFixed(4)} (${r.correct}/${r.count}), loss ${r.loss.toFixed(4)} on ${test.numSamples} ${task.task} samples (seed ${3 * seed + 3})`);
}

const fmtK = (n: number) => `${(n / 1e3).toFixed(1)}k`;

function table1Markdown(results: JobResult[]): string {
  const paper = new Map(table1Models(50).map((m) => [m.label, m]));
  const lines = ['| model | test accuracy | paper | params | paper | steps | time |', '|---|---|---|---|---|---|---|'];
  for (const r of results) {
    const p = paper.get(r.label)!;
    lines.push(`| ${r.label} | ${r.accuracy.toFixed(3)} | ${p.paperAccuracy.toFixed(2)} | ${r.params} (${fmtK(r.params)}) | ${fmtK(p.paperParams)} | ${r.steps} | ${r.seconds.toFixed(0)} s |`);
  }
  return lines.join('\n');
}

/** The paper's verdict: Mamba+PE and Transformer solve it, the rest stay near chance. */
export function table1Verdict(results: JobResult[]): { ok: boolean; text: string } {
  const acc = Object.fromEntries(results.map((r) => [r.label, r.accuracy]));
  const checks: [string, boolean][] = [
    ['Mamba+PE ≥ 0.99', acc['Mamba+PE'] >= 0.99], ['Transformer ≥ 0.99', acc['Transformer'] >= 0.99],
    ['Mamba ≤ 0.15', acc['Mamba'] <= 0.15], ['S4D ≤ 0.15', acc['S4D'] <= 0.15], ['S4D+PE ≤ 0.15', acc['S4D+PE'] <= 0.15],
  ];
  const ok = checks.every(([, c]) => c);
  return { ok, text: `Verdict (${ok ? 'same as the paper' : 'DIFFERS from the paper'}): ${checks.map(([n, c]) => `${n} ${c ? '✓' : '✗'}`).join(', ')}` };
}

async function cmdReproduce(what: string, o: Opts): Promise<void> {
  const os = await import('node:os');
  const preset = o.oneOf('preset', PRESETS, 'quick') as Preset;
  const seed = o.num('seed', 0, { int: true, min: 0 });
  const workers = o.num('workers', os.availableParallelism?.() ?? os.cpus().length, { int: true, min: 1 });
  const out = o.str('out');
  const runRoot = out ? `${out.replace(/\.json$/, '')}.runs` : undefined;
  if (what !== 'table1' && what !== 'fig1') throw new SsmError(`reproduce: expected table1 | fig1, got ${JSON.stringify(what)}`, 'reproduce <what>', 'table1 | fig1', JSON.stringify(what));
  const jobs = (what === 'table1' ? table1Jobs : fig1Jobs)(preset, seed, runRoot).map((j) => ({ ...j, resume: o.flag('resume') }));
  const info = backendInfo();
  console.error(`${what}, preset ${preset} (${JSON.stringify(trainConfigFor(preset, seed).train)}), ${jobs.length} runs on ${Math.min(workers, jobs.length)} worker(s), backend ${info.name}`);
  const ctl = interruptOnSigint();
  const t0 = Date.now();
  const results = await runJobs(jobs, { workers, signal: ctl.signal, onResult: (r) => console.error(`  done: ${r.label} — test accuracy ${r.accuracy.toFixed(3)} (${r.steps} steps, ${r.seconds.toFixed(0)} s, ${r.stopReason})`) });
  const totalSeconds = (Date.now() - t0) / 1000;
  let doc: object;
  if (what === 'table1') {
    console.log(table1Markdown(results));
    const v = table1Verdict(results);
    console.log(`\n${v.text}\nTotal wall time ${totalSeconds.toFixed(0)} s on ${Math.min(workers, jobs.length)} worker(s), backend ${info.name}.`);
    const paper = new Map(table1Models(50).map((m) => [m.label, m]));
    doc = {
      rows: results.map((r) => ({ model: r.label, accuracy: r.accuracy, params: r.params, seconds: r.seconds, steps: r.steps, stopReason: r.stopReason, paperAccuracy: paper.get(r.label)!.paperAccuracy, paperParams: paper.get(r.label)!.paperParams })),
      preset, seed, backend: info.name, totalSeconds, verdict: v,
    };
  } else {
    doc = {
      figure: 'fig1', preset, seed, backend: info.name, totalSeconds, T: FIG1_T,
      runs: results.map((r) => ({ model: r.label.replace(/ T=\d+$/, ''), T: Number(/T=(\d+)/.exec(r.label)![1]), accuracy: r.accuracy, decay: r.decay })),
    };
    for (const r of results) console.log(`${r.label.padEnd(16)} test acc ${r.accuracy.toFixed(3)}  share of e^{−λΔ} > 0.9: ${(r.decay!.histogram.fractions.slice(18).reduce((a, b) => a + b, 0)).toFixed(3)}`);
  }
  if (out) {
    await writeFileAtomic(out, new TextEncoder().encode(JSON.stringify(doc, null, 2) + '\n'));
    console.error(`wrote ${out}`);
  }
}

function cmdConstructions(o: Opts): void {
  const K = o.num('keys', 8, { int: true, min: 1 });
  const r = constructionsReport({
    numKeys: K, vocabSize: o.num('vocab', 64, { int: true, min: 2 }), T: o.num('T', 4 * K, { int: true, min: 1 }),
    instances: o.num('instances', 2000, { int: true, min: 1 }), seed: o.num('seed', 1, { int: true, min: 0 }),
    tightness: o.flag('tightness') || undefined, remark7: o.flag('remark7') || undefined,
  } as Parameters<typeof constructionsReport>[0]);
  console.log(o.flag('json') ? JSON.stringify({ rows: r.rows, tightness: r.tightness, remark7: r.remark7 }, null, 2) : r.text);
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'sweep') return sweepMain(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`ssm-lab: ${(e as Error).message}\nRun ssm-lab --help for the options.`);
    return 2;
  }
  const o = new Opts(parsed.values as Record<string, string | boolean | undefined>);
  const [cmd, arg] = parsed.positionals;
  if (o.flag('help') || !cmd || cmd === 'help') {
    console.log(HELP);
    return 0;
  }
  try {
    await ready();
    if (cmd === 'train' && arg) await cmdTrain(arg, o);
    else if (cmd === 'eval' && arg) await cmdEval(arg, o);
    else if (cmd === 'reproduce' && arg) await cmdReproduce(arg, o);
    else if (cmd === 'constructions') cmdConstructions(o);
    else {
      console.error(`ssm-lab: unknown or incomplete command "${parsed.positionals.join(' ')}". Run ssm-lab --help.`);
      return 2;
    }
    return 0;
  } catch (e) {
    if (e instanceof InterruptedError) {
      console.error(`\n${e.message}`);
      return 130;
    }
    if (e instanceof SsmError) {
      console.error(`ssm-lab: ${e.message}`);
      return 2;
    }
    console.error(`ssm-lab: ${(e as Error).message}${process.env.SSM_DEBUG ? `\n${(e as Error).stack}` : ' (set SSM_DEBUG=1 for the stack)'}`);
    return 1;
  }
}
