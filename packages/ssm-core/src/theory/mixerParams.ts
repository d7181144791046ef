/**
 * Plain-data parameters for running the repo's mixers directly (`MIXERS[kind].forward` with our
 * own parameter getter): seeded initialisation exactly as `MambaModel` does it, overrides by
 * name with shape checks, and conversion to tensors / JSON-friendly arrays.
 *
 * Notation: names are mixer-relative ("A_log", "x_proj.weight", …, without "mixer.").
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { fmtShape, shapeError, valueError } from '../errors.js';
import { MIXERS, type MixerContext, type MixerKind } from '../mixers/index.js';
import { Rng } from '../random.js';
import { ownKey } from '../validate.js';

/** One mixer parameter: float32 values, row-major, of `shape` (torch layout). */
export interface Param {
  data: Float32Array;
  shape: number[];
}

/** Parameters by mixer-relative name as plain arrays (JSON-friendly), e.g. `params.A_log.data`. */
export type PlainParams = Record<string, { data: number[]; shape: number[] }>;

/** A parameter filled by index. */
export const param = (shape: number[], fill: (i: number) => number): Param => {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: size }, (_, i) => fill(i)), shape };
};

/** The mixer's parameters as `MambaModel` would initialise them from `seed`, then `overrides` by name. */
export function mixerParams(
  kind: MixerKind,
  ctx: MixerContext,
  seed: number,
  overrides: Record<string, ArrayLike<number>> = {},
): Record<string, Param> {
  const rng = new Rng(seed);
  const out: Record<string, Param> = {};
  for (const s of MIXERS[kind].specs(ctx)) out[s.name] = { data: s.init(rng), shape: s.shape };
  for (const [name, v] of Object.entries(overrides)) {
    const p = out[ownKey(name, 'options.params', out, `names among ${Object.keys(out).join(', ')}`)];
    if (v.length !== p.data.length)
      throw shapeError(
        `options.params["${name}"]`,
        `${p.data.length} values for shape ${fmtShape(p.shape)}`,
        `${v.length}`,
      );
    for (let i = 0; i < v.length; i++)
      if (Number.isNaN(v[i])) throw valueError(`options.params["${name}"]`, 'no NaN', `NaN at index ${i}`);
    out[name] = { data: Float32Array.from(v), shape: p.shape };
  }
  return out;
}

/** Tensors for a parameter record (caller disposes). */
export const toTensors = (ps: Record<string, Param>): Record<string, Tensor> =>
  Object.fromEntries(Object.entries(ps).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')]));

/** JSON-friendly copy. */
export const toPlain = (ps: Record<string, Param>): PlainParams =>
  Object.fromEntries(Object.entries(ps).map(([k, v]) => [k, { data: Array.from(v.data), shape: v.shape }]));

/** Getter for `Mixer.forward`. */
export const getter =
  (ts: Record<string, Tensor>) =>
  (name: string): Tensor => {
    return ts[ownKey(name, 'mixer parameter', ts, `one of ${Object.keys(ts).join(', ')}`)];
  };
