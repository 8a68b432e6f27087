// Class aggregation (CAT-Seg's ClassTransformerLayer): at every (pooled) pixel, the class tokens
// attend to each other. Reproduced as the reference does it:
//  - average-pool the map (training pools 2x2; eval.sh sets POOLING_SIZES [1, 1]);
//  - pad the class axis to pad_len with a learnable token (and a learnable text guidance; see
//    forward for how the identical padding tokens are computed once);
//  - x_p = x_p + attn(norm1(x_p), g); x_p = x_p + MLP(norm2(x_p)) with a ReLU MLP;
//  - upsample back with bilinear align_corners=True and add as a residual: x + up(x_p). x_p
//    already contains pool(x), so with pooling 1 the result is 2x + delta.
import { AhsError, check, fmtShape } from '../../errors.js';
import { LayerNorm, Linear, Module, ReLU, Sequential } from '../../nn/index.js';
import { avgPool2d, cat, interpolate, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { AttentionLayer, type AttentionType } from './class_attention.js';

/** Class tokens per block of pixels processed together (about 4 MB per (rows, C=128) tensor). */
const ROWS_PER_BLOCK = 8192;

export interface ClassAggregationOptions {
  hiddenDim: number;
  /** Text-guidance channels (0 = none). */
  guidanceDim: number;
  numHeads: number;
  attentionType: AttentionType;
  /** AvgPool2d kernel (= stride) before attention; null = identity. */
  poolingSize: [number, number] | null;
  /** Classes are padded to this many tokens (0 = no padding parameters). */
  padLen: number;
}

export class ClassTransformerLayer extends Module {
  readonly attention: AttentionLayer;
  readonly MLP: Sequential;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly padding_tokens: Tensor | null;
  readonly padding_guidance: Tensor | null;
  poolingSize: [number, number] | null;

  constructor(readonly opts: ClassAggregationOptions) {
    super();
    const { hiddenDim: C, guidanceDim: G, padLen } = opts;
    this.poolingSize = opts.poolingSize;
    this.padding_tokens = this.param('padding_tokens', padLen > 0 ? zeros([1, 1, C]) : null);
    this.padding_guidance = this.param('padding_guidance', padLen > 0 && G > 0 ? zeros([1, 1, G]) : null);
    this.attention = this.child('attention', new AttentionLayer(C, G, opts.numHeads, opts.attentionType));
    this.MLP = this.child('MLP', new Sequential(new Linear(C, C * 4), new ReLU(), new Linear(C * 4, C)));
    this.norm1 = this.child('norm1', new LayerNorm(C));
    this.norm2 = this.child('norm2', new LayerNorm(C));
  }

  /** (B T, C, H, W) -> pooled (B T, C, H', W'). */
  private pool(x: Tensor): Tensor {
    const k = this.poolingSize;
    if (!k || (k[0] === 1 && k[1] === 1)) return x.view(x.shape);
    if (k[0] < 1 || k[1] < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `ClassTransformerLayer: pooling size ${fmtShape(k)} must be positive`);
    return avgPool2d(x, k, k);
  }

  /** x (B, C, T, H, W), text guidance (B, T, Cg) or null -> (B, C, T, H, W). */
  forward(x: Tensor, guidance: Tensor | null): Tensor {
    const C = this.opts.hiddenDim;
    check(x.rank === 5 && x.size(1) === C, 'AHS_ERR_SHAPE', () => `ClassTransformerLayer: x must be (B, ${C}, T, H, W), got ${fmtShape(x.shape)}`);
    const [B, , T, H, W] = x.shape as [number, number, number, number, number];
    if (guidance) {
      check(guidance.rank === 3 && guidance.size(0) === B && guidance.size(1) === T, 'AHS_ERR_SHAPE',
        () => `ClassTransformerLayer: guidance must be (${B}, ${T}, Cg), got ${fmtShape(guidance.shape)}`);
    }
    // Each stage runs in its own scope and frees its input as soon as it is consumed: at ADE-150
    // with five views every (B, C, T, H, W) tensor is ~220 MB, and holding them all until the end
    // of the layer made it the pipeline's peak.
    return tidy(() => {
      let xp = tidy(() => this.pool(x.permute([0, 2, 1, 3, 4]).reshape([B * T, C, H, W]))); // (B T, C, Hp, Wp)
      const Hp = xp.size(2), Wp = xp.size(3);
      const P = Hp * Wp;
      xp = this.consume(xp, (t) => t.view([B, T, C, Hp, Wp]).permute([0, 3, 4, 1, 2]).reshape([B * P, T, C])); // (B Hp Wp, T, C)
      // The reference appends pad_len - T copies of padding_tokens (and padding_guidance) to every
      // pixel's class sequence. All copies are the same vector, so they enter the attention as one
      // key/value counted pad times (exact up to float rounding), and their own outputs, which the
      // reference discards, are never computed.
      const pad = this.padding_tokens && T < this.opts.padLen ? this.opts.padLen - T : 0;
      const padding = pad > 0
        ? { tokens: this.norm1.forward(this.padding_tokens!), guidance: guidance ? this.padding_guidance : null, count: pad } : undefined;
      // Pixels are independent here: run them in blocks of about ROWS_PER_BLOCK class tokens so
      // the working set stays small (big fresh buffers cost more in page faults than in math).
      const rows = Math.max(1, Math.floor(ROWS_PER_BLOCK / T));
      const blocks: Tensor[] = [];
      for (let b = 0; b < B; b++) {
        for (let r = 0; r < P; r += rows) {
          const n = Math.min(rows, P - r);
          blocks.push(tidy(() => {
            let xb = xp.narrow(0, b * P + r, n); // (n, T, C)
            const gb = guidance ? guidance.narrow(0, b, 1) : null; // (1, T, Cg): the image's text guidance, the same at every pixel
            xb = xb.add(this.attention.forward(this.norm1.forward(xb), gb, padding));
            return xb.add(this.MLP.forward(this.norm2.forward(xb))); // (n, T, C)
          }));
        }
      }
      xp.dispose();
      xp = blocks.length === 1 ? blocks[0]! : cat(blocks, 0); // (B Hp Wp, T, C)
      if (blocks.length > 1) for (const blk of blocks) blk.dispose();
      let maps = this.consume(xp, (t) => t.view([B, Hp, Wp, T, C]).permute([0, 3, 4, 1, 2]).reshape([B * T, C, Hp, Wp])); // (B T, C, Hp, Wp)
      // Bilinear with align_corners=True to the same size is the identity (pooling 1x1 at test).
      if (Hp !== H || Wp !== W) maps = this.consume(maps, (t) => interpolate(t, { size: [H, W], mode: 'bilinear', alignCorners: true })); // (B T, C, H, W)
      return x.add(maps.view([B, T, C, H, W]).permute([0, 2, 1, 3, 4])); // (B, C, T, H, W)
    });
  }

  /** fn(t) in its own scope, then frees t: only the result stays alive. */
  private consume(t: Tensor, fn: (t: Tensor) => Tensor): Tensor {
    const out = tidy(() => fn(t));
    t.dispose();
    return out;
  }
}
