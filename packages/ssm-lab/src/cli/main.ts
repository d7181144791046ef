/**
 * `ssm-lab` — train, evaluate and reproduce the paper's experiments from the command line.
 * Run `ssm-lab --help` (or `ssm-lab <command> --help`) for every option: ./help.ts, ./options.ts.
 */
import { parseArgs } from 'node:util';
import {
  backendInfo,
  constructions,
  evaluateAsync,
  fileReadCap,
  modelFromSafetensors,
  parseJsonStrict,
  ready,
  readFileChecked,
  readSafetensorsHeader,
  SsmError,
  writeFileAtomic,
} from 'ssm-core';
import { InterruptedError, makeTask, runJob, type JobSpec } from '../experiments/jobs.js';
import { PRESETS, fig1Jobs, table1Jobs, trainConfigFor, type Preset } from '../experiments/presets.js';
import { checkRunDirReusable } from '../experiments/runDir.js';
import { printDemo } from '../reports/demo.js';
import { fig1Document, fig1Lines, table1Document, table1Markdown, table1Verdict } from '../reports/table1.js';
import { printTheory } from '../reports/theory.js';
import { runJobs } from '../runner/pool.js';
import { noExtraPositionals, Opts } from './args.js';
import { applyBackendArg } from './backendArg.js';
import { doneLine, evalLine, trainLine } from './format.js';
import { HELP } from './help.js';
import { cliSizeNames, jobFromArgs, runDirFlags, taskSpec } from './mapping.js';
import { OPTIONS } from './options.js';
import { sweepMain } from './sweep.js';

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

/** One job, in this process (its trainer draws the progress line). */
async function cmdTrain(task: string, o: Opts): Promise<void> {
  const job = jobFromArgs(task, o);
  const ctl = interruptOnSigint();
  const r = await runJob(job, { signal: ctl.signal, progress: 'auto', sizeNames: cliSizeNames(o) });
  console.log(o.flag('json') ? JSON.stringify(r, null, 2) : trainLine(job, r));
}

async function cmdEval(target: string, o: Opts): Promise<void> {
  const fs = await import('node:fs/promises');
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat)
    throw new SsmError(
      `<run-dir | model.safetensors>: expected an existing path, got ${JSON.stringify(target)}`,
      '<path>',
      'an existing path',
      target,
    );
  const file = stat.isDirectory() ? `${target}/model.safetensors` : target;
  const bytes = await readFileChecked(file, { ...fileReadCap(), what: 'model file' });
  const meta = readSafetensorsHeader(bytes, file).metadata;
  const saved: JobSpec | undefined = Object.hasOwn(meta, 'job')
    ? (parseJsonStrict(meta.job, `${file}: __metadata__.job`) as JobSpec)
    : undefined;
  const model = modelFromSafetensors(bytes, file); // header, parameter cap and shapes checked before it is built
  const task =
    o.has('n') || o.has('T') || o.has('keys') || o.has('vocab') || !saved
      ? taskSpec(saved?.task.task ?? 'keep-nth', o)
      : saved.task;
  const seed = o.num('seed', saved?.seed ?? 0, { int: true, min: 0 });
  const test = makeTask(
    task,
    o.num('test-samples', saved?.samples.test ?? 10_000, { int: true, min: 1 }),
    3 * seed + 3,
  );
  const r = await evaluateAsync(model, test);
  model.dispose();
  console.log(
    o.flag('json')
      ? JSON.stringify({ ...r, task, seed }, null, 2)
      : evalLine(file, r, task, test.numSamples, 3 * seed + 3),
  );
}

/** Tab. 1 or Fig. 1 on the runner's worker processes; --resume continues every run from its checkpoint. */
async function cmdReproduce(what: string, o: Opts): Promise<void> {
  const os = await import('node:os');
  const preset = o.oneOf('preset', PRESETS, 'quick') as Preset;
  const seed = o.num('seed', 0, { int: true, min: 0 });
  const workers = o.num('workers', os.availableParallelism?.() ?? os.cpus().length, { int: true, min: 1 });
  const out = o.path('out');
  const runRoot = out ? `${out.replace(/\.json$/, '')}.runs` : undefined;
  if (what !== 'table1' && what !== 'fig1')
    throw new SsmError(
      `reproduce: expected table1 | fig1, got ${JSON.stringify(what)}`,
      'reproduce <what>',
      'table1 | fig1',
      JSON.stringify(what),
    );
  const jobs = (what === 'table1' ? table1Jobs : fig1Jobs)(preset, seed, runRoot).map((j) => ({
    ...j,
    ...runDirFlags(o),
  }));
  for (const j of jobs) if (j.runDir) checkRunDirReusable(j.runDir, j); // before any worker starts
  const backend = backendInfo().name;
  const lanes = Math.min(workers, jobs.length);
  console.error(
    `${what}, preset ${preset} (${JSON.stringify(trainConfigFor(preset, seed).train)}), ${jobs.length} runs on ${lanes} worker(s), backend ${backend}`,
  );
  const ctl = interruptOnSigint();
  const t0 = Date.now();
  const results = await runJobs(jobs, {
    workers,
    signal: ctl.signal,
    verbose: true,
    onResult: (_, r) => console.error(doneLine(r)),
  });
  const info = { preset, seed, backend, totalSeconds: (Date.now() - t0) / 1000 };
  let doc: object;
  if (what === 'table1') {
    console.log(table1Markdown(results));
    console.log(
      `\n${table1Verdict(results).text}\nTotal wall time ${info.totalSeconds.toFixed(0)} s on ${lanes} worker(s), backend ${backend}.`,
    );
    doc = table1Document(results, info);
  } else {
    doc = fig1Document(results, info);
    console.log(fig1Lines(results));
  }
  if (out) {
    await writeFileAtomic(out, new TextEncoder().encode(JSON.stringify(doc, null, 2) + '\n'));
    console.error(`wrote ${out}`);
  }
}

