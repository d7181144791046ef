/** Token input checking shared by every model: rectangular, integer ids in [0, vocabSize). */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { fmtShape, shapeError, valueError } from '../errors.js';
import type { TokenInput } from './types.js';

/**
 * tokens → int32 [b, L] tensor (caller disposes when it created one), or a clear error. `checkSize(b, L)`, when
 * given, runs once the shape is known and before anything is converted (a model's memory check).
 */
export function tokenTensor(tokens: TokenInput, V: number, checkSize?: (b: number, L: number) => void): Tensor {
  let t: Tensor;
  if (tokens instanceof tf.Tensor) {
    if (tokens.rank !== 2) throw shapeError('tokens', 'rank 2 [batch, L]', fmtShape(tokens.shape));
    checkSize?.(tokens.shape[0] as number, tokens.shape[1] as number);
    t = tokens.dtype === 'int32' ? tokens : tokens.cast('int32');
    if (tokens.dtype !== 'int32') {
      const raw = tokens.dataSync();
      const i = raw.findIndex((v) => !Number.isInteger(v));
      if (i >= 0) throw valueError('tokens', 'integer token ids', `${raw[i]} at flat index ${i}`);
    }
  } else {
    if (
      !Array.isArray(tokens) ||
      tokens.length === 0 ||
      !tokens.every((r) => Array.isArray(r) && r.length === tokens[0].length)
    ) {
      throw shapeError(
        'tokens',
        'a non-empty rectangular number[][] [batch, L]',
        Array.isArray(tokens)
          ? `rows of lengths ${tokens.map((r) => (Array.isArray(r) ? r.length : typeof r)).join(',')}`
          : typeof tokens,
      );
    }
    checkSize?.(tokens.length, tokens[0].length);
    const flat = tokens.flat();
    const i = flat.findIndex((v) => !Number.isInteger(v));
    if (i >= 0) throw valueError('tokens', 'integer token ids', `${flat[i]} at flat index ${i}`);
    t = tf.tensor2d(flat, [tokens.length, tokens[0].length], 'int32');
  }
  if (t.shape[1] === 0) throw shapeError('tokens', 'L ≥ 1', fmtShape(t.shape));
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (data[i] < 0 || data[i] >= V)
      throw valueError('tokens', `ids in [0, ${V}) (vocabSize)`, `${data[i]} at flat index ${i}`);
  }
  return t;
}
