// CLIP's ViT image encoder (OpenAI clip/model.py VisionTransformer) with CAT-Seg's dense forward
// (cat_seg/third_party/model_vpt.py): positional embeddings resized bicubically to the input
// grid, the last block in dense mode, ln_post and proj on every token.
import { AhsError, fmtShape } from '../../errors.js';
import { Conv2d, LayerNorm, Module } from '../../nn/index.js';
import { cat, interpolate, tidy, type Tensor } from '../../tensor/index.js';
import { normalInit } from '../../nn/init.js';
import type { DenseResidual } from './residual_attention_block.js';
import { Transformer } from './transformer.js';
import type { QkvLayout } from './multihead_attention.js';

export interface VisionConfig {
  width: number;
  layers: number;
  heads: number;
  patchSize: number;
  /** Pretraining resolution: sets the stored positional-embedding grid. */
  imageResolution: number;
  outputDim: number;
}

export interface DenseOutput {
  /** ln_post + proj on every token: [B, 1 + gh*gw, outputDim] (CLS first). */
  tokens: Tensor;
  /** Raw residual-stream outputs of the requested blocks, [B, 1 + gh*gw, width]; the last
   * block's entry is its dense output (the same tensor as `residual`). */
  taps: Map<number, Tensor>;
  /** The final residual stream before ln_post (the dense last block's output): [B, 1 + gh*gw, width]. */
  residual: Tensor;
  grid: [number, number];
}

export class VisionTransformer extends Module {
  readonly conv1: Conv2d;
  readonly class_embedding: Tensor;
  readonly positional_embedding: Tensor;
  readonly ln_pre: LayerNorm;
  readonly transformer: Transformer;
  readonly ln_post: LayerNorm;
  readonly proj: Tensor;
  readonly grid: number;

  constructor(readonly cfg: VisionConfig, layout: QkvLayout = 'packed') {
    super();
    const { width, patchSize } = cfg;
    this.grid = Math.floor(cfg.imageResolution / patchSize);
    const scale = width ** -0.5;
    this.conv1 = this.child('conv1', new Conv2d(3, width, patchSize, { stride: patchSize, bias: false }));
    this.class_embedding = this.param('class_embedding', normalInit([width], scale));
    this.positional_embedding = this.param('positional_embedding', normalInit([this.grid * this.grid + 1, width], scale));
    this.ln_pre = this.child('ln_pre', new LayerNorm(width));
    this.transformer = this.child('transformer', new Transformer(width, cfg.layers, cfg.heads, layout));
    this.ln_post = this.child('ln_post', new LayerNorm(width));
    this.proj = this.param('proj', normalInit([width, cfg.outputDim], scale));
  }

  /** The positional embedding for a gh x gw grid: bicubic, align_corners false, CLS row kept. */
  positionalEmbeddingFor(gh: number, gw: number): Tensor {
    if (gh === this.grid && gw === this.grid) return this.positional_embedding.view(this.positional_embedding.shape);
    return tidy(() => {
      const C = this.cfg.width;
      const grid = this.positional_embedding.narrow(0, 1, this.grid * this.grid)
        .reshape([1, this.grid, this.grid, C]).permute([0, 3, 1, 2]); // (1, C, g, g)
      const resized = interpolate(grid, { size: [gh, gw], mode: 'bicubic', alignCorners: false })
        .permute([0, 2, 3, 1]).reshape([gh * gw, C]);
      return cat([this.positional_embedding.narrow(0, 0, 1), resized], 0); // (1 + gh*gw, C)
    });
  }

  /** Patch embedding + CLS + positional embedding + ln_pre: [B, 1 + gh*gw, width]. */
  private embed(images: Tensor): { x: Tensor; grid: [number, number] } {
    if (images.rank !== 4 || images.size(1) !== 3) {
      throw new AhsError('AHS_ERR_SHAPE', `VisionTransformer: images must be [B, 3, H, W], got ${fmtShape(images.shape)}`);
    }
    const p = this.cfg.patchSize;
    if (images.size(2) % p || images.size(3) % p) {
      throw new AhsError('AHS_ERR_SHAPE', `VisionTransformer: image size ${images.size(2)}x${images.size(3)} is not a multiple of the patch size ${p}`);
    }
    return tidy(() => {
      const B = images.size(0);
      const f = this.conv1.forward(images); // (B, W, gh, gw)
      const gh = f.size(2), gw = f.size(3);
      const tokens = f.flatten(2).transpose(1, 2); // (B, gh*gw, W)
      const cls = this.class_embedding.view([1, 1, this.cfg.width]).expand([B, 1, this.cfg.width]);
      const x = cat([cls, tokens], 1).add(this.positionalEmbeddingFor(gh, gw));
      return { x: this.ln_pre.forward(x), grid: [gh, gw] as [number, number] };
    });
  }

  /** The pooled image embedding: ln_post(CLS) @ proj, [B, outputDim] (not normalised). */
  forward(images: Tensor): Tensor {
    return tidy(() => {
      const { x } = this.embed(images);
      const { out } = this.transformer.run(x);
      return this.ln_post.forward(out.select(1, 0)).matmul(this.proj);
    });
  }

  /** Dense per-token features (CAT-Seg 'cls' residual or MaskCLIP 'token' residual), the
   * requested taps (any blocks) and the final residual stream, so that components reading CLIP's
   * intermediate features need no hooks. */
  dense(images: Tensor, opts: { residual?: DenseResidual; taps?: readonly number[] } = {}): DenseOutput {
    for (const t of opts.taps ?? []) {
      if (!Number.isInteger(t) || t < 0 || t >= this.cfg.layers) {
        throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `VisionTransformer.dense: tap ${t} must be a block index in [0, ${this.cfg.layers - 1}]`);
      }
    }
    return tidy(() => {
      const { x, grid } = this.embed(images);
      const { out, taps } = this.transformer.run(x, { denseResidual: opts.residual ?? 'cls', taps: opts.taps });
      const tokens = this.ln_post.forward(out).matmul(this.proj);
      return { tokens, taps, residual: out, grid };
    });
  }
}
