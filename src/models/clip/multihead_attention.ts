// nn.MultiheadAttention as CLIP uses it (batch-first here: x is [B, L, D]). Two parameter layouts:
// 'packed' is OpenAI's `in_proj_weight` [3D, D]; 'split' is CAT-Seg's model_vpt layout, which
// registers `q_proj_weight`, `k_proj_weight`, `v_proj_weight` [D, D] so that only Q and V can be
// fine-tuned. Both keep one `in_proj_bias` [3D] and `out_proj` (Linear D->D).
import { AhsError, fmtShape } from '../../errors.js';
import { Linear, Module } from '../../nn/index.js';
import { cat, linear, multiHeadAttention, tidy, type Tensor } from '../../tensor/index.js';
import { constantInit, uniformFanIn } from '../../nn/init.js';

export type QkvLayout = 'packed' | 'split';

/** Supplies the q, k, v and out projection weights actually used (H-CLIP's orthogonal
 * fine-tuning replaces them with transformed weights without changing the stored ones). */
export interface ProjectionWeights { q: Tensor; k: Tensor; v: Tensor; out: Tensor }

export class MultiheadAttention extends Module {
  readonly out_proj: Linear;
  readonly in_proj_bias: Tensor;
  readonly headDim: number;
  readonly layout: QkvLayout;
  /** Set by a fine-tuning mode to substitute effective weights (see clip/finetune). */
  weightOverride: (() => ProjectionWeights) | null = null;

  constructor(readonly dim: number, readonly numHeads: number, layout: QkvLayout = 'packed') {
    super();
    if (dim % numHeads) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `MultiheadAttention: width ${dim} not divisible by ${numHeads} heads`);
    this.headDim = dim / numHeads;
    this.layout = layout;
    if (layout === 'packed') this.param('in_proj_weight', uniformFanIn([3 * dim, dim], dim));
    else for (const n of ['q', 'k', 'v']) this.param(`${n}_proj_weight`, uniformFanIn([dim, dim], dim));
    this.in_proj_bias = this.param('in_proj_bias', constantInit([3 * dim], 0));
    this.out_proj = this.child('out_proj', new Linear(dim, dim));
  }

  private stored(name: string): Tensor {
    for (const [n, t] of this.namedParameters()) if (n === name) return t;
    throw new AhsError('AHS_ERR_STATE_DICT', `MultiheadAttention has no parameter ${name}`);
  }

  /** The stored (frozen or fine-tuned) projection weights, as views. */
  storedWeights(): ProjectionWeights {
    if (this.layout === 'split') {
      return { q: this.stored('q_proj_weight'), k: this.stored('k_proj_weight'), v: this.stored('v_proj_weight'), out: this.out_proj.weight };
    }
    const [q, k, v] = this.stored('in_proj_weight').chunk(3, 0) as [Tensor, Tensor, Tensor];
    return { q, k, v, out: this.out_proj.weight };
  }

  weights(): ProjectionWeights {
    return this.weightOverride ? this.weightOverride() : this.storedWeights();
  }

  /** The value path alone (q, k, v each through out_proj in the reference; only v is used):
   * out_proj(W_v x + b_v). CAT-Seg's and MaskCLIP's dense last block. */
  valuePath(x: Tensor): Tensor {
    return tidy(() => {
      const w = this.weights();
      const bv = this.in_proj_bias.narrow(0, 2 * this.dim, this.dim);
      return linear(linear(x, w.v, bv), w.out, this.out_proj.bias);
    });
  }

  /** Self-attention on x [B, L, D] with an optional additive mask [L, L]. */
  forward(x: Tensor, mask?: Tensor | null): Tensor {
    if (x.rank !== 3 || x.size(2) !== this.dim) {
      throw new AhsError('AHS_ERR_SHAPE', `MultiheadAttention(${this.dim}): input must be [B, L, ${this.dim}], got ${fmtShape(x.shape)}`);
    }
    return tidy(() => {
      const [B, L] = x.shape as [number, number];
      const w = this.weights();
      const wIn = cat([w.q, w.k, w.v], 0); // one GEMM for q, k and v
      const qkv = linear(x, wIn, this.in_proj_bias) // (B, L, 3D)
        .view([B, L, 3, this.numHeads, this.headDim])
        .permute([2, 0, 3, 1, 4]); // (3, B, H, L, hd)
      const [q, k, v] = qkv.unbind(0) as [Tensor, Tensor, Tensor];
      const o = multiHeadAttention(q, k, v, { mask: mask ? mask.view([1, L, L]) : null }); // (B, L, D)
      return linear(o, w.out, this.out_proj.bias);
    });
  }
}
