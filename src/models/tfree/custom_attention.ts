// The pieces of the reference repositories' `custom_attn`, shared by the last blocks of NACLIP,
// SCLIP and ClearCLIP: q, k, v from the block's own in_proj (packed or split, fine-tuned weights
// included) split into heads, and out_proj on the merged heads. What each method does between
// the two (which similarity goes into the softmax) lives in the method's own file.
import { AhsError, fmtShape } from '../../errors.js';
import { linear, multiHeadAttention, tidy, type Tensor } from '../../tensor/index.js';
import type { MultiheadAttention } from '../clip/multihead_attention.js';

export type Projection = 'q' | 'k' | 'v';

/** One of F.linear(x, in_proj_weight, in_proj_bias).chunk(3), split into heads: x [B, L, D] ->
 * [B, heads, L, head_dim]. Each method computes only the projections it uses. */
export function headProjection(attn: MultiheadAttention, x: Tensor, which: Projection): Tensor {
  if (x.rank !== 3 || x.size(2) !== attn.dim) {
    throw new AhsError('AHS_ERR_SHAPE', `custom attention: input must be [B, L, ${attn.dim}], got ${fmtShape(x.shape)}`);
  }
  return tidy(() => {
    const [B, L] = x.shape as [number, number];
    const i = which === 'q' ? 0 : which === 'k' ? 1 : 2;
    return linear(x, attn.weights()[which], attn.in_proj_bias.narrow(0, i * attn.dim, attn.dim))
      .view([B, L, attn.numHeads, attn.headDim]).transpose(1, 2); // (B, H, L, hd)
  });
}

/** softmax(a b^T d^-0.5 + mask) v per head, heads merged: [B, L, D] (mask [L, L] or none). */
export function similarityAttention(a: Tensor, b: Tensor, v: Tensor, mask: Tensor | null = null): Tensor {
  const L = a.size(2);
  return tidy(() => multiHeadAttention(a, b, v, { mask: mask ? mask.view([1, L, L]) : null }));
}

/** out_proj on merged heads [B, L, D]. */
export function outProjection(attn: MultiheadAttention, merged: Tensor): Tensor {
  return linear(merged, attn.weights().out, attn.out_proj.bias);
}
