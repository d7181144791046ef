/**
 * The 1-layer Mamba model of the paper (Sec. 5, Tab. 2):
 *
 *   tokens ─ embedding (+ PE in the last coordinate) ─ x ─┬─ mixer: short causal conv, σ ─ x̂ ─ SSM ─ y ─┬─ ⊙ ─ output layer ─ logits
 *                                                         └─────────────── gate σ(Linear(x)) ──────────────┘
 *
 * Shape glossary: b batch, L length, V vocabulary, d model width (= SSM channels, expand 1),
 * N state size, k conv kernel size.  tokens [b, L] → x, x̂, y [b, L, d] → logits [b, L, V].
 * Every piece is optional as in the paper's ablations: conv off (x̂ = x), gate off, PE on/off. Each mixer owns
 * its conv (../mixers/conv.ts; Mamba-2 its three), so the block is embedding → mixer → gate → output layer.
 * Parameters are plain named tf.Variables (see `paramNames()`), settable by hand.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { configError, valueError } from '../errors.js';
import { SCAN_IMPLS } from '../policy.js';
import { int, oneOf, ownKey, positiveInt } from '../validate.js';
import { B_DISCRETIZATIONS } from '../ops/core/types.js';
import { MIXERS, type MixerContext, type MixerInternals, type MixerKind } from '../mixers/index.js';
import { init, linearSpecs, type ParamSpec } from '../nn/params.js';
import { activate } from '../ops/causalConv1d.js';
import type { Activation, BDiscretization } from '../ops/core/types.js';
import { embedding } from '../ops/embedding.js';
import { gatherRows } from '../ops/gatherRows.js';
import { linear } from '../ops/linear.js';
import { mambaInner } from '../ops/mambaInner.js';
import { ParamModel, withWeights } from './base.js';
import { tokenTensor } from './tokens.js';
import type { OutputLayerInput, TokenInput } from './types.js';
import { readSafetensorsHeader } from '../io/safetensors.js';
import { checkModelFile, configFromMetadata } from './weights.js';

export interface MambaConfig {
  /** |V|, the vocabulary size (rows of the embedding). */
  vocabSize: number;
  /** Width of the output layer (default vocabSize), e.g. |V| values for MQAR over κ + |V| input ids. */
  numClasses?: number;
  /** d, the embedding size (also the SSM's channel count). */
  dModel: number;
  /** N, the state size. */
  dState: number;
  /** Default 's6' (Mamba). */
  mixer?: MixerKind;
  /** Short causal conv (default kernel 4, silu); false turns it off (x̂ = x). */
  conv?: false | { kernelSize?: number; activation?: Activation };
  /** Gate σ(Linear(x)) ⊙ y (Eq. 14g; default silu); false turns it off. */
  gate?: false | { activation?: Activation };
  /** Write the position t = 1..L (times `scale`) into the last embedding coordinate (Tab. 1). */
  positionalEncoding?: boolean | { scale?: number };
  /** Discretisation of B: 'euler' (mamba_ssm), 'zoh', or 'identity' (Eq. 15; Mamba-Δ⊤'s default). */
  discretization?: BDiscretization;
  /** Rank of S6's Δ projection; 'auto' = ⌈d/16⌉ as in mamba_ssm. */
  dtRank?: number | 'auto';
  /** D skip term (default true). */
  skip?: boolean;
  /** Bias in the output layer (default true). */
  outputBias?: boolean;
  /** Seed for the initial weights (default 0). */
  seed?: number;
  /** Selective-scan implementation (default 'auto': fused on CPU/wasm, tensor ops on GPU). */
  impl?: 'auto' | 'fused' | 'tensor';
}

