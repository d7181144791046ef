import { MambaModel, ready, tf } from '../../src/index.js';
import { writableViews } from '../../src/ops/kernels/cpu/hostMemory.js';
import { Adam } from '../../src/train/adam.js';
await ready();
const m = new MambaModel({ vocabSize: 128, dModel: 32, dState: 8, conv: false, gate: false, positionalEncoding: { scale: 0.1 } });
const a = new Adam(m.params);
for (const [n, p] of Object.entries(m.params)) console.log(n, !!writableViews([p, a.m[n], a.v[n]]));
