/**
 * `ssm-lab sweep …` — the sweep subcommands (dispatched from ./main.ts). Own option parser:
 * `--json` here takes a file name, unlike the boolean `--json` of the other commands.
 */
import { parseArgs } from 'node:util';
import { SsmError, configError, parseJsonStrict, readTextChecked, writeFileAtomic } from 'ssm-core';
import { sweepReport } from '../reports/sweep.js';
import { runSweep } from '../runner/sweep.js';
import { expandGrid } from '../sweep/grid.js';
import { SWEEP_PRESETS, sweepPreset } from '../sweep/presets.js';
import { mergeResultsChecked, readResults, toJsonl, type MergeConflict, type ParsedResults } from '../sweep/results.js';
import { resolveShard, shardCells, shardPath } from '../sweep/shard.js';
import { validateSweepSpec, type SweepSpec } from '../sweep/spec.js';
import { noExtraPositionals, Opts } from './args.js';

export const SWEEP_HELP = `ssm-lab sweep — trained-model sweeps (Fig. 2: MQAR size tightness; Fig. 3: Mamba vs Mamba-Δ⊤)

Usage
  ssm-lab sweep list                         the presets (fig2, fig3, fig2-quick, fig3-quick)
  ssm-lab sweep show <preset>                print a preset as a JSON spec (edit it and pass the file to run)
  ssm-lab sweep run <spec.json|preset> [--out results/NAME.jsonl] [--workers N] [--shard i/n]
                    [--runs DIR|off] [--verbose] [--dry-run]
  ssm-lab sweep <spec.json|preset> …         same as sweep run
  ssm-lab sweep merge a.jsonl b.jsonl … --out merged.jsonl
  ssm-lab sweep report results.jsonl [more.jsonl …] [--json figure.json] [--threshold 0.999]

run
  Trains every cell of the grid (architecture × size × d × seed) on N worker processes (default: one per
  core) and appends one JSON line per finished cell to --out. Rerun the same command after a crash, kill or
  Ctrl-C: finished cells are skipped, interrupted ones resume from their last epoch checkpoint.
  --workers N       worker processes (default: one per core)
  --shard i/n       run shard i of n (0-based): cells at grid positions ≡ i mod n. Default: from
                    SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (minus SLURM_ARRAY_TASK_MIN) or from
                    JOB_COMPLETION_INDEX with SSM_SWEEP_SHARDS (Kubernetes Indexed Job), else the whole grid.
                    A shard writes NAME.shard-i-of-n.jsonl next to --out; combine them with sweep merge.
  --runs DIR|off    per-cell checkpoints, metrics and weights (default: <out without .jsonl>.runs/<cell id>)
  --verbose         the trainer's per-epoch lines from every worker
  --dry-run         list this shard's cells and exit

spec    "model" takes the model names of ssm-lab train --model (one table; see ssm-lab --help): Fig. 2 uses
        mamba-conv, mamba2, mamba-s4d; Fig. 3 mamba-conv and mamba-delta-t. docs/sweeps.md lists every field.
        Specs of ssm-core 0.1 ("arch": mamba | s4d | mamba2 | mamba-dt) are refused: write "model":
        mamba-conv | mamba-s4d | mamba2 | mamba-delta-t, and "overrides" for 0.1's per-architecture "model".

merge   one line per cell id from any number of files (shards, reruns), start/error lines dropped;
        the output does not depend on the order of the inputs. A line that is not a valid record (a field
        of the wrong type or range, a duplicate key) refuses the file, naming file:line and the field; a cell
        finished twice with different outcomes is reported as a conflict (the earliest finished is kept)
report  heatmaps (best accuracy over seeds, κ or |V| × d) with the theorem's bound curve from the
        constructions module, and the smallest d reaching --threshold (default 0.999) vs the bound;
        for INDUCTION HEADS also Mamba vs Mamba-Δ⊤ per (|V|, d). --json writes the figure data.

Backend: each worker picks tfjs-node-gpu → WebGPU on a hardware GPU → tfjs-node → wasm → cpu at run time
(--backend NAME or SSM_BACKEND forces one for every worker); with npm webgpu (and a Vulkan/Metal/D3D12 driver)
or @tensorflow/tfjs-node-gpu installed the same command trains on the GPU. See docs/sweeps.md.
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  out: { type: 'string' },
  workers: { type: 'string' },
  shard: { type: 'string' },
  runs: { type: 'string' },
  verbose: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  json: { type: 'string' },
  threshold: { type: 'string' },
} as const;

/** A sweep spec is a few lines of JSON: anything above this is not one. */
const SPEC_MAX_BYTES = 16 * 2 ** 20;

async function loadSpec(arg: string): Promise<SweepSpec> {
  if (!arg.endsWith('.json')) return sweepPreset(arg);
  let text: string;
  try {
    text = await readTextChecked(arg, { what: 'sweep spec', maxBytes: SPEC_MAX_BYTES });
  } catch (e) {
    if (e instanceof SsmError) throw e; // FileError: not a regular file, or too large
    throw configError('<spec.json>', 'a readable JSON file', JSON.stringify(arg), (e as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw configError(arg, 'valid JSON', 'a parse error', (e as Error).message);
  }
  try {
    parseJsonStrict(text, arg); // duplicate keys (JSON.parse keeps the last silently), __proto__, constructor
  } catch (e) {
    if (e instanceof SsmError) throw configError(e.argument, e.expected, e.actual);
    throw e;
  }
  return validateSweepSpec(raw, arg);
}

/** SIGINT/SIGTERM: first one checkpoints and stops the running cells; a second one exits at once. */
function interruptible(): AbortController {
  const ctl = new AbortController();
  const handler = (sig: string) => () => {
    if (ctl.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: stopping — running cells save a checkpoint (again to quit at once)\n`);
    ctl.abort();
  };
  process.on('SIGINT', handler('SIGINT'));
  process.on('SIGTERM', handler('SIGTERM'));
  return ctl;
}

