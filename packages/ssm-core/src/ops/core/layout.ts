/** Layout changes between the model's [b, L, c] and the selective scan's [b, c, L], and broadcasts of parameters. */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../backend.js';

/** [b, L, c] → [b, c, L] (model layout → selective-scan layout). */
export const toChannelsFirst = (x: Tensor): Tensor => x.transpose([0, 2, 1]);
/** [b, c, L] → [b, L, c] (selective-scan layout → model layout). */
export const toTimeFirst = (x: Tensor): Tensor => x.transpose([0, 2, 1]);

/**
 * `x` broadcast to `shape` as x + 0, for tensors a gradient flows through: its gradient is one sum over the
 * broadcast axes. (tf.broadcastTo runs the Tile kernel, whose gradient adds one slice of the cotangent per
 * repetition: 256 slices and adds for a [1, 1] → [32, 8] broadcast, each a GPU program on webgpu.)
 */
export const broadcastParam = (x: Tensor, shape: number[]): Tensor => x.add(tf.zeros(shape));
