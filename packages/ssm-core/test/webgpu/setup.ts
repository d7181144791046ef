/**
 * Test-only WebGPU setup (vitest `setupFiles` of vitest.webgpu.config.ts): loads Dawn's `dawn.node` from npm's
 * `webgpu`, exposes `navigator.gpu` and the `GPU*` globals, then evaluates @tensorflow/tfjs-backend-webgpu (it
 * registers the 'webgpu' backend only when `navigator.gpu` exists) and activates it. On a machine without a GPU
 * the adapter is a CPU Vulkan driver (Mesa's lavapipe, picked with VK_DRIVER_FILES).
 */
import { create, globals } from 'webgpu';

process.env.SSM_BACKEND ??= 'webgpu'; // ssm-core's ready() activates its backend at import

Object.assign(globalThis, globals);
const gpu = create([]);
try {
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
} catch {
  Object.defineProperty((globalThis as unknown as { navigator: object }).navigator, 'gpu', { value: gpu });
}
await import('@tensorflow/tfjs-backend-webgpu');
const tf = await import('@tensorflow/tfjs');
if (!(await tf.setBackend('webgpu'))) throw new Error('WebGPU test setup: the webgpu backend did not start');
await tf.ready();
