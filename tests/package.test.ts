/**
 * ssm-core as a user's project sees it: imported by package name from the built `dist/`,
 * with type declarations, and with no static Node-only imports on the browser path.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as ssm from 'ssm-core';

const dist = fileURLToPath(new URL('../packages/ssm-core/dist/', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('the published shape of ssm-core', () => {
  it('ships dist/index.js with declarations', () => {
    expect(existsSync(join(dist, 'index.js'))).toBe(true);
    expect(readFileSync(join(dist, 'index.d.ts'), 'utf8')).toContain('selectiveScan');
    const pkg = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8'));
    expect(pkg.name).toBe('ssm-core');
    expect(pkg.exports['.'].import).toBe('./dist/index.js');
  });

  it('works imported by name: backend, scan against the reference, a model', async () => {
    const info = await ssm.ready();
    expect(ssm.tf.getBackend()).toBe(info.name);
    const { tf } = ssm;
    const args = {
      u: tf.tensor3d([[[1, -2, 0.5]]]),
      delta: tf.tensor3d([[[0.3, 0.7, 1.1]]]),
      A: tf.tensor2d([[-1, -0.5]]),
      B: tf.tensor3d([
        [
          [1, 0, 2],
          [0.5, 1, -1],
        ],
      ]),
      C: tf.tensor3d([
        [
          [0.2, 1, 1],
          [1, -1, 0.3],
        ],
      ]),
    };
    const out = ssm.selectiveScan(args).out.dataSync();
    const ref = ssm.selectiveScanRef(args).out.dataSync();
    expect(Array.from(out).map((v, i) => Math.abs(v - ref[i]) <= 1e-6)).toEqual([true, true, true]);
    const m = new ssm.MambaModel({ vocabSize: 10, dModel: 4, dState: 2, mixer: 'mambaDeltaT' });
    expect(m.forward([[1, 2, 3]]).shape).toEqual([1, 3, 10]);
    m.dispose();
  });

  it('has no static node: imports outside the Node-only modules (browser bundles stay clean)', () => {
    // Node-only: file helpers (orchestration lives in ssm-lab) and the scan's worker threads, both reached from the
    // main entry only (.dependency-cruiser.cjs forbids the browser entry to reach them)
    const nodeOnly = (f: string) => f === 'io/file.js' || f === 'ops/kernels/cpu/scanThreads.js';
    const offenders = walk(dist)
      .filter((f) => f.endsWith('.js'))
      .filter((f) => !nodeOnly(f.slice(dist.length)))
      .filter((f) => /^import .* from ['"]node:|require\(['"]node:/m.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
