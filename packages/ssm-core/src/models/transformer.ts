/**
 * The 1-layer Transformer baseline of the paper (Tab. 1, Tab. A.1/A.2: "TRANSFORMER l=1, d"):
 * a minimal GPT-2-style decoder block (Radford et al., 2019; nanoGPT's `Block` with pre-LN,
 * causal softmax attention and a final LayerNorm), on the same footing as {@link MambaModel}:
 * plain named tf.Variables, seeded init, safetensors in/out, the `SequenceModel` interface.
 *
 *   tokens ─ embedding + pos_embedding[0..L) ─ x ─┬─ ln_attn ─ causal MHA ─┐
 *                                                 └──────────────────────── + ─ h ─┬─ ln_mlp ─ MLP ─┐          (MLP optional)
 *                                                                                  └─────────────── + ─ ln_f ─ lm_head ─ logits
 *
 *   attention (per head, scale 1/√d_h, causal):  P = softmax(Q Kᵀ/√d_h + M),  M[t, s] = 0 (s ≤ t), −1e9 (s > t)
 *                                                 out = concat_heads(P V) W_oᵀ + b_o
 *
 * Shape glossary: b batch, L length (≤ maxLen), V vocabulary, C numClasses (default V),
 * d model width, H heads, d_h = d / H, F MLP hidden width.
 *   tokens [b, L] → x, h [b, L, d];  Q, K, V per head [b·H, L, d_h];  P [b, H, L, L]
 *   (row t sums to 1, zero right of the diagonal);  MLP [b, L, F] → [b, L, d];  logits [b, L, C].
 *
 * Options: `layerNorm: false` drops ln_attn, ln_mlp and ln_f (a bare residual attention layer);
 * `mlp: { hidden, activation }` adds the feed-forward sub-block (GELU by default, as GPT-2).
 * The causal mask is a finite additive −1e9 (not −∞): exp underflows to exactly 0, the
 * softmax gradient there is exactly 0, and no ∞ − ∞ can produce a NaN.
 *
 * Parameter count: 2Vd + V (embedding, lm_head) + maxLen·d + 4d² + 4d (attention) + 4d (LNs)
 * [+ 2dF + F + d + 2d with the MLP]. With |V| = 128, maxLen = T = 50 this gives 6,176 at
 * d = 16 (paper 6.4k, −3.5%); the paper's d = 32 / 64 counts (16.4k / 44.9k) match an MLP
 * with F = d (16,448 / 45,056); see test/transformer.test.ts.
 *
 * Initialisation follows PyTorch module defaults: nn.Embedding N(0, 1) for both embeddings,
 * nn.Linear U(±1/√fan_in) for every projection, LayerNorm weight 1 and bias 0 (eps 1e-5).
 * Every op used has a gradient on tfjs-wasm: the embedding goes through `embeddingLookup`
 * (no gather gradient there), and the batched matMuls through `bmm` below.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../backend.js';
import { checkpointError, configError, fmtShape, shapeError } from '../errors.js';
import { positiveInt } from '../validate.js';
import { embeddingLookup } from '../nn/layers.js';
import { linear } from '../ops/linear.js';
import { init, linearSpecs, type ParamSpec } from '../nn/params.js';
import { tokenTensor } from './tokens.js';
import { ParamModel, withWeights } from './base.js';
import type { TokenInput } from './types.js';
import { readSafetensorsHeader } from '../io/safetensors.js';
import { checkModelFile, configFromMetadata } from './weights.js';

export type TransformerActivation = 'gelu' | 'relu';

export interface TransformerConfig {
  /** |V|, the vocabulary size (rows of the token embedding). */
  vocabSize: number;
  /** Width of the output layer (default vocabSize). */
  numClasses?: number;
  /** d, the model width. */
  dModel: number;
  /** Longest input (rows of the learned absolute positional embedding [maxLen, d]). */
  maxLen: number;
  /** H attention heads (default 1); dModel must be divisible by it. */
  numHeads?: number;
  /** Pre-LN on the sub-block inputs plus a final LN before lm_head (default true). */
  layerNorm?: boolean;
  /** Feed-forward sub-block Linear(d, F) → act → Linear(F, d) (default off; F defaults to 4·dModel, act to 'gelu'). */
  mlp?: false | { hidden?: number; activation?: TransformerActivation };
  /** Seed for the initial weights (default 0). */
  seed?: number;
}

