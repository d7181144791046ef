/**
 * Kernel registry: each op of ssm-core validates its arguments once and runs the kernel registered for the live
 * tfjs backend, the way tfjs-core's ops dispatch to the kernels a backend registers (`tfjs-core/src/ops/cumsum.ts`
 * → `tfjs-backend-cpu/src/kernels/Cumsum.ts`). Every op has a `'generic'` kernel made of tf ops (any backend,
 * differentiable by tfjs autodiff); host kernels (typed-array loops in this process's memory) are registered
 * for 'cpu', 'wasm' and 'tensorflow'. A kernel for a GPU backend (e.g. 'webgpu') registers the same way with
 * `host: false`.
 *
 * Resolution (one rule, {@link resolveKernel}): the kernel registered for `tf.getBackend()` when there is one and,
 * for a host kernel, policy allows it ({@link hostKernelsApply}: flag HOST_KERNELS, and no gradient tape for an
 * inference-only kernel); else the generic kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setAutoScanImpl } from '../backend.js';
import { configError } from '../errors.js';
import { getFlag, HOST_BACKENDS, hostKernelsApply, isRecording, SCAN_IMPLS } from '../policy.js';
import { oneOf } from '../validate.js';

/**
 * A registration key: a tfjs backend name ('cpu', 'wasm', 'tensorflow', 'webgl', 'webgpu', …) or 'generic'.
 * @internal
 */
export type KernelKey = string;

/**
 * How a registered kernel runs: on the host or not, differentiable or not.
 * @internal
 */
export interface KernelOptions {
  /** Runs on the host (typed arrays): subject to the HOST_KERNELS flag (default true for non-generic kernels on host backends). */
  host?: boolean;
  /** Not differentiable: skipped while a gradient tape records. */
  inferenceOnly?: boolean;
}

interface Entry {
  impl: unknown;
  host: boolean;
  inferenceOnly: boolean;
}

const registry = new Map<string, Map<KernelKey, Entry>>();

/**
 * Register `impl` as op `op`'s kernel for backend `key` (or 'generic'), replacing an earlier one.
 * @internal
 */
export function registerKernel<F>(op: string, key: KernelKey, impl: F, options: KernelOptions = {}): void {
  if (!registry.has(op)) registry.set(op, new Map());
  registry
    .get(op)!
    .set(key, { impl, host: options.host ?? key !== 'generic', inferenceOnly: options.inferenceOnly ?? false });
}

/**
 * Remove op `op`'s kernel for `key`; returns whether there was one.
 * @internal
 */
export function unregisterKernel(op: string, key: KernelKey): boolean {
  return registry.get(op)?.delete(key) ?? false;
}

/**
 * Which kernel op `op` runs now on `backend` (default: the live one), and the kernel itself.
 * @internal
 */
export function resolveKernel<F>(op: string, backend: string = tf.getBackend()): { key: KernelKey; impl: F } {
  const kernels = registry.get(op);
  if (!kernels) throw configError('op', [...registry.keys()].join(' | '), JSON.stringify(op));
  const own = kernels.get(backend);
  if (own && (!own.host || hostKernelsApply(own.inferenceOnly))) return { key: backend, impl: own.impl as F };
  const generic = kernels.get('generic');
  if (!generic) throw configError(`kernel of ${op}`, `one registered for '${backend}' or 'generic'`, 'none');
  return { key: 'generic', impl: generic.impl as F };
}

/**
 * The kernel registered for exactly `key` (no fallback), or undefined.
 * @internal
 */
export function getKernel<F>(op: string, key: KernelKey): F | undefined {
  return registry.get(op)?.get(key)?.impl as F | undefined;
}

/** Every op with the keys it has kernels for (for tests and reports). */
export function listKernels(): { op: string; keys: KernelKey[] }[] {
  return [...registry.entries()].map(([op, m]) => ({ op, keys: [...m.keys()] }));
}

/** Register a host kernel for every host backend and a generic one. */
export function registerHostAndGeneric<F>(
  op: string,
  host: F,
  generic: F,
  options: { inferenceOnly?: boolean } = {},
): void {
  for (const key of HOST_BACKENDS) registerKernel(op, key, host, { host: true, inferenceOnly: options.inferenceOnly });
  registerKernel(op, 'generic', generic);
}

/**
 * The kernel of a scan-based op for an `impl` argument: 'tensor' the generic kernel, 'fused' the host kernel (when
 * it may run: an inference-only one not under a gradient tape), 'auto' (or absent) the policy flag SCAN_IMPL, whose
 * default 'auto' is {@link resolveKernel}.
 */
export function scanKernel<F>(op: string, impl: 'auto' | 'fused' | 'tensor' | undefined): { key: KernelKey; impl: F } {
  if (impl !== undefined) oneOf(impl, 'impl', SCAN_IMPLS);
  const choice = impl && impl !== 'auto' ? impl : getFlag('SCAN_IMPL');
  if (choice === 'auto') return resolveKernel<F>(op);
  const kernels = registry.get(op);
  if (!kernels) throw configError('op', [...registry.keys()].join(' | '), JSON.stringify(op));
  const backend = tf.getBackend();
  const own = kernels.get(backend);
  if (choice === 'fused' && own && !own.host) return { key: backend, impl: own.impl as F }; // a GPU backend's fused kernel
  const key = kernels.get(backend)?.host ? backend : HOST_BACKENDS[0]; // the live backend's host kernel, else the cpu one
  const host = kernels.get(key);
  if (choice === 'fused' && host && !(host.inferenceOnly && isRecording())) return { key, impl: host.impl as F };
  return { key: 'generic', impl: kernels.get('generic')?.impl as F };
}

// backendInfo().scanImpl reports what `impl: 'auto'` runs: the selective scan's own kernel on the backend, or the
// generic tf-op one.
setAutoScanImpl((backend) =>
  registry.has('selectiveScan') && resolveKernel('selectiveScan', backend).key !== 'generic' ? 'fused' : 'tensor',
);
