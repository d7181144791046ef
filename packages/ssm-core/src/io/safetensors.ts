/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}},
 * then the raw little-endian tensor bytes. Pure bytes in, bytes out (runs in browsers too).
 *
 * Written here because no maintained npm package reads and writes it; the format is small and
 * every check below turns a corrupt file into a CheckpointError instead of garbage weights.
 * Reads F32, F64, F16, BF16 (as float32, e.g. PyTorch checkpoints) and I32; writes F32.
 */
import { checkpointError, fmtShape } from '../errors.js';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

const ITEMSIZE: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2, I32: 4 };

/** Tensors {name: {shape, data}} (written as F32, names sorted) and string metadata → safetensors bytes. */
export function encodeSafetensors(
  tensors: Record<string, NamedArray>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const name of names) {
    const { shape, data } = tensors[name];
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== data.length)
      throw checkpointError(`tensors["${name}"]`, `${n} values for shape ${fmtShape(shape)}`, `${data.length}`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + 4 * n] };
    offset += 4 * n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8); // align data to 8 bytes
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const name of names) {
    const d = tensors[name].data;
    for (let i = 0; i < d.length; i++, p += 4) view.setFloat32(p, d[i], true);
  }
  return out;
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Safetensors bytes → tensors (F32, F64, F16, BF16, I32 read as float32) and metadata; a corrupt file is a CheckpointError naming `source`. */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'checkpoint',
): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw checkpointError(source, 'a safetensors file (≥ 8 bytes)', `${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = Number(view.getBigUint64(0, true));
  if (headLen > bytes.length - 8)
    throw checkpointError(
      source,
      `a header of at most ${bytes.length - 8} bytes`,
      `${headLen} bytes (truncated or not safetensors)`,
    );
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headLen)));
  } catch (e) {
    throw checkpointError(source, 'a JSON safetensors header', `unparseable header (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw checkpointError(source, 'a JSON object header', typeof header);
  const dataStart = 8 + headLen;
  const dataLen = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors: Record<string, NamedArray> = {};
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = v as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    const where = `${source}: tensor "${name}"`;
    if (!e || typeof e.dtype !== 'string' || !(e.dtype in ITEMSIZE))
      throw checkpointError(where, `dtype one of ${Object.keys(ITEMSIZE).join('|')}`, String(e?.dtype));
    if (!Array.isArray(e.shape) || !e.shape.every((x) => Number.isInteger(x) && x >= 0))
      throw checkpointError(where, 'shape as a list of non-negative integers', JSON.stringify(e.shape));
    const [b, end] = e.data_offsets ?? [NaN, NaN];
    const n = e.shape.reduce((a, c) => a * c, 1);
    if (!Number.isInteger(b) || !Number.isInteger(end) || b < 0 || end > dataLen || end - b !== n * ITEMSIZE[e.dtype]) {
      throw checkpointError(
        where,
        `data_offsets spanning ${n * ITEMSIZE[e.dtype]} bytes inside ${dataLen}`,
        JSON.stringify(e.data_offsets),
      );
    }
    spans.push([b, end, name]);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart + b, end - b);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      switch (e.dtype) {
        case 'F32':
          data[i] = dv.getFloat32(4 * i, true);
          break;
        case 'F64':
          data[i] = dv.getFloat64(8 * i, true);
          break;
        case 'I32':
          data[i] = dv.getInt32(4 * i, true);
          break;
        case 'F16':
          data[i] = f16ToF32(dv.getUint16(2 * i, true));
          break;
        case 'BF16':
          data[i] = new Float32Array(Uint32Array.of(dv.getUint16(2 * i, true) << 16).buffer)[0];
          break;
      }
    }
    tensors[name] = { shape: e.shape, data };
  }
  spans.sort((x, y) => x[0] - y[0]);
  let covered = 0;
  for (const [b, end, name] of spans) {
    if (b !== covered)
      throw checkpointError(
        `${source}: tensor "${name}"`,
        `data starting at byte ${covered} (no holes or overlaps)`,
        `${b}`,
      );
    covered = end;
  }
  if (covered !== dataLen)
    throw checkpointError(source, `${covered} data bytes`, `${dataLen} (trailing or missing bytes)`);
  return { tensors, metadata };
}
