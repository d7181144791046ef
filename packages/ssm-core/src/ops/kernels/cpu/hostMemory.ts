/**
 * Writable views of tensors' memory on the wasm backend, for updates in place (the optimizer's step).
 *
 * tfjs-backend-wasm keeps every tensor in its module's heap; `typedArrayFromHeap` is a Float32Array over that memory.
 * A view is handed out only for float32 tensors whose data no other tensor shares (backend refCount 1: a reshape
 * or an assigned-from tensor would see the write), and it stays valid until the heap next grows — callers read
 * everything they need first and write through the views without allocating tensors in between. Elsewhere (cpu,
 * whose `dataSync` returns the buffer itself to callers that may keep it; tensorflow; GPU backends) there are none.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';

interface WasmBackendMemory {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): Float32Array;
  refCount(dataId: object): number;
}

/** Float32Array views of `tensors`' memory, in order, or undefined when one of them cannot be written in place. */
export function writableViews(tensors: Tensor[]): Float32Array[] | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const backend = tf.backend() as unknown as WasmBackendMemory;
  if (typeof backend.typedArrayFromHeap !== 'function' || typeof backend.refCount !== 'function') return undefined;
  const seen = new Set<object>();
  for (const t of tensors) {
    if (t.dtype !== 'float32' || t.isDisposed || seen.has(t.dataId) || backend.refCount(t.dataId) !== 1)
      return undefined;
    seen.add(t.dataId);
  }
  return tensors.map((t) => backend.typedArrayFromHeap(t));
}
