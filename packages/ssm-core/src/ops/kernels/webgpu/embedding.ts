/**
 * `embedding` on tfjs-backend-webgpu (its 'webgpu' kernel): one WGSL program forward and one backward, instead of
 * the generic kernel's gather + concat forward and split + one-hot + transpose + matMul backward.
 *   forward   x[i, j] = W[tokens_i, j] (j < e),  x[i, e] = f32(t_i)·f32(s) with t_i = (i mod L) + 1 (the PE column)
 *   backward  ∂W[v, j] = Σ_{i: tokens_i = v} ∂x[i, j], summed in the order of i (as the host kernel's loop),
 *             one invocation per (v, j), each reading all b·L ids; above {@link EMBED_LOOP_LIMIT} = V·b·L the
 *             one-hot product onehot(tokens)ᵀ ∂x[:, :e] instead (a GEMM, three programs)
 * Ids are read on the device and not range-checked here (models check tokens once, `tokenTensor`).
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import { tf } from '../../../backend.js';
import { grid, runProgram, type Program } from './program.js';

const WG = 64;

/** Largest V·b·L for which the backward loops over every id per (v, j) (Tab. 1: 128·32·50 = 204800). */
export const EMBED_LOOP_LIMIT = 2 ** 24;

function flatProgram(name: string, size: number, names: string[], uniforms: string, body: string): Program {
  return {
    outputShape: [size],
    shaderKey: name,
    dispatchLayout: { x: [0] },
    dispatch: grid(Math.ceil(size / WG)),
    variableNames: names,
    workgroupSize: [WG, 1, 1],
    size: true,
    uniforms,
    getUserCode: () => `
fn main(index : i32) {
  if (index >= uniforms.size) { return; }
${body}
}
`,
  };
}

const FORWARD = `
  let i = index / uniforms.rowWidth;
  let j = index - i * uniforms.rowWidth;
  if (j < uniforms.dim) {
    result[index] = w[tokens[i] * uniforms.dim + j];
  } else {
    result[index] = f32(i % uniforms.seqLen + 1) * uniforms.posScale;
  }`;

const BACKWARD = `
  let v = index / uniforms.dim;
  let j = index - v * uniforms.dim;
  var acc = 0.0;
  for (var i = 0; i < uniforms.nRows; i++) {
    if (tokens[i] == v) { acc += dy[i * uniforms.rowWidth + j]; }
  }
  result[index] = acc;`;

/**
 * The 'webgpu' kernel of `embedding`: W [V, e], tokens int32 [b, L] → [b, L, e] or [b, L, e + 1]; `loopLimit` is
 * the V·b·L up to which the backward runs the per-(v, j) loop.
 */
export function webgpuEmbedding(
  W: Tensor,
  tokens: Tensor,
  positionScale: number | undefined,
  loopLimit = EMBED_LOOP_LIMIT,
): Tensor {
  const [V, e] = W.shape as [number, number];
  const [b, L] = tokens.shape as [number, number];
  const M = b * L;
  const width = positionScale === undefined ? e : e + 1;
  const int = (v: number) => ({ type: 'int32' as const, data: [v] });
  const op = tf.customGrad(((w: Tensor, save: (ts: Tensor[]) => void) => {
    save([tokens]);
    const forward = flatProgram(
      'ssmEmbed',
      M * width,
      ['w', 'tokens'],
      'rowWidth : i32, dim : i32, seqLen : i32, posScale : f32,',
      FORWARD,
    );
    const uniforms = [int(width), int(e), int(L), { type: 'float32' as const, data: [positionScale ?? 0] }];
    return {
      value: runProgram('ssmEmbed', forward, [w, tokens], uniforms, [b, L, width]),
      gradFunc: (dy: Tensor, [tok]: Tensor[]) => {
        if (V * M > loopLimit) {
          const g = dy.reshape([M, width]);
          return tf.matMul(tf.oneHot(tok.reshape([M]), V), width === e ? g : g.slice([0, 0], [M, e]), true, false);
        }
        const backward = flatProgram(
          'ssmEmbedGrad',
          V * e,
          ['tokens', 'dy'],
          'rowWidth : i32, dim : i32, nRows : i32,',
          BACKWARD,
        );
        return runProgram('ssmEmbedGrad', backward, [tok, dy], [int(width), int(e), int(M)], [V, e]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(W) as Tensor;
}