async function cmdRun(target: string | undefined, o: Opts): Promise<number> {
  if (!target)
    throw configError(
      'sweep run <spec.json|preset>',
      `a spec file or a preset (${Object.keys(SWEEP_PRESETS).join(', ')})`,
      'nothing',
    );
  const spec = await loadSpec(target);
  const shard = resolveShard(o.str('shard'));
  const out = shardPath(o.path('out', `results/${spec.name}.jsonl`), shard);
  const os = await import('node:os');
  const workers = o.num('workers', os.availableParallelism?.() ?? os.cpus().length, { int: true, min: 1 });
  const runsOpt = o.path('runs');
  const runsDir = runsOpt === 'off' ? false : runsOpt;
  if (o.flag('dry-run')) {
    const grid = expandGrid(spec);
    const mine = shardCells(grid, shard);
    const existing = await readResults(out);
    console.log(
      `${spec.name}: ${grid.length} cells; shard ${shard.index}/${shard.count} (${shard.source}): ${mine.length} → ${out}`,
    );
    for (const c of mine)
      console.log(`${existing.results.has(c.id) ? 'done' : 'todo'}  ${c.id}  #${c.index}  ${c.label}`);
    return 0;
  }
  const ctl = interruptible();
  const s = await runSweep({ spec, out, workers, shard, runsDir, signal: ctl.signal, verbose: o.flag('verbose') });
  if (s.interrupted) return 130;
  if (s.failed.length) {
    console.error(
      `${s.failed.length} cell(s) failed:\n${s.failed.map((f) => `  ${f.label} (${f.id}): ${f.message.split('\n')[0]}`).join('\n')}`,
    );
    return 1;
  }
  return 0;
}

/** Read results files for merge or report: torn lines are reported and skipped, an invalid record refuses the file. */
async function readForMerge(files: string[], what: string): Promise<ParsedResults[]> {
  const fs = await import('node:fs/promises');
  const parsed: ParsedResults[] = [];
  for (const f of files) {
    await fs.access(f).catch(() => {
      throw configError(`sweep ${what} <files…>`, 'existing files', JSON.stringify(f));
    });
    const p = await readResults(f);
    if (p.invalid.length) {
      const [first] = p.invalid;
      throw configError(
        `${f}:${first.line}`,
        'a valid sweep record',
        first.reason,
        p.invalid.length > 1
          ? `${p.invalid.length} invalid lines, first shown; fix or remove them`
          : 'fix or remove it',
      );
    }
    if (p.skipped.length)
      console.error(`${f}: ignored ${p.skipped.length} incomplete line(s) (first at line ${p.skipped[0].line})`);
    parsed.push(p);
  }
  return parsed;
}

const fmtOutcome = (r: MergeConflict['kept']) =>
  `accuracy ${r.result.accuracy} (loss ${r.result.loss}, ${r.result.steps} steps, finished ${r.finishedAt}${r.host ? ` on ${r.host}` : ''})`;

