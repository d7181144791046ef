/** The text of `ssm-lab --help`: every command and every option of ./options.ts. */
import { FIG1_T } from '../experiments/presets.js';

export const HELP = `ssm-lab — Selectivity Lab command line (paper: Understanding Input Selectivity in Mamba)

Usage
  ssm-lab train <task> [task options] [model options] [training options] [--out DIR] [--resume | --force]
  ssm-lab eval <run-dir | model.safetensors> [task options] [--test-samples N] [--seed S]
  ssm-lab reproduce table1 [--preset quick|paper] [--out FILE.json] [--workers N] [--seed S] [--resume | --force]
  ssm-lab reproduce fig1   [--preset quick|paper] [--out FILE.json] [--workers N] [--seed S] [--resume | --force]
  ssm-lab constructions [--keys 8] [--vocab 64] [--T 32] [--instances 2000] [--tightness] [--remark7] [--json]
                    the paper's analytic weights (Cor. 2, Prop. 1, Thm 2–4, Lem. 3) in the ordinary block:
                    d and N used vs. each theorem's bound, and accuracy on random instances
  ssm-lab sweep run <spec.json|preset> [--out FILE.jsonl] [--workers N] [--shard i/n]   (also: sweep list | merge | report;
                    Fig. 2 / Fig. 3 grids, resumable, sharded for Slurm / Kubernetes — ssm-lab sweep --help)
  ssm-lab theory    Cor. 1 and Lem. 1 rate tables, checks of Thm 1, Prop. 1, Lem. 2 (computed live)
  ssm-lab demo      a tour: backend, the scan against the float64 reference, Tab. 1's parameter counts
  ssm-lab --help

Tasks (App. D) and their options
  keep-nth          --n 5  --T 50  --vocab 128                 target x_n at every t ≥ n
  mqar              --keys 8  --vocab 128  --T 100  --mode paper|zoology
                    (zoology: --power-a 0.01)                  recall the value of each queried key
  induction-heads   --vocab 20  --T 100  --setting standard|hard  (hard: --p 0.75 --gamma 0.1)

Model options
  --model NAME      one table of names, shared with sweep specs (see the ssm-lab README); default mamba+pe
                    Tab. 1 (embedding → SSM → linear, no conv, no gate):
                      mamba+pe | mamba | s4d | s4d+pe | transformer (1-layer causal softmax attention)
                    Fig. 2 / Fig. 3 (conv k=4 silu):
                      mamba-conv (gate off) | mamba2 (gate off) | mamba-s4d (gate silu) | mamba-delta-t (gate off)
                    other blocks (conv k=4 silu, gate silu): mamba-block | linear-attention
  --d D  --N N      embedding and state size (default 32 and 8; transformer d 16)
  --conv K | off    short causal conv kernel size;  --conv-act silu|relu|identity
  --gate ACT | off  gate σ(Linear(x)) ⊙ y with σ = silu|relu|sigmoid|identity
  --pe SCALE | off  positional encoding SCALE·t in the last embedding coordinate
  --disc euler|zoh|identity   discretisation of B
  --heads H         transformer heads (default 1)

Training options (App. D.1 defaults in brackets)
  --epochs 600  --batch 16  --lr 0.03  --lr-min 1e-6  --steps-per-epoch N (default: one pass)
  --stop-val-loss 1e-6  --stop-val-acc A  --max-seconds 21600
  --train-samples 100000  --val-samples 1000  --test-samples 100000
  --seed 0          model seed S; data seeds 3S+1 (train), 3S+2 (val), 3S+3 (test)
  --out DIR         write checkpoint.safetensors (every epoch and on Ctrl-C), metrics.jsonl,
                    model.safetensors and result.json there
  --resume          continue from DIR/checkpoint.safetensors (bit-for-bit as if never stopped)
  --force           DIR holds a run: move it aside to DIR.old-<time> (printed; nothing is deleted) and start
                    afresh. Without --resume or --force a DIR holding a run is refused, and DIR/run.lock keeps
                    a second run out of DIR while one runs (a lock left by a killed run is taken over)
  --json            print the result as JSON

Reproduce
  table1            KEEP FIFTH (T=50, |V|=128): Mamba+PE, Mamba, S4D, S4D+PE, Transformer; prints a
                    Markdown table of test accuracy and parameters beside the paper's values
  fig1              distribution of e^{−λΔ_t} on test inputs for T ∈ {${FIG1_T.join(', ')}}, overall and per
                    timestep, for Mamba+PE and S4D+PE, as JSON for plotting
  --preset quick    minutes on 2 CPU cores (batch 32, ≤ 2500 steps, stop at val acc 1.0)
  --preset paper    App. D.1 (600 epochs of 10⁵ samples, batch 16, early stop at val loss < 1e-6 or 6 h)
  --workers N       parallel worker processes (default: one per core)
  --out FILE.json   results file; per-model runs (checkpoints, metrics) go to FILE.runs/

Backend (every command)
  --backend webgpu|tensorflow|wasm|cpu   run this process and its workers on that TensorFlow.js backend
                    (sets SSM_BACKEND; webgpu on a CPU Vulkan driver such as lavapipe only this way)

Environment
  SSM_BACKEND=webgpu|tensorflow|wasm|cpu   the same as --backend (default: best available: tfjs-node-gpu with
                    CUDA → WebGPU on a hardware GPU (npm webgpu) → tfjs-node → wasm → cpu)
  SSM_GPU_MEMORY_BUDGET=4GiB        refuse a GPU operation asking for more (a GpuError before launch)
  SSM_MEMORY_BUDGET=8GiB            refuse a run, model or pass estimated to need more (a MemoryError naming
                    the option, before anything is allocated); default: the memory available at the check
`;
