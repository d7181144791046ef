import { ready, tf } from '../../src/index.js';
await ready();
const x = tf.randomNormal([800, 128]);
const b = tf.randomNormal([128]);
const z = tf.randomNormal([800, 32]); const W = tf.randomNormal([128, 32]);
const f: Record<string, () => void> = {
  softmax: () => { const s = tf.softmax(x); s.dataSync(); s.dispose(); },
  addSoftmax: () => { const s = tf.tidy(() => tf.softmax(x.add(b))); s.dataSync(); s.dispose(); },
  read: () => { x.dataSync(); },
  mm: () => { const s = tf.tidy(() => tf.matMul(z, W.transpose())); s.dataSync(); s.dispose(); },
  mmT: () => { const s = tf.matMul(z, W, false, true); s.dataSync(); s.dispose(); },
  tensor: () => { const s = tf.tensor2d(new Float32Array(800 * 128), [800, 128]); s.dispose(); },
  transpose: () => { const s = tf.transpose(x); s.dataSync(); s.dispose(); },
  mmTA: () => { const s = tf.matMul(x, z, true, false); s.dataSync(); s.dispose(); },
  mmTA2: () => { const s = tf.tidy(() => tf.matMul(x.transpose(), z)); s.dataSync(); s.dispose(); },
};
for (let rep = 0; rep < 3; rep++) for (const [k, g] of Object.entries(f)) { let best = 1e9; for (let i = 0; i < 30; i++) { const t = performance.now(); g(); best = Math.min(best, performance.now() - t); } if (rep === 2) console.log(k, best.toFixed(3)); }
