/** safetensors round trips, PyTorch dtypes, and refusal of corrupt or mismatched checkpoints. */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  MambaModel,
  decodeSafetensors,
  encodeSafetensors,
  loadModel,
  ready,
  saveModel,
  tf,
} from '../src/index.js';
import { read } from './helpers.js';

beforeAll(async () => {
  await ready();
});

const tokens = [[1, 2, 3, 4, 0, 5]];

describe('safetensors', () => {
  it('encodes the documented layout: u64 header length, JSON header, 8-byte aligned little-endian data', () => {
    const bytes = encodeSafetensors(
      { b: { shape: [2], data: Float32Array.of(3, -4) }, a: { shape: [1, 1], data: Float32Array.of(1.5) } },
      { k: 'v' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ k: 'v' });
    expect(header.a).toEqual({ dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] });
    expect(header.b).toEqual({ dtype: 'F32', shape: [2], data_offsets: [4, 12] });
    const dv = new DataView(bytes.buffer, 8 + n);
    expect([dv.getFloat32(0, true), dv.getFloat32(4, true), dv.getFloat32(8, true)]).toEqual([1.5, 3, -4]);
  });

  it('reads F16, BF16 and F64 tensors as written by PyTorch', () => {
    const header = JSON.stringify({
      h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] },
      bf: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
      d: { dtype: 'F64', shape: [1], data_offsets: [10, 18] },
    });
    const head = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + head.length + 18);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, BigInt(head.length), true);
    bytes.set(head, 8);
    const o = 8 + head.length;
    [0x3c00, 0xc000, 0x3555].forEach((v, i) => dv.setUint16(o + 2 * i, v, true)); // 1, −2, ≈1/3
    [0x3f80, 0xc0a0].forEach((v, i) => dv.setUint16(o + 6 + 2 * i, v, true)); // 1, −5
    dv.setFloat64(o + 10, Math.PI, true);
    const { tensors } = decodeSafetensors(bytes);
    expect(Array.from(tensors.h.data)).toEqual([1, -2, Math.fround(0.333251953125)]);
    expect(Array.from(tensors.bf.data)).toEqual([1, -5]);
    expect(tensors.d.data[0]).toBe(Math.fround(Math.PI));
  });

  it('refuses truncated, garbled and overlapping files with a CheckpointError', () => {
    const good = encodeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
    expect(() => decodeSafetensors(good.subarray(0, 5))).toThrow(CheckpointError);
    expect(() => decodeSafetensors(good.subarray(0, good.length - 4))).toThrow(/data_offsets/);
    const garbled = good.slice();
    garbled[9] = 0x7b; // '{' inside the header
    garbled[10] = 0x7b;
    expect(() => decodeSafetensors(garbled)).toThrow(/JSON/);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    expect(() => decodeSafetensors(huge)).toThrow(/header of at most/);
  });
});

describe('model checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssm-core-'));

  it('save → load reproduces config, every weight and the logits exactly', async () => {
    const m = new MambaModel({
      vocabSize: 9,
      dModel: 6,
      dState: 4,
      mixer: 'mamba2',
      positionalEncoding: true,
      seed: 5,
    });
    const path = join(dir, 'm.safetensors');
    await saveModel(m, path);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]); // atomic write leaves no temp file
    const back = await loadModel(path);
    expect(back.config).toEqual(m.config);
    for (const n of m.paramNames()) expect(Array.from(read(back.getParam(n)))).toEqual(Array.from(read(m.getParam(n))));
    const [a, b] = [m.forward(tokens), back.forward(tokens)];
    expect(Array.from(read(b))).toEqual(Array.from(read(a)));
    tf.dispose([a, b]);
    m.dispose();
    back.dispose();
  });

  it('refuses a checkpoint of another architecture without changing a single weight', () => {
    const a = new MambaModel({ vocabSize: 9, dModel: 6, dState: 4, seed: 1 });
    const b = new MambaModel({ vocabSize: 9, dModel: 6, dState: 5, seed: 2 });
    const c = new MambaModel({ vocabSize: 9, dModel: 6, dState: 4, gate: false, seed: 3 });
    const before = read(b.getParam('embedding.weight')).slice();
    expect(() => b.loadSafetensors(a.toSafetensors(), 'a.safetensors')).toThrow(
      /a.safetensors: tensor "mixer.A_log": expected shape \[6,5\], got \[6,4\]/,
    );
    expect(Array.from(read(b.getParam('embedding.weight')))).toEqual(Array.from(before)); // nothing half-loaded
    expect(() => c.loadSafetensors(a.toSafetensors())).toThrow(/unexpected \[mixer.gate.bias, mixer.gate.weight\]/);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('refuses NaN weights and files without a config', async () => {
    const a = new MambaModel({ vocabSize: 5, dModel: 4, dState: 2 });
    const bytes = a.toSafetensors();
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const bad = bytes.slice();
    new DataView(bad.buffer).setFloat32(8 + n, NaN, true);
    expect(() => a.loadSafetensors(bad)).toThrow(/NaN/);
    const bare = encodeSafetensors({ x: { shape: [1], data: Float32Array.of(1) } });
    const path = join(dir, 'bare.safetensors');
    writeFileSync(path, bare);
    await expect(loadModel(path)).rejects.toThrow(/__metadata__.config/);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path).length).toBe(bare.length);
    a.dispose();
  });
});
