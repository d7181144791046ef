/**
 * Backend selection. ssm-core re-exports the `tf` it uses, and on import starts picking
 * the best available TensorFlow.js backend:
 *
 *   tfjs-node-gpu (installed and CUDA usable) → tfjs-node → wasm → cpu
 *
 * `SSM_BACKEND=tensorflow|wasm|cpu|webgl|webgpu` forces one (an unavailable forced
 * backend is an error, not a silent fallback). `await ready()` waits for the choice and
 * returns {@link BackendInfo}; `backendInfo()` reports it afterwards.
 *
 * tfjs-node / tfjs-node-gpu are optional peers: their installers download libtensorflow,
 * so users with internet (and CUDA) install them themselves — we find them at run time.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { configError } from './errors.js';

export { tf };

export type ScanImpl = 'fused' | 'tensor';

export interface BackendAttempt {
  candidate: string;
  ok: boolean;
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
}

const GPU_BACKENDS = new Set(['webgl', 'webgpu']);
let info: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

const isNode = () =>
  typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

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

function usesGpu(name: string): boolean {
  if (GPU_BACKENDS.has(name)) return true;
  if (name === 'tensorflow') return Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
  return false;
}

function finish(name: string, pkg: string, reason: string, tried: BackendAttempt[]): BackendInfo {
  const gpu = usesGpu(name);
  info = { name, package: pkg, gpu, scanImpl: gpu ? 'tensor' : 'fused', reason, tried };
  return info;
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
      tried.push({ candidate: pkg, ok: true, why: pkg.endsWith('-gpu') ? 'CUDA device in use' : 'native TensorFlow on CPU' });
    }
    return pkg;
  }
  return undefined;
}

async function select(): Promise<BackendInfo> {
  const tried: BackendAttempt[] = [];
  const forced = isNode() ? process.env.SSM_BACKEND?.trim() : undefined;
  if (forced) {
    let pkg = forced === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs';
    if (forced === 'tensorflow') pkg = (await tryNative(tried)) ?? '';
    if (await activate(forced)) return finish(forced, pkg, `forced by SSM_BACKEND=${forced}`, tried);
    const available = tf.engine().backendNames().join('|');
    throw configError('SSM_BACKEND', `one of ${available}|tensorflow (tensorflow needs @tensorflow/tfjs-node or -gpu installed)`, JSON.stringify(forced));
  }
  const nativePkg = await tryNative(tried);
  if (nativePkg) return finish('tensorflow', nativePkg, tried[tried.length - 1].why, tried);
  if (await activate('wasm')) {
    tried.push({ candidate: 'wasm', ok: true, why: 'WebAssembly backend initialised' });
    return finish('wasm', '@tensorflow/tfjs-backend-wasm', 'no native TensorFlow installed; wasm is the embedded default', tried);
  }
  tried.push({ candidate: 'wasm', ok: false, why: 'WebAssembly backend failed to initialise' });
  if (!isNode() && (await activate('webgl'))) return finish('webgl', '@tensorflow/tfjs', 'browser WebGL', tried);
  await activate('cpu');
  return finish('cpu', '@tensorflow/tfjs', 'fallback: pure-JS cpu backend', tried);
}

/** Start (once) and await backend selection. Safe to call many times. */
export function ready(): Promise<BackendInfo> {
  if (!pending) pending = select();
  return pending;
}

/** True while a gradient tape records (inside tf.grad / valueAndGrads): inference-only shortcuts must not run. */
export function isRecording(): boolean {
  return (tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn();
}

/** Scan implementation that suits the live backend: 'tensor' on GPU backends, else 'fused'. */
export function preferredScanImpl(): ScanImpl {
  const name = tf.getBackend();
  return usesGpu(name) ? 'tensor' : 'fused';
}

/** What `ready()` chose, and why. Throws if selection has not finished yet. */
export function backendInfo(): BackendInfo {
  if (!info) throw configError('backendInfo()', 'a finished backend selection', 'none yet', 'call `await ready()` first');
  // The user may have switched with tf.setBackend since: report the live backend.
  if (info.name !== tf.getBackend()) {
    const name = tf.getBackend();
    return finish(name, name === 'wasm' ? '@tensorflow/tfjs-backend-wasm' : '@tensorflow/tfjs', 'set by the user with tf.setBackend', info.tried);
  }
  return info;
}

// Kick selection off on import; errors surface from `ready()`, not as unhandled rejections.
ready().catch(() => undefined);
