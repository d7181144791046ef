// The types of tfjsRegistrations.generated.js's side effects (scripts/bundleTfjsRegistrations.mjs): the chained
// tensor methods (`x.add(y)`) augment tfjs-core's Tensor, and the gradient registrations.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