/** Print each conflict (at most 20) and a count to stderr. */
function reportConflicts(conflicts: MergeConflict[]): void {
  for (const c of conflicts.slice(0, 20))
    console.error(
      `conflict: cell ${c.id} (${c.label}): ${c.others.length + 1} different outcomes — kept ${fmtOutcome(c.kept)}; ` +
        c.others.map((o) => `also ${fmtOutcome(o)}`).join('; '),
    );
  if (conflicts.length)
    console.error(
      `${conflicts.length} conflicting cell(s)${conflicts.length > 20 ? ' (first 20 shown)' : ''}: ` +
        'the earliest finished result is kept; rerun those cells if the outcomes should agree',
    );
}

async function cmdMerge(files: string[], o: Opts): Promise<number> {
  const out = o.str('out');
  if (!files.length) throw configError('sweep merge <files…>', 'one or more results files', 'none');
  if (!out) throw configError('--out', 'the merged results file', 'nothing');
  const fs = await import('node:fs/promises');
  const parsed = await readForMerge(files, 'merge');
  const { records: merged, conflicts } = mergeResultsChecked(parsed);
  reportConflicts(conflicts);
  const { dirname } = await import('node:path');
  await fs.mkdir(dirname(out), { recursive: true });
  await writeFileAtomic(out, new TextEncoder().encode(toJsonl(merged)));
  const total = parsed.reduce((a, p) => a + p.results.size, 0);
  console.error(
    `merged ${files.length} file(s): ${total} result line(s) → ${merged.length} distinct cell(s) in ${out}`,
  );
  return 0;
}

async function cmdReport(files: string[], o: Opts): Promise<number> {
  if (!files.length) throw configError('sweep report <results.jsonl…>', 'one or more results files', 'none');
  const parsed = await readForMerge(files, 'report');
  for (const [i, p] of parsed.entries())
    if (!p.results.size)
      throw configError(
        'sweep report <results.jsonl…>',
        'files with result lines',
        `${JSON.stringify(files[i])} (none found)`,
      );
  const { records, conflicts } = mergeResultsChecked(parsed);
  reportConflicts(conflicts);
  const rep = sweepReport(records, { threshold: o.num('threshold', 0.999, { min: 0, max: 1 }) });
  console.log(rep.text);
  const json = o.str('json');
  if (json) {
    const fs = await import('node:fs/promises');
    const { dirname } = await import('node:path');
    await fs.mkdir(dirname(json), { recursive: true });
    const { text: _text, ...doc } = rep;
    await writeFileAtomic(
      json,
      new TextEncoder().encode(
        JSON.stringify({ figure: rep.task === 'mqar' ? 'fig2' : 'fig3', ...doc }, null, 2) + '\n',
      ),
    );
    console.error(`wrote ${json}`);
  }
  return 0;
}

/** Entry for `ssm-lab sweep …` (argv after "sweep"). Returns the exit code. */
export async function sweepMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    console.error(`ssm-lab sweep: ${(e as Error).message}\nRun ssm-lab sweep --help for the options.`);
    return 2;
  }
  const o = new Opts(parsed.values as Record<string, string | boolean | undefined>);
  const [sub, ...rest] = parsed.positionals;
  if (o.flag('help') || !sub || sub === 'help') {
    console.log(SWEEP_HELP);
    return 0;
  }
  try {
    const usage =
      sub === 'list'
        ? []
        : sub === 'show'
          ? ['<preset>']
          : sub === 'run'
            ? ['<spec.json|preset>']
            : sub === 'merge' || sub === 'report'
              ? null
              : [];
    if (usage) noExtraPositionals(rest, usage.length, `ssm-lab sweep ${[sub, ...usage].join(' ')}`);
    if (sub === 'list') {
      for (const [name, p] of Object.entries(SWEEP_PRESETS))
        console.log(`${name.padEnd(11)} ${expandGrid(p).length} cells — ${p.description ?? ''}`);
      return 0;
    }
    if (sub === 'show') {
      console.log(JSON.stringify(sweepPreset(rest[0] ?? ''), null, 2));
      return 0;
    }
    if (sub === 'merge') return await cmdMerge(rest, o);
    if (sub === 'report') return await cmdReport(rest, o);
    if (sub === 'run') return await cmdRun(rest[0], o);
    return await cmdRun(sub, o);
  } catch (e) {
    if (e instanceof SsmError) {
      console.error(`ssm-lab sweep: ${e.message}`);
      return 2;
    }
    console.error(
      `ssm-lab sweep: ${(e as Error).message}${process.env.SSM_DEBUG ? `\n${(e as Error).stack}` : ' (set SSM_DEBUG=1 for the stack)'}`,
    );
    return 1;
  }
}