export interface ResolvedTransformerConfig {
  /** |V|, the vocabulary size. */
  vocabSize: number;
  /** Width of the output layer. */
  numClasses: number;
  /** d, the embedding size. */
  dModel: number;
  /** Longest sequence (rows of the positional embedding). */
  maxLen: number;
  /** Attention heads H (d divisible by H). */
  numHeads: number;
  /** Whether the pre-norm LayerNorms are on. */
  layerNorm: boolean;
  /** The MLP sub-block (hidden width, activation), or false. */
  mlp: false | { hidden: number; activation: TransformerActivation };
  /** Seed of the initial weights. */
  seed: number;
}

export interface TransformerInternals {
  /** Token + positional embedding [b, L, d]. */
  x: Tensor;
  /** Attention probabilities [b, H, L, L] (query t, key s; zero for s > t). */
  attention: Tensor;
  /** Attention sub-block output after out_proj [b, L, d] (before the residual add). */
  attnOut: Tensor;
  /** Residual stream before ln_f [b, L, d]. */
  h: Tensor;
  /** Logits [b, L, numClasses]. */
  logits: Tensor;
}

/** LayerNorm ε (torch default). */
export const LAYER_NORM_EPS = 1e-5;
/** Additive causal-mask value for future positions. */
export const CAUSAL_MASK_VALUE = -1e9;

const ACTIVATIONS: TransformerActivation[] = ['gelu', 'relu'];

/** Check a {@link TransformerConfig} and fill in its defaults; a bad field is a ConfigError naming it. */
export function resolveTransformerConfig(c: TransformerConfig): ResolvedTransformerConfig {
  if (c == null || typeof c !== 'object')
    throw configError('config', 'an object {vocabSize, dModel, maxLen, ...}', String(c));
  positiveInt(c.vocabSize, 'config.vocabSize');
  const numClasses = c.numClasses ?? c.vocabSize;
  positiveInt(numClasses, 'config.numClasses');
  positiveInt(c.dModel, 'config.dModel');
  positiveInt(c.maxLen, 'config.maxLen');
  const numHeads = c.numHeads ?? 1;
  positiveInt(numHeads, 'config.numHeads');
  if (c.dModel % numHeads !== 0)
    throw configError('config.numHeads', `a divisor of config.dModel = ${c.dModel}`, String(numHeads));
  const layerNorm = c.layerNorm ?? true;
  if (typeof layerNorm !== 'boolean') throw configError('config.layerNorm', 'a boolean', JSON.stringify(layerNorm));
  let mlp: ResolvedTransformerConfig['mlp'] = false;
  if (c.mlp !== undefined && c.mlp !== false) {
    if (c.mlp === null || typeof c.mlp !== 'object')
      throw configError('config.mlp', 'false or { hidden?, activation? }', JSON.stringify(c.mlp));
    const hidden = c.mlp.hidden ?? 4 * c.dModel;
    positiveInt(hidden, 'config.mlp.hidden');
    const activation = c.mlp.activation ?? 'gelu';
    if (!ACTIVATIONS.includes(activation))
      throw configError('config.mlp.activation', ACTIVATIONS.join(' | '), JSON.stringify(activation));
    mlp = { hidden, activation };
  }
  const seed = c.seed ?? 0;
  if (!Number.isInteger(seed)) throw configError('config.seed', 'an integer', JSON.stringify(seed));
  return { vocabSize: c.vocabSize, numClasses, dModel: c.dModel, maxLen: c.maxLen, numHeads, layerNorm, mlp, seed };
}

const lnSpecs = (name: string, d: number): ParamSpec[] => [
  { name: `${name}.weight`, shape: [d], init: init.constant([d], 1) },
  { name: `${name}.bias`, shape: [d], init: init.constant([d], 0) },
];

