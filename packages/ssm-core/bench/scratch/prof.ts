import { MambaModel, TransformerModel, ready, tasks, tf, setFlag, type SequenceModel } from '../../src/index.js';
import { Adam } from '../../src/train/adam.js';
import { linearCrossEntropy, maskedCrossEntropy, lossStatsTensor } from '../../src/ops/index.js';
await ready();
const which = process.argv[2] ?? 'mamba+pe';
const B = Number(process.argv[3] ?? 16);
const T = 50;
const data = tasks.keepNth({ n: 5, vocabSize: 128, T, numSamples: 4096, seed: 1 });
const model: SequenceModel =
  which === 'transformer'
    ? new TransformerModel({ vocabSize: 128, dModel: 16, maxLen: T })
    : new MambaModel({ vocabSize: 128, dModel: 32, dState: 8, conv: false, gate: false, mixer: which.startsWith('s4d') ? 's4d' : 's6', positionalEncoding: which.endsWith('+pe') ? { scale: 0.1 } : false });
console.log(which, 'params', model.numParams(), tf.getBackend());
const names = Object.keys(model.params);
const vars = names.map((n) => model.params[n]);
const nameOf = new Map(vars.map((v, i) => [v.name, names[i]]));
const adam = new Adam(model.params);
function batch(k: number) {
  const x = new Int32Array(B * T), y = new Int32Array(B * T);
  for (let i = 0; i < B; i++) { const r = (k * B + i) % data.numSamples; x.set(data.inputs.subarray(r * T, r * T + T), i * T); y.set(data.targets.subarray(r * T, r * T + T), i * T); }
  return { x: tf.tensor2d(x, [B, T], 'int32'), y: tf.tensor2d(y, [B, T], 'int32') };
}
let fused = process.env.FUSED !== '0';
const t = { fb: 0, adam: 0, read: 0, batch: 0 };
function step(k: number) {
  let t0 = performance.now();
  const { x, y } = batch(k);
  let t1 = performance.now(); t.batch += t1 - t0;
  let st: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    if (fused && model.headInput) { const h = model.headInput(x); const r = linearCrossEntropy(h.z, h.weight, h.bias, y); st = tf.keep(r.stats); return r.loss; }
    const logits = model.forward(x); st = tf.keep(lossStatsTensor(logits, y)); return maskedCrossEntropy(logits, y);
  }, vars);
  let t2 = performance.now(); t.fb += t2 - t1;
  const byName: Record<string, tf.Tensor> = {};
  for (const [vn, g] of Object.entries(grads)) byName[nameOf.get(vn)!] = g;
  adam.apply(byName, 0.01);
  let t3 = performance.now(); t.adam += t3 - t2;
  tf.dispose([x, y, ...Object.values(grads)]);
  value.dataSync(); st!.dataSync(); tf.dispose([value, st!]);
  t.read += performance.now() - t3;
}
for (let k = 0; k < 20; k++) step(k);
const best: Record<string, number> = { fused: 1e9, ops: 1e9 };
const parts: Record<string, typeof t> = {};
for (let rep = 0; rep < 7; rep++) for (const v of (process.env.ONLY ? [process.env.ONLY] : ['fused', 'ops'])) {
  fused = v === 'fused';
  Object.assign(t, { fb: 0, adam: 0, read: 0, batch: 0 });
  const t0 = performance.now();
  for (let k = 0; k < 20; k++) step(k);
  const ms = (performance.now() - t0) / 20;
  if (ms < best[v]) { best[v] = ms; parts[v] = { fb: t.fb / 20, adam: t.adam / 20, read: t.read / 20, batch: t.batch / 20 }; }
}
for (const v of Object.keys(parts)) console.log(v, `${(1000 / best[v]).toFixed(1)} steps/s, ${best[v].toFixed(2)} ms/step`, JSON.stringify(parts[v], (k, x) => typeof x === 'number' ? +x.toFixed(2) : x));
fused = true;
if (process.env.PROFILE) {
  const info = await tf.profile(() => { step(0); });
  const agg = new Map<string, { n: number; ms: number }>();
  for (const k of info.kernels) { const a = agg.get(k.name) ?? { n: 0, ms: 0 }; a.n++; a.ms += Number(k.kernelTimeMs) || 0; agg.set(k.name, a); }
  const rows = [...agg.entries()].sort((a, b) => b[1].ms - a[1].ms);
  console.log('kernels', info.kernels.length, rows.slice(0, 25).map(([k, v]) => `${k}×${v.n} ${v.ms.toFixed(2)}`).join(', '));
}
console.log('tensors', tf.memory().numTensors);
