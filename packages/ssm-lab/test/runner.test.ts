/**
 * The one runner as notebooks use it: loaded with CommonJS `require` (tslab turns every import into
 * `require`), it trains jobs on worker processes and streams each step and epoch back over the IPC
 * channel while they train; results come back in the order of the jobs.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type * as Lab from 'ssm-lab';

const require = createRequire(import.meta.url);

describe('runJobs (notebooks’ live training)', () => {
  it('runs tiny jobs through the CommonJS build with step and epoch events', async () => {
    const lab = require('ssm-lab') as typeof Lab;
    expect(require.resolve('ssm-lab')).toMatch(/dist[/\\]index\.cjs$/);
    const job = (id: string, name: Lab.ModelName): Lab.JobSpec => ({
      id,
      label: lab.MODELS[name].label,
      task: { task: 'keep-nth', n: 2, vocabSize: 8, T: 6 },
      seed: 0,
      model: lab.modelSpec(name, { d: 8, N: 2, T: 6 }),
      samples: { train: 64, val: 16, test: 32 },
      train: { epochs: 2, stepsPerEpoch: 3, batchSize: 8, lr: 0.01, lrMin: 0.001, seed: 0 },
    });
    const jobs = [job('a', 'mamba+pe'), job('b', 's4d')];
    const steps = new Map<string, number[]>(),
      epochs = new Map<string, number[]>(),
      done: string[] = [];
    const results = await lab.runJobs(jobs, {
      workers: 2,
      onStep: (j, s) => steps.set(j.id, [...(steps.get(j.id) ?? []), s.step]),
      onEpoch: (j, m) => epochs.set(j.id, [...(epochs.get(j.id) ?? []), m.epoch]),
      onResult: (j, r) => {
        expect(steps.get(j.id)).toHaveLength(r.steps); // every step arrived before the result
        done.push(j.id);
      },
    });
    expect(results.map((r) => r.id)).toEqual(['a', 'b']);
    expect(done.sort()).toEqual(['a', 'b']);
    for (const r of results) {
      expect(r.steps).toBe(6);
      expect(steps.get(r.id)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(epochs.get(r.id)).toEqual([1, 2]);
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
    }
  }, 60_000);

  it('rejects with the job’s label when a job fails', async () => {
    const lab = require('ssm-lab') as typeof Lab;
    const bad: Lab.JobSpec = {
      id: 'bad',
      label: 'broken',
      task: { task: 'keep-nth', n: 2, vocabSize: 8, T: 6 },
      seed: 0,
      model: lab.modelSpec('mamba2', { d: 8, N: 2, T: 6 }, { dtRank: 0 }),
      samples: { train: 64, val: 16, test: 32 },
      train: { epochs: 1, stepsPerEpoch: 1, batchSize: 8, lr: 0.01, lrMin: 0.001, seed: 0 },
    };
    await expect(lab.runJobs([bad], { workers: 1 })).rejects.toThrow(/broken: .*dtRank/);
  }, 60_000);
});
