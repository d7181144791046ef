/**
 * `npm run bench`: the fused selective scan (tensors in → tensors out, through tfjs) against a
 * plain Float32Array loop doing the same recurrence, measured in the same run.
 * Shapes are [batch, L, dInner, dState]. Reports medians and the ratio fused / plain.
 */
import { Rng, ready, selectiveScan, tf } from '../src/index.js';
import { plainBackward, plainForward, type Plain } from './plainLoop.js';

const SHAPES: [number, number, number, number][] = [
  [16, 128, 64, 16],
  [16, 1024, 64, 16],
];
const reps = Number(process.env.BENCH_REPS ?? 7);

function median(f: () => void, n = reps): number {
  f(); // warm-up (JIT, wasm)
  const ts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    f();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

function problem([b, L, d, n]: [number, number, number, number]): Plain {
  const r = new Rng(1);
  return {
    b,
    d,
    n,
    L,
    u: r.fill(b * d * L, (x) => x.normal()),
    delta: r.fill(b * d * L, (x) => x.range(0.001, 0.1)),
    A: r.fill(d * n, (x) => -x.range(0.5, 16)),
    B: r.fill(b * n * L, (x) => x.normal()),
    C: r.fill(b * n * L, (x) => x.normal()),
    D: r.fill(d, (x) => x.normal()),
  };
}

const fmt = (ms: number) => `${ms.toFixed(1).padStart(8)} ms`;

async function main() {
  const info = await ready();
  console.log(`backend: ${info.name} (${info.reason}); reps: ${reps} (median)\n`);
  const rows: string[][] = [];
  for (const shape of SHAPES) {
    const p = problem(shape);
    const { b, d, n, L } = p;
    const T = {
      u: tf.tensor3d(p.u, [b, d, L]),
      delta: tf.tensor3d(p.delta, [b, d, L]),
      A: tf.tensor2d(p.A, [d, n]),
      B: tf.tensor3d(p.B, [b, n, L]),
      C: tf.tensor3d(p.C, [b, n, L]),
      D: tf.tensor1d(p.D),
    };
    const gOut = new Rng(2).fill(b * d * L, (x) => x.normal());
    const dy = tf.tensor3d(gOut, [b, d, L]);
    const plainF = median(() => plainForward(p));
    const fusedF = median(() => selectiveScan({ ...T, impl: 'fused' }).out.dispose());
    const plainFB = median(() => {
      const st = new Float32Array(b * d * L * n);
      plainForward(p, st);
      plainBackward(p, st, gOut);
    });
    const fusedFB = median(() => {
      const f = (u: tf.Tensor, delta: tf.Tensor, A: tf.Tensor, B: tf.Tensor, C: tf.Tensor, D: tf.Tensor) =>
        selectiveScan({ u, delta, A, B, C, D, impl: 'fused' }).out;
      tf.dispose(tf.grads(f)([T.u, T.delta, T.A, T.B, T.C, T.D], dy));
    });
    const name = `[${shape.join(',')}]`;
    rows.push([name, 'forward', fmt(plainF), fmt(fusedF), (fusedF / plainF).toFixed(2) + '×']);
    rows.push([name, 'forward+backward', fmt(plainFB), fmt(fusedFB), (fusedFB / plainFB).toFixed(2) + '×']);
    if (L <= 128) {
      const tensorF = median(() => selectiveScan({ ...T, impl: 'tensor' }).out.dispose(), 3);
      rows.push([name, 'forward (tf-op path)', fmt(plainF), fmt(tensorF), (tensorF / plainF).toFixed(2) + '×']);
    }
    tf.dispose([...Object.values(T), dy]);
  }
  const head = ['shape [b,L,d,n]', 'pass', 'plain loop', 'ssm-core', 'ratio'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  console.log([line(head), line(w.map((x) => '-'.repeat(x))), ...rows.map(line)].join('\n'));
  console.log(
    '\nratio = ssm-core selectiveScan (fused, tensors in/out, via tfjs) ÷ plain Float32Array loop. Target ≤ 1.5×.',
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