/** Every parameter of a Transformer with config `c`: name, shape, initialiser — in a fixed (forward) order. */
export function transformerParamSpecs(c: ResolvedTransformerConfig): ParamSpec[] {
  const { vocabSize: V, dModel: d, maxLen: T } = c;
  return [
    { name: 'embedding.weight', shape: [V, d], init: init.normal([V, d]) },
    { name: 'pos_embedding.weight', shape: [T, d], init: init.normal([T, d]) },
    ...(c.layerNorm ? lnSpecs('ln_attn', d) : []),
    ...linearSpecs('attn.q_proj', d, d, true),
    ...linearSpecs('attn.k_proj', d, d, true),
    ...linearSpecs('attn.v_proj', d, d, true),
    ...linearSpecs('attn.out_proj', d, d, true),
    ...(c.mlp && c.layerNorm ? lnSpecs('ln_mlp', d) : []),
    ...(c.mlp
      ? [...linearSpecs('mlp.fc1', c.mlp.hidden, d, true), ...linearSpecs('mlp.fc2', d, c.mlp.hidden, true)]
      : []),
    ...(c.layerNorm ? lnSpecs('ln_f', d) : []),
    ...linearSpecs('lm_head', c.numClasses, d, true),
  ];
}

/** LayerNorm over the last axis: (x − μ)/√(σ² + ε) · w + b (biased variance, as torch). */
function layerNorm(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const xc = x.sub(x.mean(-1, true));
  return xc
    .mul(tf.rsqrt(xc.square().mean(-1, true).add(LAYER_NORM_EPS)))
    .mul(w)
    .add(b);
}

/** Exact (erf) GELU, torch nn.GELU(): x · ½(1 + erf(x/√2)). */
const gelu = (x: Tensor) => x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1).mul(0.5));

/**
 * Batched a·b, a [B, m, k], b [B, k, n] (`transposeB` = b given as [B, n, k]), whose forward and
 * backward use only untransposed matMuls with explicit transposes: tfjs-wasm's matMul is much
 * slower with its transpose flags set, and the built-in BatchMatMul gradient sets them.
 */