export interface ResolvedMambaConfig {
  /** |V|, the vocabulary size. */
  vocabSize: number;
  /** Width of the output layer. */
  numClasses: number;
  /** d, the embedding size and channel count. */
  dModel: number;
  /** N, the state size. */
  dState: number;
  /** The sequence mixer. */
  mixer: MixerKind;
  /** The short causal conv (kernel size, σ), or false. */
  conv: false | { kernelSize: number; activation: Activation };
  /** The gate σ(Linear(x)) ⊙ y, or false. */
  gate: false | { activation: Activation };
  /** The positional coordinate t·scale in the last embedding dimension, or false. */
  positionalEncoding: false | { scale: number };
  /** Discretisation of B. */
  discretization: BDiscretization;
  /** Rank R of S6's Δ projection. */
  dtRank: number;
  /** Whether the D skip term is on. */
  skip: boolean;
  /** Whether the output layer has a bias. */
  outputBias: boolean;
  /** Seed of the initial weights. */
  seed: number;
  /** Selective-scan implementation. */
  impl: 'auto' | 'fused' | 'tensor';
}

export interface ForwardInternals {
  /** Embedding (with PE) [b, L, d]. */
  x: Tensor;
  /** x̂ [b, L, d]: the SSM's input after the mixer's conv and σ (x with the conv off; x for Mamba-2, see MixerOutput). */
  xhat: Tensor;
  /** Mixer output before the gate [b, L, d]. */
  y: Tensor;
  /** Gate values σ(Linear(x)) [b, L, d], when the gate is on. */
  gate?: Tensor;
  /** The mixer's internals: Δ̄, B, C, the decay and the last state. */
  mixer: MixerInternals;
  /** Logits [b, L, numClasses]. */
  logits: Tensor;
}

const ACTS: Activation[] = ['silu', 'relu', 'identity', 'sigmoid'];

/** Check a {@link MambaConfig} and fill in its defaults; a bad field is a ConfigError naming it. */
export function resolveConfig(c: MambaConfig): ResolvedMambaConfig {
  if (c == null || typeof c !== 'object')
    throw configError('config', 'an object {vocabSize, dModel, dState, ...}', String(c));
  positiveInt(c.vocabSize, 'config.vocabSize');
  const numClasses = c.numClasses ?? c.vocabSize;
  positiveInt(numClasses, 'config.numClasses');
  positiveInt(c.dModel, 'config.dModel');
  positiveInt(c.dState, 'config.dState');
  const mixer = c.mixer ?? 's6';
  ownKey(mixer, 'config.mixer', MIXERS);
  const act = (a: unknown, name: string): Activation => (a === undefined ? 'silu' : oneOf(a, name, ACTS));
  const conv =
    c.conv === false
      ? false
      : { kernelSize: c.conv?.kernelSize ?? 4, activation: act(c.conv?.activation, 'config.conv.activation') };
  if (conv) positiveInt(conv.kernelSize, 'config.conv.kernelSize');
  const gate = c.gate === false ? false : { activation: act(c.gate?.activation, 'config.gate.activation') };
  const pe = c.positionalEncoding
    ? { scale: typeof c.positionalEncoding === 'object' ? (c.positionalEncoding.scale ?? 1) : 1 }
    : false;
  if (pe && c.dModel < 2)
    throw configError(
      'config.dModel',
      '≥ 2 when positionalEncoding is on (the last coordinate holds t)',
      String(c.dModel),
    );
  if (pe && !Number.isFinite(pe.scale))
    throw configError('config.positionalEncoding.scale', 'a finite number', String(pe.scale));
  const discretization = c.discretization ?? (mixer === 'mambaDeltaT' ? 'identity' : 'euler');
  oneOf(discretization, 'config.discretization', B_DISCRETIZATIONS);
  const dtRank = c.dtRank === undefined || c.dtRank === 'auto' ? Math.ceil(c.dModel / 16) : c.dtRank;
  positiveInt(dtRank, 'config.dtRank');
  const impl = c.impl ?? 'auto';
  oneOf(impl, 'config.impl', SCAN_IMPLS);
  const seed = c.seed ?? 0;
  int(seed, 'config.seed');
  return {
    vocabSize: c.vocabSize,
    numClasses,
    dModel: c.dModel,
    dState: c.dState,
    mixer,
    conv,
    gate,
    positionalEncoding: pe,
    discretization,
    dtRank,
    skip: c.skip ?? true,
    outputBias: c.outputBias ?? true,
    seed,
    impl,
  };
}

