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
  /** Shape, e.g. [d, N]. */
  shape: number[];
  /** Values in row-major order (float32). */
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

/** Keys a header or config may not use: they name prototype machinery, never a tensor or a field. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Refuse duplicate keys inside one JSON object and the keys `__proto__` / `constructor` / `prototype`
 * anywhere in `text` (JSON.parse keeps the last of duplicate keys silently). `text` must be valid JSON.
 */
function checkJsonKeys(text: string, source: string): void {
  const stack: (Set<string> | null)[] = []; // one Set of seen keys per open object, null per open array
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (FORBIDDEN_KEYS.has(key))
          throw checkpointError(source, 'JSON without the keys __proto__, constructor, prototype', JSON.stringify(key));
        if (top.has(key))
          throw checkpointError(source, 'JSON without duplicate keys', `key ${JSON.stringify(key)} twice`);
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      stack.push(null);
      expectKey = false;
    } else if (ch === '}' || ch === ']') {
      stack.pop();
      expectKey = false;
    } else if (ch === ',') {
      expectKey = stack[stack.length - 1] != null;
    }
  }
}

/**
 * `JSON.parse(text)` that also refuses duplicate keys and the keys `__proto__` / `constructor` / `prototype`
 * (a CheckpointError naming `source`), for JSON read from files.
 */
export function parseJsonStrict(text: string, source: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw checkpointError(source, 'JSON', `unparseable (${(e as Error).message})`);
  }
  checkJsonKeys(text, source);
  return value;
}

/** One tensor of a safetensors header: dtype, shape and its byte span [begin, end) inside the data section. */
export interface SafetensorsEntry {
  /** Stored dtype, e.g. 'F32'. */
  dtype: string;
  /** Shape of the tensor. */
  shape: number[];
  /** First byte of its data, counted from the start of the data section. */
  begin: number;
  /** One past its last byte. */
  end: number;
}

/** A validated safetensors header: tensor entries (own keys, in file order), string metadata, data offset. */
export interface SafetensorsHeader {
  /** Every tensor by name. */
  entries: Record<string, SafetensorsEntry>;
  /** The `__metadata__` strings (ssm-core stores the model kind and config there). */
  metadata: Record<string, string>;
  /** Offset of the data section in the file (8 + header length). */
  dataStart: number;
}

/**
 * Read and check the header of safetensors `bytes` without decoding any tensor: JSON object with own,
 * unique keys, string-valued `__metadata__`, every tensor's dtype, shape and data_offsets inside the file,
 * the spans covering the data section exactly. A corrupt header is a CheckpointError naming `source`.
 */
export function readSafetensorsHeader(bytes: Uint8Array, source = 'checkpoint'): SafetensorsHeader {
  if (bytes.length < 8) throw checkpointError(source, 'a safetensors file (≥ 8 bytes)', `${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = Number(view.getBigUint64(0, true));
  if (headLen > bytes.length - 8)
    throw checkpointError(
      source,
      `a header of at most ${bytes.length - 8} bytes`,
      `${headLen} bytes (truncated or not safetensors)`,
    );
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headLen));
  } catch (e) {
    throw checkpointError(source, 'a UTF-8 safetensors header', `undecodable header (${(e as Error).message})`);
  }
  const header = parseJsonStrict(text, `${source}: header`) as Record<string, unknown>;
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw checkpointError(source, 'a JSON object header', header === null ? 'null' : typeof header);
  const dataStart = 8 + headLen;
  const dataLen = bytes.length - dataStart;
  const rawMeta = Object.hasOwn(header, '__metadata__') ? header.__metadata__ : {};
  if (rawMeta === null || typeof rawMeta !== 'object' || Array.isArray(rawMeta))
    throw checkpointError(`${source}: __metadata__`, 'an object of strings', JSON.stringify(rawMeta));
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawMeta)) {
    if (typeof v !== 'string') throw checkpointError(`${source}: __metadata__.${k}`, 'a string', JSON.stringify(v));
    metadata[k] = v;
  }
  const entries: Record<string, SafetensorsEntry> = {};
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = (v !== null && typeof v === 'object' ? v : {}) as Record<string, unknown>;
    const own = (k: string) => (Object.hasOwn(e, k) ? e[k] : undefined);
    const where = `${source}: tensor "${name}"`;
    const dtype = own('dtype');
    if (typeof dtype !== 'string' || !Object.hasOwn(ITEMSIZE, dtype))
      throw checkpointError(where, `dtype one of ${Object.keys(ITEMSIZE).join('|')}`, String(dtype));
    const shape = own('shape');
    if (!Array.isArray(shape) || !shape.every((x) => Number.isSafeInteger(x) && x >= 0))
      throw checkpointError(where, 'shape as a list of non-negative integers', JSON.stringify(shape));
    const offsets = own('data_offsets');
    const [b, end] = Array.isArray(offsets) && offsets.length === 2 ? (offsets as number[]) : [NaN, NaN];
    const n = (shape as number[]).reduce((a, c) => a * c, 1);
    if (
      !Number.isSafeInteger(b) ||
      !Number.isSafeInteger(end) ||
      b < 0 ||
      end > dataLen ||
      end - b !== n * ITEMSIZE[dtype]
    ) {
      throw checkpointError(
        where,
        `data_offsets spanning ${n * ITEMSIZE[dtype]} bytes inside ${dataLen}`,
        JSON.stringify(offsets),
      );
    }
    spans.push([b, end, name]);
    entries[name] = { dtype, shape: shape as number[], begin: b, end };
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
  return { entries, metadata, dataStart };
}

/** Safetensors bytes → tensors (F32, F64, F16, BF16, I32 read as float32) and metadata; a corrupt file is a CheckpointError naming `source`. */
export function decodeSafetensors(
  bytes: Uint8Array,
  source = 'checkpoint',
): { tensors: Record<string, NamedArray>; metadata: Record<string, string> } {
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes, source);
  const tensors: Record<string, NamedArray> = {};
  for (const [name, e] of Object.entries(entries)) {
    const n = e.shape.reduce((a, c) => a * c, 1);
    const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart + e.begin, e.end - e.begin);
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
  return { tensors, metadata };
}
