/**
 * Backend selection. ssm-core re-exports the `tf` it uses, and on import starts picking
 * the best available TensorFlow.js backend:
 *
 *   tfjs-node-gpu (installed and CUDA usable) → WebGPU on a hardware adapter → tfjs-node → wasm
 *   → (browser) webgl → cpu
 *
 * in the order of the policy flag BACKEND_PREFERENCE (policy.ts). WebGPU comes from npm `webgpu` (Dawn) in
 * Node, loaded at run time when installed, and from `navigator.gpu` in browsers (gpu.ts); a CPU adapter
 * (lavapipe, SwiftShader, any fallback adapter) is never chosen automatically.
 * `SSM_BACKEND=tensorflow|webgpu|wasm|cpu|webgl` (flag BACKEND) forces one, a CPU WebGPU adapter included
 * (an unavailable forced backend is an error, not a silent fallback). `await ready()` waits for the choice
 * and returns {@link BackendInfo}; `backendInfo()` reports it afterwards.
 *
 * tfjs-node / tfjs-node-gpu and webgpu are optional peers: the first two download libtensorflow at install,
 * `webgpu` ships a 21 MB native binding per platform — users install them themselves, we find them at run time.
 */
import * as tf from '@tensorflow/tfjs-core';
import './tfjsRegistrations.generated.js'; // tfjs-core's gradients and chained tensor methods (see its .d.ts)
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { configError } from './errors.js';
import {
  describeAdapter,
  gpuDevice,
  gpuDriverLikely,
  setupWebGpu,
  WEBGPU_INSTALL,
  type GpuAdapterInfo,
  type WebGpuSetup,
} from './gpu.js';
import { backendUsesGpu, getFlag, HOST_BACKENDS, type ScanImpl } from './policy.js';

export { tf };

export type { ScanImpl, GpuAdapterInfo };

export interface BackendAttempt {
  /** The backend or package tried, e.g. 'webgpu' or '@tensorflow/tfjs-node'. */
  candidate: string;
  /** Whether it loaded and initialised. */
  ok: boolean;
  /** One phrase: what happened. */
  why: string;
}

export interface BackendInfo {
  /** tfjs backend name: `tensorflow`, `wasm`, `cpu`, `webgl`, `webgpu`. */
  name: string;
  /** npm package that provides it. */
  package: string;
  /** True when tensors live on a GPU (then the scan never downloads data). */
  gpu: boolean;
  /** Scan implementation `impl: 'auto'` resolves to on this backend. */
  scanImpl: ScanImpl;
  /** One sentence: why this backend. */
  reason: string;
  /** Every candidate considered, in order. */
  tried: BackendAttempt[];
  /** The WebGPU adapter found (vendor, architecture, fallback or not), whether or not webgpu was chosen. */
  adapter?: GpuAdapterInfo;
  /** The one command that would put ssm-core on a GPU here, when one seems possible (e.g. `npm install webgpu@0.6.2`). */
  hint?: string;
}

let info: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

const isNode = () => typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

/** Load an optional package by name in Node; `undefined` when it is absent or broken. */
async function tryImport(spec: string): Promise<{ ok: boolean; why: string }> {
  if (!isNode()) return { ok: false, why: 'not running in Node' };
  try {
    await import(/* webpackIgnore: true */ /* @vite-ignore */ spec);
    return { ok: true, why: 'loaded' };
  } catch (e) {
    const msg = (e as Error).message?.split('\n')[0] ?? String(e);
    const missing = /Cannot find (module|package)|ERR_MODULE_NOT_FOUND/.test(msg);
    return { ok: false, why: missing ? 'not installed' : `failed to load: ${msg}` };
  }
}