const mixerContext = (c: ResolvedMambaConfig): MixerContext => ({
  d: c.dModel,
  N: c.dState,
  dtRank: c.dtRank,
  disc: c.discretization,
  conv: c.conv,
  skip: c.skip,
  impl: c.impl,
});

/** Every parameter of a model with config `c`: name, shape, initialiser — in a fixed order. */
export function modelParamSpecs(c: ResolvedMambaConfig): ParamSpec[] {
  const { vocabSize: V, dModel: d } = c;
  const embDim = c.positionalEncoding ? d - 1 : d;
  const prefix = (s: ParamSpec): ParamSpec => ({ ...s, name: `mixer.${s.name}` });
  return [
    { name: 'embedding.weight', shape: [V, embDim], init: init.normal([V, embDim]) },
    ...MIXERS[c.mixer].specs(mixerContext(c)).map(prefix), // the conv first (mixer.conv1d.*, or Mamba-2's three)
    ...(c.gate ? linearSpecs('mixer.gate', d, d, true) : []),
    ...linearSpecs('lm_head', c.numClasses, d, c.outputBias),
  ];
}

export type { TokenInput } from './types.js';

/**
 * The 1-layer Mamba model (Sec. 5, Tab. 2): embedding (+ positional coordinate), one mixer (S4D, S6, Mamba-2 or
 * Mamba-Δ⊤, with its short conv), the gate σ(Linear(x)) ⊙ y, and the output layer. tokens [b, L] → logits
 * [b, L, numClasses]. Parameters are named tf.Variables in mamba_ssm's names (`paramNames()`), settable by hand.
 * @example
 * ```ts
 * const m = new MambaModel({ vocabSize: 16, dModel: 8, dState: 4, mixer: 'mambaDeltaT' });
 * const { logits, mixer } = m.forwardWithInternals([[1, 2, 3]]); // logits [1, 3, 16]; mixer.delta [1, 3, 4]
 * ```
 */
export class MambaModel extends ParamModel<ResolvedMambaConfig> {
  /** Model kind, as stored in weight files' metadata. */
  readonly kind = 'mamba' as const;

  constructor(config: MambaConfig) {
    const c = resolveConfig(config);
    super(c, modelParamSpecs(c));
  }

  /** Parameter counts per component: embedding, conv, ssm, gate, output. */
  paramCounts() {
    return this.countBy(['embedding', 'conv', 'ssm', 'gate', 'output'] as const, (name) =>
      name.startsWith('embedding')
        ? 'embedding'
        : name.startsWith('lm_head')
          ? 'output'
          : name.startsWith('mixer.gate')
            ? 'gate'
            : /^mixer\.conv/.test(name)
              ? 'conv'
              : 'ssm',
    );
  }

  /** tokens [b, L] (ints in [0, vocabSize)) → logits [b, L, numClasses]. */
  forward(tokens: TokenInput): Tensor {
    return tf.tidy(() => {
      const z = this.gated(tokenTensor(tokens, this.config.vocabSize, this.checkInputSize));
      return linear(z, this.params['lm_head.weight'], this.params['lm_head.bias']);
    });
  }

  /** z = y (⊙ gate) [b, L, d], the input of lm_head, with lm_head's weight and bias: forward = linear(z, W, b). */
  headInput(tokens: TokenInput): OutputLayerInput {
    const z = tf.tidy(() => this.gated(tokenTensor(tokens, this.config.vocabSize, this.checkInputSize)));
    return { z, weight: this.params['lm_head.weight'], bias: this.params['lm_head.bias'] };
  }

