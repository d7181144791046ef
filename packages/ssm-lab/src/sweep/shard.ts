/**
 * Sharding a grid across machines: shard i of n (0-based, 0 ≤ i < n) takes the cells whose grid
 * position ≡ i (mod n). Every cell lands in exactly one shard, counts differ by at most one, and
 * neighbouring (similar-cost) cells are spread over shards.
 *
 * Where i/n come from, first match wins:
 *   1. `--shard i/n` on the command line
 *   2. Slurm job arrays: i = SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN (MIN defaults to 0),
 *      n = SLURM_ARRAY_TASK_COUNT  (so `--array=0-7` and `--array=1-8` both give shards 0…7 of 8)
 *   3. Kubernetes Indexed Jobs: i = JOB_COMPLETION_INDEX, n = SSM_SWEEP_SHARDS (set it to the Job's
 *      `completions`; Kubernetes does not expose that count to the pod)
 *   4. otherwise the whole grid (0/1)
 */
import { configError } from 'ssm-core';

export interface Shard {
  index: number;
  count: number;
  /** Where it came from, for the log line. */
  source: string;
}

export const WHOLE: Shard = { index: 0, count: 1, source: 'whole grid' };

/** Parse "i/n" (0-based i). */
export function parseShard(text: string, name = '--shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN,
    count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count))
    throw configError(name, 'i/n with integers 0 ≤ i < n (0-based shard index)', JSON.stringify(text));
  return { index, count, source: name };
}

const envInt = (env: Record<string, string | undefined>, k: string): number | undefined => {
  const v = env[k];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw configError(`$${k}`, 'a non-negative integer', JSON.stringify(v));
  return n;
};

/** The shard from `--shard` if given, else from Slurm / Kubernetes environment variables, else the whole grid. */
export function resolveShard(
  flag: string | undefined,
  env: Record<string, string | undefined> = typeof process !== 'undefined' ? process.env : {},
): Shard {
  if (flag !== undefined) return parseShard(flag);
  const slurmId = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (slurmId !== undefined) {
    const count = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    if (count === undefined || count < 1)
      throw configError(
        '$SLURM_ARRAY_TASK_COUNT',
        'the number of array tasks (set by sbatch --array)',
        JSON.stringify(env.SLURM_ARRAY_TASK_COUNT),
      );
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const index = slurmId - min;
    if (index < 0 || index >= count) {
      throw configError(
        '$SLURM_ARRAY_TASK_ID',
        `an id in [MIN, MIN + COUNT) = [${min}, ${min + count}) (use a contiguous --array range, no step)`,
        String(slurmId),
      );
    }
    return { index, count, source: `Slurm array task ${slurmId} (min ${min}, count ${count})` };
  }
  const k8s = envInt(env, 'JOB_COMPLETION_INDEX');
  if (k8s !== undefined) {
    const count = envInt(env, 'SSM_SWEEP_SHARDS');
    if (count === undefined || count < 1)
      throw configError(
        '$SSM_SWEEP_SHARDS',
        "the Indexed Job's completions (Kubernetes does not expose it; set it in the pod env)",
        JSON.stringify(env.SSM_SWEEP_SHARDS),
      );
    if (k8s >= count) throw configError('$JOB_COMPLETION_INDEX', `an index < SSM_SWEEP_SHARDS = ${count}`, String(k8s));
    return { index: k8s, count, source: `Kubernetes JOB_COMPLETION_INDEX ${k8s} of ${count}` };
  }
  return WHOLE;
}

/** The cells of `shard`: positions ≡ index (mod count). */
export function shardCells<T>(cells: readonly T[], shard: Pick<Shard, 'index' | 'count'>): T[] {
  return cells.filter((_, i) => i % shard.count === shard.index);
}

/** Default results path of a shard: `x.jsonl` → `x.shard-2-of-8.jsonl` (whole grid: unchanged). */
export function shardPath(out: string, shard: Pick<Shard, 'index' | 'count'>): string {
  if (shard.count === 1) return out;
  const tag = `.shard-${shard.index}-of-${shard.count}`;
  return /\.jsonl$/.test(out) ? out.replace(/\.jsonl$/, `${tag}.jsonl`) : `${out}${tag}`;
}
