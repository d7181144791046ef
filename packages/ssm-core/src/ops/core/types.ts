/**
 * Selective-scan contract, identical to `mamba_ssm.ops.selective_scan_interface.selective_scan_ref`.
 *
 * Shape glossary
 *   batch  b    dInner  d (channels, "D" in mamba_ssm)    dState  n (state size, "N")    L  sequence length
 *
 *   u, z          [b, d, L]        input and (optional) gate branch
 *   delta         [b, d, L]        Δ per channel (Mamba, Eq. 14c)             deltaAlong: 'channel' (default)
 *                 [b, n, L]        Δ per state (Mamba-Δ⊤, Eq. 15)              deltaAlong: 'state'
 *                 [b, d, n, L]     Δ per channel and state                     (rank 4, inferred)
 *   deltaBias     [d] | [n] | [d, n]   matching delta's non-batch, non-time axes
 *   A             [d, n]           continuous-time state matrix (diagonal), usually −exp(A_log)
 *   B, C          [b, n, L]        input-dependent (S6)      or  [d, n]  fixed (S4D)
 *   D             [d]              skip connection
 *   out           [b, d, L]        lastState  [b, d, n]
 *
 * Recurrence (Eq. 14f with the reference's sign convention, Λ = A):
 *   Δ̄ = softplus(delta + deltaBias)            (torch softplus: x for x > 20)
 *   h_t = exp(Δ̄_t ⊙ A) ⊙ h_{t−1} + B̄_t u_t     with B̄_t = Δ̄_t B_t               ('euler', the reference)
 *                                                     B̄_t = (exp(Δ̄_t A) − 1)/A ⊙ B_t ('zoh')
 *                                                     B̄_t = B_t                      ('identity', Eq. 15)
 *   y_t = Σ_n h_t C_t + D u_t ;  out_t = y_t ⊙ silu(z_t)
 */
import type { Tensor } from '@tensorflow/tfjs-core';

/** Which axes Δ varies along besides batch and time: channels d (Mamba), states n (Mamba-Δ⊤), or both. */
export type DeltaAlong = 'channel' | 'state' | 'full';
/** How B is discretised: Euler `Δ·B` (mamba_ssm), exact ZOH `(e^{ΔA}−1)/A·B`, or `B` unchanged (Eq. 15). */
export type BDiscretization = 'euler' | 'zoh' | 'identity';
/** Every {@link BDiscretization}. */
export const B_DISCRETIZATIONS: readonly BDiscretization[] = ['euler', 'zoh', 'identity'];

/**
 * Arguments of {@link selectiveScan} and its reference twins, in mamba_ssm's layout: b batch, d channels
 * (d_inner), n state size (N), L sequence length. Every tensor is float32.
 */
export interface SelectiveScanArgs {
  /** Input u [b, d, L]. */
  u: Tensor;
  /**
   * Step sizes before softplus and bias: [b, d, L] (per channel, Mamba Eq. 14c), [b, n, L] with
   * `deltaAlong: 'state'` (Mamba-Δ⊤, Eq. 15), or [b, d, n, L] (per channel and state).
   */
  delta: Tensor;
  /** State matrix A [d, n] (the diagonal of each channel's A, negative for a decaying state; A = −exp(A_log)). */
  A: Tensor;
  /** B [b, n, L] (input-dependent B_t, S6) or [d, n] (fixed, S4D). */
  B: Tensor;
  /** C [b, n, L] (input-dependent C_t, S6) or [d, n] (fixed, S4D). */
  C: Tensor;
  /** Skip connection D [d]: y_t += D ⊙ u_t. */
  D?: Tensor;
  /** Gate z [b, d, L]: out_t = y_t ⊙ silu(z_t). */
  z?: Tensor;
  /** Bias added to delta before softplus: [d], [n] or [d, n], matching delta's non-batch, non-time axes. */
  deltaBias?: Tensor;
  /** Apply torch's softplus to `delta + deltaBias` (default false, as in the reference). */
  deltaSoftplus?: boolean;
  /** Also return the final state h_L [b, d, n] as `lastState` (default false). */
  returnLastState?: boolean;
  /** For a rank-3 delta: does its middle axis index channels (d, default) or states (n)? */
  deltaAlong?: 'channel' | 'state';
  /** Discretisation of B (default 'euler', as in the reference). */
  bDiscretization?: BDiscretization;
  /** 'fused' typed-array kernel (CPU/wasm), 'tensor' log-depth tf-op scan (GPU), 'auto' per backend. */
  impl?: 'auto' | 'fused' | 'tensor';
  /**
   * Check that inputs are finite (default: true on the host kernel, where it is free). On webgpu the check runs on
   * the device and a NaN or ±Infinity is thrown at the next read-back or gpuSync.
   */
  checkFinite?: boolean;
}