async function activate(name: string): Promise<boolean> {
  if (tf.findBackendFactory(name) == null) return false;
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

const usesGpu = backendUsesGpu;

let webgpuSeen: WebGpuSetup | undefined;
let hint: string | undefined;

function finish(name: string, pkg: string, reason: string, tried: BackendAttempt[]): BackendInfo {
  const gpu = usesGpu(name);
  info = { name, package: pkg, gpu, scanImpl: preferredScanImpl(), reason, tried };
  if (webgpuSeen?.adapter) info.adapter = webgpuSeen.adapter;
  if (hint && !gpu) info.hint = hint;
  return info;
}

const WEBGPU_PKG = '@tensorflow/tfjs-backend-webgpu';

/** Set WebGPU up and say whether it should be used: forced, or a hardware adapter. */
async function tryWebGpu(tried: BackendAttempt[], forced: boolean): Promise<boolean> {
  const s = await setupWebGpu();
  webgpuSeen = s;
  if (!s.ok) {
    tried.push({ candidate: 'webgpu', ok: false, why: s.why });
    if (s.missingPackage && (await gpuDriverLikely()))
      hint = `a GPU driver is present but npm package webgpu is not installed: run \`${WEBGPU_INSTALL}\``;
    return false;
  }
  const a = s.adapter!;
  if (!a.hardware && !forced) {
    tried.push({
      candidate: 'webgpu',
      ok: false,
      why: `${describeAdapter(a)}: ${a.why}, not chosen automatically (SSM_BACKEND=webgpu forces it)`,
    });
    return false;
  }
  if (!(await activate('webgpu'))) {
    tried.push({ candidate: 'webgpu', ok: false, why: `${describeAdapter(a)}: the webgpu backend did not initialise` });
    return false;
  }
  tried.push({ candidate: 'webgpu', ok: true, why: describeAdapter(a) });
  gpuDevice(); // watch the device from now on: its faults make read-backs throw
  return true;
}

async function tryNative(tried: BackendAttempt[]): Promise<string | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    const r = await tryImport(pkg);
    if (!r.ok) {
      tried.push({ candidate: pkg, ok: false, why: r.why });
      continue;
    }
    if (!(await activate('tensorflow'))) {
      tried.push({ candidate: pkg, ok: false, why: 'loaded but the tensorflow backend did not initialise' });
      continue;
    }
    if (pkg.endsWith('-gpu') && !usesGpu('tensorflow')) {
      tried.push({ candidate: pkg, ok: true, why: 'loaded, but CUDA is not usable: native TensorFlow runs on CPU' });
    } else {
      tried.push({
        candidate: pkg,
        ok: true,
        why: pkg.endsWith('-gpu') ? 'CUDA device in use' : 'native TensorFlow on CPU',
      });
    }
    return pkg;
  }
  return undefined;
}

