/**
 * `npm run bench:torch` — Tab. 1's Mamba+PE trained for 200 steps (BENCH_STEPS) at batch 16 by ssm-core's trainer
 * and by PyTorch on the CPU (table1.py; 1 thread and 2, TORCH_THREADS=1,2), from the same initial weights
 * (ssm-core's, exported as safetensors), on the same batches (the trainer's epoch order), with the same Adam and cosine schedule. Runs are interleaved (each
 * repetition runs every variant once, BENCH_REPS times, default 5); it prints steps/s of each (best run), the
 * ratios, and the largest difference between the loss curves. Run by hand, not in CI: it needs PyTorch
 * (Debian: `apt-get install python3-torch`); the interpreter is $PYTHON, else the first of python3 and
 * /usr/bin/python3 that imports torch.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cosineLr, MambaModel, ready, tasks, tf, train, type TrainConfig } from '../../src/index.js';
import { epochOrder } from '../../src/train/trainer.js';

const STEPS = Number(process.env.BENCH_STEPS ?? 200);
const B = 16;
const T = 50;
const V = 128;
const reps = Number(process.env.BENCH_REPS ?? 5);
const config: TrainConfig = { epochs: 1, stepsPerEpoch: STEPS, batchSize: B, lr: 0.03, lrMin: 1e-6, seed: 3 };
const modelConfig = {
  vocabSize: V,
  dModel: 32,
  dState: 8,
  conv: false as const,
  gate: false as const,
  positionalEncoding: { scale: 0.1 },
  seed: 0,
};

function findPython(): string | undefined {
  const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

function gitRev(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${rev} + uncommitted changes` : rev;
  } catch {
    return 'unknown';
  }
}

const python = findPython();
if (!python) {
  console.log(
    'bench:torch needs PyTorch, and no interpreter here imports it (tried $PYTHON, python3, /usr/bin/python3).\n' +
      'Install it (Debian: apt-get install python3-torch; else pip install torch) or point PYTHON at one that has it.',
  );
  process.exit(0);
}

await ready();
const data = {
  train: tasks.keepNth({ n: 5, vocabSize: V, T, numSamples: STEPS * B, seed: 1 }),
  val: tasks.keepNth({ n: 5, vocabSize: V, T, numSamples: 16, seed: 2 }),
};
const init = new MambaModel(modelConfig);
const dir = mkdtempSync(join(tmpdir(), 'ssm-bench-torch-'));
writeFileSync(join(dir, 'init.safetensors'), init.toSafetensors());
// the trainer's batches: step k of epoch 0 reads rows order[kB … (k+1)B)
const order = epochOrder(data.train.numSamples, config.seed, 0);
const batches = new Int32Array(STEPS * 2 * B * T);
for (let k = 0; k < STEPS; k++) {
  for (let i = 0; i < B; i++) {
    const row = order[(k * B + i) % order.length];
    batches.set(data.train.inputs.subarray(row * T, row * T + T), ((k * 2 + 0) * B + i) * T);
    batches.set(data.train.targets.subarray(row * T, row * T + T), ((k * 2 + 1) * B + i) * T);
  }
}
writeFileSync(join(dir, 'batches.bin'), new Uint8Array(batches.buffer));
const lrs = Array.from({ length: STEPS }, (_, s) => cosineLr(s, STEPS, config.lr, config.lrMin));
const { dModel, dState, dtRank } = init.config;
writeFileSync(join(dir, 'run.json'), JSON.stringify({ steps: STEPS, B, T, lrs, dModel, dState, dtRank, peScale: 0.1 }));
init.dispose();

const child = spawn(python, [fileURLToPath(new URL('./table1.py', import.meta.url)), dir], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
const nextJson = async (): Promise<Record<string, unknown>> => {
  const { value, done } = await lines.next();
  if (done) throw new Error('table1.py ended early (its error is above)');
  return JSON.parse(value as string) as Record<string, unknown>;
};
const hello = await nextJson();

async function runTorch(threads: number): Promise<{ seconds: number; losses: number[] }> {
  child.stdin.write(`${threads}\n`);
  const r = await nextJson();
  return { seconds: r.seconds as number, losses: r.losses as number[] };
}

async function runCore(): Promise<{ seconds: number; losses: number[] }> {
  const model = new MambaModel(modelConfig);
  const losses: number[] = [];
  const t0 = performance.now();
  await train(model, data, config, { progress: 'off', onStep: (s) => losses.push(s.loss) });
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  return { seconds, losses };
}

const threads = (process.env.TORCH_THREADS ?? '1,2').split(',').map(Number);
const torchName = (n: number) => `torch ${n} thread${n === 1 ? '' : 's'}`;
const variants = ['ssm-core', ...threads.map(torchName)];
const best: Record<string, { seconds: number; losses: number[] }> = {};
const keep = (k: string, r: { seconds: number; losses: number[] }) => {
  if (!best[k] || r.seconds < best[k].seconds) best[k] = r;
};
console.log(
  `Tab. 1 Mamba+PE (d = 32, N = 8, |V| = 128, T = 50, no conv, no gate, PE 0.1·t), ${STEPS} steps at batch ${B}, ` +
    `Adam + cosine ${config.lr} → ${config.lrMin}; ssm-core on tfjs ${tf.getBackend()}, PyTorch ${hello.torch as string}; ` +
    `${reps} interleaved runs, best of each; git ${gitRev()}`,
);
for (let rep = 0; rep < reps; rep++) {
  const now: Record<string, { seconds: number; losses: number[] }> = { 'ssm-core': await runCore() };
  for (const n of threads) now[torchName(n)] = await runTorch(n);
  for (const v of variants) keep(v, now[v]);
  process.stdout.write(
    `  run ${rep + 1}/${reps}: ${variants.map((v) => `${v} ${now[v].seconds.toFixed(2)} s`).join(', ')}\n`,
  );
}
child.stdin.write('quit\n');
rmSync(dir, { recursive: true, force: true });

const sps = (k: string) => STEPS / best[k].seconds;
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
console.log(`\n| variant | seconds (${STEPS} steps) | steps/s | ssm-core ÷ it |\n|---|---|---|---|`);
for (const v of variants)
  console.log(
    `| ${v} | ${best[v].seconds.toFixed(2)} | ${sps(v).toFixed(1)} | ${(sps('ssm-core') / sps(v)).toFixed(2)}× |`,
  );
const core = best['ssm-core'].losses;
console.log(
  `\nloss curves: first ${core[0].toFixed(4)}, last ${core[STEPS - 1].toFixed(4)} (ssm-core); largest |ssm-core − torch| ` +
    `over the ${STEPS} steps: ` +
    threads.map((n) => `${maxDiff(core, best[torchName(n)].losses).toExponential(2)} (${torchName(n)})`).join(', '),
);
