/**
 * `npm run bench` (its training section; alone: `npm run bench:train`): 200 training steps at batch 16 of Tab. 1's
 * Mamba+PE (d = 32, N = 8, no conv, no gate, PE 0.1·t) and Transformer (d = 16) on KEEP FIFTH (|V| = 128, T = 50)
 * through ssm-core's trainer, on the fused path — the host kernels of `linearCrossEntropy` (output layer + loss +
 * statistics), of Adam's update (one typed-array pass per parameter) and of `embedding` (rows + PE column, scatter-add
 * backward) and of the mixer (`s6Inner`: x_proj, dt_proj, scan and D as one op) — and on the op-by-op path, the
 * same ops' generic kernels (linear, logSoftmax cross-entropy and statistics as tf ops; ~12 tf ops per parameter for
 * Adam; gather + concat, one-hot matMul backward; the mixer as linear, slices, transposes and the fused scan op), in
 * the same run. Runs are interleaved (each repetition runs every variant once;
 * BENCH_REPS, default 5) after one warm-up run each; the table reports the best run of each and the ratio.
 */
import {
  getKernel,
  MambaModel,
  ready,
  registerKernel,
  resetFlag,
  setFlag,
  tasks,
  tf,
  train,
  TransformerModel,
  type SequenceModel,
  type TrainConfig,
} from '../src/index.js';

const STEPS = 200;
const B = 16;
const T = 50;
const V = 128;
const reps = Number(process.env.BENCH_REPS ?? 5);
const config: TrainConfig = { epochs: 1, stepsPerEpoch: STEPS, batchSize: B, lr: 0.03, lrMin: 1e-6, seed: 3 };
/** The ops whose kernels make the difference between the two paths. */
const FUSED_OPS = ['linearCrossEntropy', 'adamUpdate', 'embedding'];

const MODELS: Record<string, () => SequenceModel> = {
  'Mamba+PE': () =>
    new MambaModel({
      vocabSize: V,
      dModel: 32,
      dState: 8,
      conv: false,
      gate: false,
      positionalEncoding: { scale: 0.1 },
    }),
  Transformer: () => new TransformerModel({ vocabSize: V, dModel: 16, maxLen: T }),
};

await ready();
const backend = tf.getBackend();
const data = {
  train: tasks.keepNth({ n: 5, vocabSize: V, T, numSamples: STEPS * B, seed: 1 }),
  val: tasks.keepNth({ n: 5, vocabSize: V, T, numSamples: 16, seed: 2 }),
};

/**
 * Run `f` with FUSED_OPS on their generic kernels on the live backend and the mixers' host kernels off under the tape
 * (flag HOST_GRAD_KERNELS), then put both back.
 */
async function opByOp<R>(f: () => Promise<R>): Promise<R> {
  const saved = FUSED_OPS.map((op) => getKernel(op, backend));
  if (saved.some((k) => k === undefined)) throw new Error(`no ${backend} kernel of ${FUSED_OPS.join(' / ')} to swap`);
  for (const op of FUSED_OPS) registerKernel(op, backend, getKernel(op, 'generic'), { host: false });
  setFlag('HOST_GRAD_KERNELS', false); // the mixers' generic compositions under the tape too
  try {
    return await f();
  } finally {
    FUSED_OPS.forEach((op, i) => registerKernel(op, backend, saved[i], { host: true }));
    resetFlag('HOST_GRAD_KERNELS');
  }
}

async function seconds(make: () => SequenceModel, steps = STEPS): Promise<number> {
  const model = make();
  const t0 = performance.now();
  await train(model, data, { ...config, stepsPerEpoch: steps }, { progress: 'off' });
  const s = (performance.now() - t0) / 1000;
  model.dispose();
  return s;
}

console.log(
  `\nTraining steps, Tab. 1 models on KEEP FIFTH (|V| = ${V}, T = ${T}), ${STEPS} steps at batch ${B}, tfjs ${backend}; ` +
    `fused path vs op-by-op (generic kernels of ${FUSED_OPS.join(', ')} and the mixer's, HOST_GRAD_KERNELS off); ` +
    `best of ${reps} interleaved runs`,
);
const variants = Object.keys(MODELS).flatMap((m) => [`${m} fused`, `${m} op-by-op`]);
const run = (v: string) => {
  const make = MODELS[v.split(' ')[0]];
  return v.endsWith('op-by-op') ? opByOp(() => seconds(make)) : seconds(make);
};
for (const m of Object.values(MODELS)) {
  await seconds(m, 20); // warm-up: kernels compiled, heaps grown
  await opByOp(() => seconds(m, 20));
}
const best: Record<string, number> = {};
for (let rep = 0; rep < reps; rep++) for (const v of variants) best[v] = Math.min(best[v] ?? Infinity, await run(v));
console.log('\n| model | fused steps/s | op-by-op steps/s | fused ÷ op-by-op |\n|---|---|---|---|');
for (const m of Object.keys(MODELS)) {
  const [f, o] = [STEPS / best[`${m} fused`], STEPS / best[`${m} op-by-op`]];
  console.log(`| ${m} | ${f.toFixed(1)} | ${o.toFixed(1)} | ${(f / o).toFixed(2)}× |`);
}
