/** Layout changes between the model's [b, L, c] and the selective scan's [b, c, L]. */
import type { Tensor } from '@tensorflow/tfjs-core';

/** [b, L, c] → [b, c, L] (model layout → selective-scan layout). */
export const toChannelsFirst = (x: Tensor): Tensor => x.transpose([0, 2, 1]);
/** [b, c, L] → [b, L, c] (selective-scan layout → model layout). */
export const toTimeFirst = (x: Tensor): Tensor => x.transpose([0, 2, 1]);
