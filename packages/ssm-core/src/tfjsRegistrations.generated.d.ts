// The types of tfjsRegistrations.generated.js's side effects (scripts/bundleTfjsRegistrations.mjs): the chained
// tensor methods (`x.add(y)`) augment tfjs-core's Tensor, and the gradient registrations. tfjs-core's and
// tfjs-backend-wasm's declarations use the globals of @types/long and @types/emscripten (their dependencies): the
// references below make them visible also in a project whose tsconfig lists its `types` (e.g. `["node"]`).
/// <reference types="long" preserve="true" />
/// <reference types="emscripten" preserve="true" />
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