/** What {@link selectiveScan} returns. */
export interface SelectiveScanResult {
  /** out [b, d, L]: y_t (⊙ silu(z_t) with a gate). */
  out: Tensor;
  /** [b, d, n], present when `returnLastState`. */
  lastState?: Tensor;
}

/** Sizes and layout facts derived from validated arguments. */
export interface ScanDims {
  batch: number;
  dInner: number;
  dState: number;
  L: number;
  deltaAlong: DeltaAlong;
  bFixed: boolean;
  cFixed: boolean;
  hasD: boolean;
  hasZ: boolean;
  hasBias: boolean;
  softplus: boolean;
  disc: BDiscretization;
  /** Internal (S6 host path, inference): the model's own layout instead of the reference's, see {@link TimeMajor}. */
  timeMajor?: TimeMajor;
}

/**
 * The host kernels' layout (kernels/cpu/s6Inner.ts, kernels/cpu/mamba2Inner.ts): u, z, out as [b, L, d]; B and C read in place
 * from rows [b, L, stride] at columns bOffset … bOffset + n and cOffset … cOffset + n (S6: both are x_proj's
 * output; Mamba-2: their own [b, L, n] with stride n); Δ as [b, L, d], or as [d] when `deltaConstant`
 * (dt_proj ≡ 0: Δ̄ = softplus(bias) at every b, t, as in Thm. 2/3).
 */
export interface TimeMajor {
  stride: number;
  bOffset: number;
  cOffset: number;
  deltaConstant: boolean;
}

/** Raw data of a scan problem (any float precision), same layout as the tensors. */
export interface ScanArrays<T extends Float32Array | Float64Array = Float32Array | Float64Array> {
  u: T;
  delta: T;
  A: T;
  B: T;
  C: T;
  D?: T;
  z?: T;
  deltaBias?: T;
}

/** σ ∈ {silu, relu, identity, sigmoid}: Tab. 2's pointwise nonlinearity (conv activation, gate). */
export type Activation = 'silu' | 'relu' | 'identity' | 'sigmoid';

/**
 * Arguments of the S6 inner op (the mixer after its conv, Eq. 14c–14g; mamba_ssm's `mamba_inner_fn` without
 * the in/out projections and conv), in the model's layout:
 *   x [b, L, d] (x̂)   xProjWeight [R + 2N, d]   dtProjWeight [d, R]   dtProjBias [d]   ALog [d, N]   D [d]
 */
export interface S6InnerArgs {
  /** x̂ [b, L, d]: the block's input after in_proj and the causal conv. */
  x: Tensor;
  /** x_proj.weight [R + 2N, d]: rows 0…R−1 give Δ's low-rank input, then B_t (N rows), then C_t (N rows). */
  xProjWeight: Tensor;
  /** dt_proj.weight [d, R]: Δ_t = softplus(dt_proj(x_proj(x̂_t)[0:R]) + dtProjBias). */
  dtProjWeight: Tensor;
  /** dt_proj.bias [d]. */
  dtProjBias: Tensor;
  /** A_log [d, N]: A = −exp(A_log). */
  ALog: Tensor;
  /** Skip connection D [d]. */
  D?: Tensor;
  /** Discretisation of B (default 'euler'). */
  bDiscretization?: BDiscretization;
  /** 'fused' host kernel, 'tensor' generic kernel, 'auto' per policy and backend. */
  impl?: 'auto' | 'fused' | 'tensor';
}