async function select(): Promise<BackendInfo> {
  const tried: BackendAttempt[] = [];
  const forced = getFlag('BACKEND');
  if (forced) {
    let pkg = `@tensorflow/tfjs-backend-${forced}`;
    if (forced === 'tensorflow') pkg = (await tryNative(tried)) ?? '';
    if (forced === 'webgpu') {
      if (await tryWebGpu(tried, true)) return finish('webgpu', WEBGPU_PKG, 'forced by SSM_BACKEND=webgpu', tried);
      const why = tried[tried.length - 1].why;
      throw configError('SSM_BACKEND', 'a backend that can start here', '"webgpu"', hint ?? why);
    }
    if (await activate(forced)) return finish(forced, pkg, `forced by SSM_BACKEND=${forced}`, tried);
    const available = tf.engine().backendNames().join('|');
    throw configError(
      'SSM_BACKEND',
      `one of ${available}|tensorflow (tensorflow needs @tensorflow/tfjs-node or -gpu installed)`,
      JSON.stringify(forced),
    );
  }
  // A tfjs-node computing on the CPU ranks below a hardware WebGPU adapter: taken at the next other candidate.
  let nativeCpu: { pkg: string; why: string } | undefined;
  for (const candidate of getFlag('BACKEND_PREFERENCE')) {
    if (nativeCpu && candidate !== 'webgpu') {
      if (await activate('tensorflow')) return finish('tensorflow', nativeCpu.pkg, nativeCpu.why, tried);
      nativeCpu = undefined;
    }
    if (candidate === 'tensorflow') {
      const nativePkg = await tryNative(tried);
      if (nativePkg && usesGpu('tensorflow'))
        return finish('tensorflow', nativePkg, tried[tried.length - 1].why, tried);
      if (nativePkg) nativeCpu = { pkg: nativePkg, why: tried[tried.length - 1].why };
    } else if (candidate === 'webgpu') {
      if (await tryWebGpu(tried, false))
        return finish('webgpu', WEBGPU_PKG, `WebGPU on ${describeAdapter(webgpuSeen!.adapter!)}`, tried);
    } else if (candidate === 'wasm') {
      if (await activate('wasm')) {
        tried.push({ candidate: 'wasm', ok: true, why: 'WebAssembly backend initialised' });
        return finish(
          'wasm',
          '@tensorflow/tfjs-backend-wasm',
          'no native TensorFlow installed; wasm is the embedded default',
          tried,
        );
      }
      tried.push({ candidate: 'wasm', ok: false, why: 'WebAssembly backend failed to initialise' });
    } else if (candidate === 'webgl') {
      if (!isNode() && (await activate(candidate)))
        return finish(candidate, '@tensorflow/tfjs-backend-webgl', 'browser WebGL', tried);
    } else if (candidate === 'cpu') {
      break;
    }
  }
  await activate('cpu');
  return finish('cpu', '@tensorflow/tfjs-backend-cpu', 'fallback: pure-JS cpu backend', tried);
}

/** Start (once) and await backend selection. Safe to call many times. */
export function ready(): Promise<BackendInfo> {
  if (!pending) pending = select();
  return pending;
}

/**
 * How `impl: 'auto'` resolves on a backend. The kernel registry (ops/registry.ts, a layer above this module) installs
 * the real rule with {@link setAutoScanImpl}; this default only serves before it is loaded.
 */
let autoScanImpl: (backend: string) => ScanImpl = (backend) =>
  getFlag('HOST_KERNELS') && (HOST_BACKENDS as readonly string[]).includes(backend) ? 'fused' : 'tensor';

/** Install the rule that says which scan implementation `impl: 'auto'` runs on a backend (the kernel registry's). */
export function setAutoScanImpl(rule: (backend: string) => ScanImpl): void {
  autoScanImpl = rule;
}

/**
 * Scan implementation that `impl: 'auto'` resolves to now: the flag SCAN_IMPL when set to 'fused' or 'tensor',
 * else 'fused' where a fused kernel runs on the live backend (the host kernels on wasm, cpu and tfjs-node with
 * HOST_KERNELS; the WGSL kernel on webgpu) and 'tensor' elsewhere.
 */
export function preferredScanImpl(): ScanImpl {
  const forced = getFlag('SCAN_IMPL');
  if (forced !== 'auto') return forced;
  return autoScanImpl(tf.getBackend());
}

/** What `ready()` chose, and why. Throws if selection has not finished yet. */
export function backendInfo(): BackendInfo {
  if (!info)
    throw configError('backendInfo()', 'a finished backend selection', 'none yet', 'call `await ready()` first');
  // The user may have switched with tf.setBackend since: report the live backend.
  if (info.name !== tf.getBackend()) {
    const name = tf.getBackend();
    return finish(
      name,
      name === 'tensorflow' ? '@tensorflow/tfjs-node' : `@tensorflow/tfjs-backend-${name}`,
      'set by the user with tf.setBackend',
      info.tried,
    );
  }
  return info;
}

// Kick selection off right after import (a macrotask later, so that flags set with setFlag just after importing,
// e.g. BACKEND from a page's URL, are read); errors surface from `ready()`, not as unhandled rejections.
setTimeout(() => ready().catch(() => undefined), 0);