function bmm(a: Tensor, b: Tensor, transposeB = false): Tensor {
  const op = tf.customGrad(((x: Tensor, y: Tensor, save: (ts: Tensor[]) => void) => {
    const yy = transposeB ? y.transpose([0, 2, 1]) : y;
    save([x, yy]);
    return {
      value: tf.matMul(x, yy),
      gradFunc: (dy: Tensor, [xs, ys]: Tensor[]) => {
        const dx = tf.matMul(dy, ys.transpose([0, 2, 1]));
        const dyy = tf.matMul(xs.transpose([0, 2, 1]), dy);
        return [dx, transposeB ? dyy.transpose([0, 2, 1]) : dyy];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(a, b) as Tensor;
}

/** [L, L] additive causal mask: 0 on and left of the diagonal, CAUSAL_MASK_VALUE right of it. */
function causalMask(L: number): Tensor {
  const m = new Float32Array(L * L);
  for (let t = 0; t < L; t++) for (let s = t + 1; s < L; s++) m[t * L + s] = CAUSAL_MASK_VALUE;
  return tf.tensor2d(m, [L, L]);
}

/**
 * The 1-layer Transformer baseline (Tab. 1): token and positional embeddings, one causal multi-head attention
 * sub-block (pre-LN, optional MLP), final LayerNorm and lm_head. tokens [b, L] (L ≤ maxLen) → logits [b, L, C].
 * @example
 * ```ts
 * const m = new TransformerModel({ vocabSize: 16, dModel: 16, maxLen: 32, numHeads: 2 });
 * const logits = m.forward([[1, 2, 3]]); // [1, 3, 16]
 * ```
 */
export class TransformerModel extends ParamModel<ResolvedTransformerConfig> {
  /** Model kind, as stored in weight files' metadata. */
  readonly kind = 'transformer' as const;

  constructor(config: TransformerConfig) {
    const c = resolveTransformerConfig(config);
    super(c, transformerParamSpecs(c));
  }

  /** Parameter counts per component. */
  paramCounts() {
    return this.countBy(['embedding', 'position', 'attention', 'norm', 'mlp', 'output'] as const, (name) =>
      name.startsWith('embedding')
        ? 'embedding'
        : name.startsWith('pos_embedding')
          ? 'position'
          : name.startsWith('attn.')
            ? 'attention'
            : name.startsWith('ln_')
              ? 'norm'
              : name.startsWith('mlp.')
                ? 'mlp'
                : 'output',
    );
  }

  /** tokens [b, L] (ints in [0, vocabSize), L ≤ maxLen) → logits [b, L, numClasses]. */
  forward(tokens: TokenInput): Tensor {
    return tf.tidy(() => this.run(tokens).logits);
  }

  /** Forward pass that also returns the embedding, attention probabilities and residual stream. Caller disposes. */
  forwardWithInternals(tokens: TokenInput): TransformerInternals {
    return tf.tidy(() => this.run(tokens) as unknown as tf.TensorContainerObject) as unknown as TransformerInternals;
  }

  /** A new model with the config and weights stored in safetensors bytes (written by `toSafetensors`). */
  static fromSafetensors(bytes: Uint8Array, source = 'checkpoint'): TransformerModel {
    const header = readSafetensorsHeader(bytes, source);
    const { kind, ...config } = configFromMetadata(header.metadata, source);
    if (kind !== 'transformer') {
      throw checkpointError(
        `${source}: __metadata__.model`,
        "'transformer'",
        JSON.stringify(kind),
        'load it with the class of that model',
      );
    }
    const c = resolveTransformerConfig(config as unknown as TransformerConfig);
    checkModelFile(transformerParamSpecs(c), c as unknown as Record<string, unknown>, header, source); // before any allocation
    return withWeights(new TransformerModel(config as unknown as TransformerConfig), bytes, source);
  }

  private run(tokens: TokenInput): TransformerInternals {
    const c = this.config;
    const P = (n: string) => this.params[n];
    const tok = tokenTensor(tokens, c.vocabSize, this.checkInputSize);
    const [b, L] = tok.shape as [number, number];
    if (L > c.maxLen) {
      throw shapeError(
        'tokens',
        `length L ≤ ${c.maxLen} (config.maxLen, the rows of pos_embedding)`,
        `L = ${L} in ${fmtShape(tok.shape)}`,
      );
    }
    const d = c.dModel,
      H = c.numHeads,
      dh = d / H;
    const x = embeddingLookup(P('embedding.weight'), tok).add(P('pos_embedding.weight').slice([0, 0], [L, d])); // [b, L, d]

    // causal multi-head self-attention, pre-LN, residual
    const a = c.layerNorm ? layerNorm(x, P('ln_attn.weight'), P('ln_attn.bias')) : x;
    const heads = (name: string) =>
      linear(a, P(`attn.${name}.weight`), P(`attn.${name}.bias`)) // [b, L, d]
        .reshape([b, L, H, dh])
        .transpose([0, 2, 1, 3])
        .reshape([b * H, L, dh]);
    const q = heads('q_proj'),
      k = heads('k_proj'),
      v = heads('v_proj');
    const scores = bmm(q, k, true)
      .mul(1 / Math.sqrt(dh))
      .add(causalMask(L)); // [b·H, L, L]
    const attn = tf.softmax(scores); // over keys
    const o = bmm(attn, v).reshape([b, H, L, dh]).transpose([0, 2, 1, 3]).reshape([b, L, d]);
    const attnOut = linear(o, P('attn.out_proj.weight'), P('attn.out_proj.bias'));
    let h = x.add(attnOut);

    if (c.mlp) {
      const m = c.layerNorm ? layerNorm(h, P('ln_mlp.weight'), P('ln_mlp.bias')) : h;
      const z = linear(m, P('mlp.fc1.weight'), P('mlp.fc1.bias'));
      h = h.add(linear(c.mlp.activation === 'gelu' ? gelu(z) : tf.relu(z), P('mlp.fc2.weight'), P('mlp.fc2.bias')));
    }
    const f = c.layerNorm ? layerNorm(h, P('ln_f.weight'), P('ln_f.bias')) : h;
    const logits = linear(f, P('lm_head.weight'), P('lm_head.bias'));
    return { x, attention: attn.reshape([b, H, L, L]), attnOut, h, logits };
  }
}