/**
 * Arguments of the Mamba inner op: the block's short causal conv (14b), the S6 mixer (14c–14g) and the gate, as
 * mamba_ssm's `mamba_inner_fn` without in_proj and out_proj. x is the block input [b, L, d]; the S6 fields are
 * {@link S6InnerArgs}'s (its x̂ being σ_c(conv(x))); convWeight [d, k], convBias [d]; gateWeight [d, d] (out, in),
 * gateBias [d]:   out = S6(σ_c(conv(x))) ⊙ σ_g(x W_gᵀ + b_g)   [b, L, d]
 */
export interface MambaInnerArgs extends S6InnerArgs {
  /** conv1d.weight [d, k]: the depthwise causal conv (14b), tap k − 1 on the current step. */
  convWeight: Tensor;
  /** conv1d.bias [d]. */
  convBias?: Tensor;
  /** σ_c after the conv: x̂ = σ_c(conv(x)) (mamba_ssm: silu). */
  convActivation: Activation;
  /** gate.weight [d, d] (out, in): the gate's linear map of the block input x. */
  gateWeight: Tensor;
  /** gate.bias [d]. */
  gateBias?: Tensor;
  /** σ_g of the gate: out = y ⊙ σ_g(x W_gᵀ + b_g) (mamba_ssm: silu). */
  gateActivation: Activation;
}

/**
 * Arguments of the S4D inner op (the S4D mixer after its conv: Tab. 2's Δ ≡ 1, fixed B and C; Eq. 6 / 14f–14g),
 * in the model's layout:
 *   x [b, L, d] (x̂)   ALog [d, N]   B [N] (shared by every channel)   C [d, N]   D [d]
 */
export interface S4DInnerArgs {
  /** x̂ [b, L, d]: the mixer's input after its conv. */
  x: Tensor;
  /** A_log [d, N]: A = −exp(A_log). */
  ALog: Tensor;
  /** B [N], shared by every channel (Tab. 2's B^{S4D} ∈ R^N). */
  B: Tensor;
  /** C [d, N], per channel. */
  C: Tensor;
  /** Skip connection D [d]. */
  D?: Tensor;
  /** Discretisation of B (default 'euler'). */
  bDiscretization?: BDiscretization;
  /** 'fused' host kernel, 'tensor' generic kernel, 'auto' per policy and backend. */
  impl?: 'auto' | 'fused' | 'tensor';
}

/**
 * Arguments of the Mamba-2 inner op (single head, after its three convs, Eq. 14c–14g with scalar Δ_t, a, D):
 *   x [b, L, d] (x̂)   B, C [b, L, N]   dt [b, L, 1] (w_Δ·x_t, before its bias)   dtBias [1]   ALog [1]   D [1]
 */
export interface Mamba2InnerArgs {
  /** x̂ [b, L, d]: the block's input after in_proj and the conv. */
  x: Tensor;
  /** B_t [b, L, N] (after its conv). */
  B: Tensor;
  /** C_t [b, L, N] (after its conv). */
  C: Tensor;
  /** w_Δ·x_t [b, L, 1], before its bias: Δ_t = softplus(dt + dtBias), one scalar per position. */
  dt: Tensor;
  /** Δ's bias [1]. */
  dtBias: Tensor;
  /** A_log [1]: the scalar a = −exp(A_log) shared by all channels and states. */
  ALog: Tensor;
  /** Skip connection D [1]. */
  D?: Tensor;
  /** Discretisation of B (default 'euler'). */
  bDiscretization?: BDiscretization;
  /** 'fused' host kernel, 'tensor' generic kernel, 'auto' per policy and backend. */
  impl?: 'auto' | 'fused' | 'tensor';
}