  /**
   * Logits only where they are read: tokens [b, L], positions int32 [m] of flat indices i·L + t → logits
   * [m, numClasses]. The same block as `forward` (every layer up to the gate runs on all positions, since the
   * scan needs them); only the output layer (14g → lm_head) is restricted — e.g. to MQAR's query positions,
   * a quarter of a sequence. Inference only: on CPU backends no gradient flows through the selection.
   */
  logitsAt(tokens: TokenInput, positions: Int32Array): Tensor {
    return tf.tidy(() => {
      const tok = tokenTensor(tokens, this.config.vocabSize, this.checkInputSize);
      const [b, L] = tok.shape;
      const bad = positions.findIndex((p) => !(p >= 0 && p < b * L));
      if (bad >= 0)
        throw valueError('positions', `flat indices in [0, ${b * L}) (batch·L)`, `${positions[bad]} at index ${bad}`);
      const d = this.config.dModel;
      const z = gatherRows(this.gated(tok).reshape([b * L, d]), tf.tensor1d(positions, 'int32')); // [m, d]
      return linear(z, this.params['lm_head.weight'], this.params['lm_head.bias']);
    });
  }

  /** Forward pass that also returns what each stage produced (for plots and analysis). Caller disposes. */
  forwardWithInternals(tokens: TokenInput): ForwardInternals {
    return tf.tidy(
      () => this.runWithInternals(tokens) as unknown as tf.TensorContainerObject,
    ) as unknown as ForwardInternals;
  }

  /** A new model with the config and weights stored in safetensors bytes. */
  static fromSafetensors(bytes: Uint8Array, source = 'checkpoint'): MambaModel {
    const header = readSafetensorsHeader(bytes, source);
    const { kind: _kind, ...config } = configFromMetadata(header.metadata, source);
    const c = resolveConfig(config as unknown as MambaConfig);
    checkModelFile(modelParamSpecs(c), c as unknown as Record<string, unknown>, header, source); // before any allocation
    return withWeights(new MambaModel(config as unknown as MambaConfig), bytes, source);
  }

  /** Embedding rows, with the position t·scale (t = 1..L) in the last coordinate when PE is on: [b, L, d]. */
  private embed(tok: Tensor): Tensor {
    const pe = this.config.positionalEncoding;
    return embedding(this.params['embedding.weight'], tok, pe ? pe.scale : undefined);
  }

  /** Everything before the output layer: embedding, conv (14b), mixer (14c–14g), gate. */
  private features(tok: Tensor, withInternals: boolean): Omit<ForwardInternals, 'logits'> {
    const c = this.config;
    const mixer = MIXERS[c.mixer];
    const p = (n: string) => this.params[`mixer.${n}`];
    const x = this.embed(tok); // [b, L, d]
    const { y, xhat, internals } = mixer.forward(p, x, mixerContext(c), withInternals); // conv (14b), SSM (14c–14g)
    const gate = c.gate ? activate(linear(x, p('gate.weight'), p('gate.bias')), c.gate.activation) : undefined; // (14g)
    return { x, xhat, y, gate, mixer: internals };
  }

  /**
   * z = y ⊙ gate (or y) [b, L, d], the output layer's input. S6 with its conv and gate (mamba_ssm's block) runs as
   * the one op `mambaInner` (conv, S6 and gate, in the manner of mamba_inner_fn); every other block composes
   * {@link features}.
   */
  private gated(tok: Tensor): Tensor {
    const c = this.config;
    if (c.mixer === 's6' && c.conv && c.gate) {
      const p = (n: string) => this.params[`mixer.${n}`];
      return mambaInner({
        x: this.embed(tok),
        convWeight: p('conv1d.weight'),
        convBias: p('conv1d.bias'),
        convActivation: c.conv.activation,
        xProjWeight: p('x_proj.weight'),
        dtProjWeight: p('dt_proj.weight'),
        dtProjBias: p('dt_proj.bias'),
        ALog: p('A_log'),
        D: c.skip ? p('D') : undefined,
        bDiscretization: c.discretization,
        impl: c.impl,
        gateWeight: p('gate.weight'),
        gateBias: p('gate.bias'),
        gateActivation: c.gate.activation,
      });
    }
    const f = this.features(tok, false);
    return f.gate ? f.y.mul(f.gate) : f.y;
  }

  private runWithInternals(tokens: TokenInput): ForwardInternals {
    const f = this.features(tokenTensor(tokens, this.config.vocabSize, this.checkInputSize), true);
    const logits = linear(f.gate ? f.y.mul(f.gate) : f.y, this.params['lm_head.weight'], this.params['lm_head.bias']);
    return { ...f, logits };
  }
}
