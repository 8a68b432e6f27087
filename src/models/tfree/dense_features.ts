// The image side of the training-free methods (`encode_image(img, return_all=True)` in their
// clip/model.py): CLIP's ViT with `interpolate_pos_encoding`, the first L - 1 blocks as they
// are, the method's own last block, ln_post and proj on every token, CLS dropped. The patch conv
// drops trailing pixels when a side is not a multiple of the patch size, as the reference's does.
import { AhsError, fmtShape } from '../../errors.js';
import { cat, tidy, type Tensor } from '../../tensor/index.js';
import type { ResidualAttentionBlock } from '../clip/residual_attention_block.js';
import type { VisionTransformer } from '../clip/vision_transformer.js';
import { interpolatePosEncoding } from './interpolate_pos_encoding.js';

/** A method's replacement for CLIP's last block, run on that block's weights. */
export interface LastBlock {
  /** x [B, 1 + gh*gw, width], the last block's input -> what the method puts in its place. */
  forward(block: ResidualAttentionBlock, x: Tensor, grid: [number, number]): Tensor;
  /** Frees what it caches (NACLIP's neighbourhood prior). */
  dispose?(): void;
}

export interface DenseFeatures {
  /** [B, gh*gw, embed_dim], patches row-major, not normalised. */
  feats: Tensor;
  grid: [number, number];
}

/** Dense patch features of normalised images [B, 3, H, W]. */
export function denseFeatures(visual: VisionTransformer, images: Tensor, last: LastBlock): DenseFeatures {
  const p = visual.cfg.patchSize;
  if (images.rank !== 4 || images.size(1) !== 3 || images.size(2) < p || images.size(3) < p) {
    throw new AhsError('AHS_ERR_SHAPE', `dense features: images must be [B, 3, H, W] with H, W >= the patch size ${p}, got ${fmtShape(images.shape)}`);
  }
  return tidy(() => {
    const B = images.size(0), C = visual.cfg.width;
    const f = visual.conv1.forward(images); // (B, C, gh, gw)
    const grid: [number, number] = [f.size(2), f.size(3)];
    const n = grid[0] * grid[1];
    const cls = visual.class_embedding.view([1, 1, C]).expand([B, 1, C]);
    const tokens = cat([cls, f.flatten(2).transpose(1, 2)], 1); // (B, 1 + n, C)
    let x = visual.ln_pre.forward(tokens.add(interpolatePosEncoding(visual.positional_embedding, grid[0], grid[1])));
    const blocks = visual.transformer.resblocks;
    for (let i = 0; i < visual.cfg.layers - 1; i++) x = blocks.at(i).forward(x);
    x = last.forward(blocks.at(visual.cfg.layers - 1), x, grid);
    const feats = visual.ln_post.forward(x).matmul(visual.proj).narrow(1, 1, n); // (B, n, D)
    return { feats, grid };
  });
}
