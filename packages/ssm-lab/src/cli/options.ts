/** The options of `ssm-lab` (every command but `sweep`, which has its own: ./sweep.ts), for node:util parseArgs. */
export const OPTIONS = {
  help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' }, resume: { type: 'boolean' },
  n: { type: 'string' }, T: { type: 'string' }, vocab: { type: 'string' }, keys: { type: 'string' }, mode: { type: 'string' },
  'power-a': { type: 'string' }, setting: { type: 'string' }, p: { type: 'string' }, gamma: { type: 'string' },
  model: { type: 'string' }, d: { type: 'string' }, N: { type: 'string' }, conv: { type: 'string' }, 'conv-act': { type: 'string' },
  gate: { type: 'string' }, pe: { type: 'string' }, disc: { type: 'string' }, heads: { type: 'string' },
  epochs: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, 'lr-min': { type: 'string' },
  'steps-per-epoch': { type: 'string' }, 'stop-val-loss': { type: 'string' }, 'stop-val-acc': { type: 'string' },
  'max-seconds': { type: 'string' }, 'train-samples': { type: 'string' }, 'val-samples': { type: 'string' },
  'test-samples': { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, preset: { type: 'string' },
  workers: { type: 'string' }, instances: { type: 'string' }, tightness: { type: 'boolean' }, remark7: { type: 'boolean' },
} as const;