/** Progress of the tightness search on stderr: the first candidate, then at most one line every 2 s. */
function tightnessProgress(): (c: constructions.CandidateResult) => void {
  const t0 = Date.now();
  let last = -Infinity;
  let tried = 0;
  return (c) => {
    tried++;
    const now = Date.now();
    if (now - last < 2000) return;
    last = now;
    const dims = c.jlDim.keys === undefined ? `p_v=${c.jlDim.values}` : `p_k=${c.jlDim.keys}, p_v=${c.jlDim.values}`;
    process.stderr.write(
      `tightness: ${tried} candidates, ${((now - t0) / 1000).toFixed(0)} s · ${c.mixer} ${dims} seed ${c.seed}` +
        ` ${c.passed ? 'passed' : `failed after ${c.instances} instance(s)`}\n`,
    );
  };
}

function cmdConstructions(o: Opts): void {
  const K = o.num('keys', 8, { int: true, min: 1 });
  const r = constructions.constructionsReport({
    numKeys: K,
    vocabSize: o.num('vocab', 64, { int: true, min: 2 }),
    T: o.num('T', 4 * K, { int: true, min: 1 }),
    instances: o.num('instances', 2000, { int: true, min: 1 }),
    seed: o.num('seed', 1, { int: true, min: 0 }),
    tightness: o.flag('tightness') ? { onCandidate: tightnessProgress() } : undefined,
    remark7: o.flag('remark7') || undefined,
  } as Parameters<typeof constructions.constructionsReport>[0]);
  console.log(
    o.flag('json') ? JSON.stringify({ rows: r.rows, tightness: r.tightness, remark7: r.remark7 }, null, 2) : r.text,
  );
}

/** The positional arguments each command takes after its name. */
const COMMAND_ARGS: Readonly<Record<string, readonly string[]>> = {
  theory: [],
  demo: [],
  constructions: [],
  train: ['<task>'],
  eval: ['<run-dir | model.safetensors>'],
  reproduce: ['<table1|fig1>'],
};

export async function main(args: string[]): Promise<number> {
  // The bin script has applied --backend before ssm-core was imported; here it reaches worker processes only.
  const backendArg = args.some((a) => a === '--backend' || a.startsWith('--backend='));
  const argv = applyBackendArg(args);
  if (typeof argv === 'string') {
    console.error(`ssm-lab: ${argv}`);
    return 2;
  }
  if (backendArg) {
    const live = (await ready()).name;
    if (live !== process.env.SSM_BACKEND) {
      console.error(
        `ssm-lab: --backend ${process.env.SSM_BACKEND} came after ssm-core picked ${live} in this process; ` +
          'run the ssm-lab command (or set SSM_BACKEND before importing ssm-core)',
      );
      return 2;
    }
  }
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
    const usage = Object.hasOwn(COMMAND_ARGS, cmd) ? COMMAND_ARGS[cmd] : undefined;
    if (usage !== undefined)
      noExtraPositionals(parsed.positionals.slice(1), usage.length, `ssm-lab ${[cmd, ...usage].join(' ')}`);
    if (cmd === 'theory') await printTheory();
    else if (cmd === 'demo') await printDemo();
    else {
      await ready();
      if (cmd === 'train' && arg) await cmdTrain(arg, o);
      else if (cmd === 'eval' && arg) await cmdEval(arg, o);
      else if (cmd === 'reproduce' && arg) await cmdReproduce(arg, o);
      else if (cmd === 'constructions') cmdConstructions(o);
      else {
        console.error(`ssm-lab: unknown or incomplete command "${parsed.positionals.join(' ')}". Run ssm-lab --help.`);
        return 2;
      }
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
    console.error(
      `ssm-lab: ${(e as Error).message}${process.env.SSM_DEBUG ? `\n${(e as Error).stack}` : ' (set SSM_DEBUG=1 for the stack)'}`,
    );
    return 1;
  }
}
