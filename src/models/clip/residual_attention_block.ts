// CLIP's pre-LN transformer block (OpenAI clip/model.py ResidualAttentionBlock), batch-first.
import { LayerNorm, Linear, Module } from '../../nn/index.js';
import { mlp, tidy, type Tensor } from '../../tensor/index.js';
import { MultiheadAttention, type QkvLayout } from './multihead_attention.js';

/** Residual of the dense last block: CAT-Seg adds the block input's CLS token to every token,
 * MaskCLIP adds each token's own input. */
export type DenseResidual = 'cls' | 'token';

export class ResidualAttentionBlock extends Module {
  readonly attn: MultiheadAttention;
  readonly ln_1: LayerNorm;
  readonly mlp: Mlp;
  readonly ln_2: LayerNorm;

  constructor(width: number, heads: number, layout: QkvLayout = 'packed') {
    super();
    this.attn = this.child('attn', new MultiheadAttention(width, heads, layout));
    this.ln_1 = this.child('ln_1', new LayerNorm(width));
    this.mlp = this.child('mlp', new Mlp(width));
    this.ln_2 = this.child('ln_2', new LayerNorm(width));
  }

  forward(x: Tensor, mask?: Tensor | null): Tensor {
    return tidy(() => {
      const h = x.add(this.attn.forward(this.ln_1.forward(x), mask));
      return h.add(this.mlp.forward(this.ln_2.forward(h)));
    });
  }

  /** The last block in dense mode: attention skipped, value path only, then the MLP. */
  forwardDense(x: Tensor, residual: DenseResidual): Tensor {
    return tidy(() => {
      const v = this.attn.valuePath(this.ln_1.forward(x)); // (B, L, D)
      const base = residual === 'cls' ? x.narrow(1, 0, 1) : x; // CLS token broadcasts to all tokens
      const h = v.add(base);
      return h.add(this.mlp.forward(this.ln_2.forward(h)));
    });
  }
}

/** OpenAI's mlp: OrderedDict(c_fc, gelu, c_proj) with QuickGELU. */
class Mlp extends Module {
  readonly c_fc: Linear;
  readonly c_proj: Linear;
  constructor(width: number) {
    super();
    this.c_fc = this.child('c_fc', new Linear(width, width * 4));
    this.c_proj = this.child('c_proj', new Linear(width * 4, width));
  }
  forward(x: Tensor): Tensor {
    return mlp(x, { fc1: this.c_fc, fc2: this.c_proj }, 'quick_gelu');
  }
}
