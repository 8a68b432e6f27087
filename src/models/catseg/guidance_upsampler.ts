// The decoder guidance of CAT-Seg (cat_seg_model.py, CATSeg.forward): the raw residual-stream
// outputs of two CLIP visual blocks (ViT-B: 3 and 7) lose their CLS token, become (B, W, H, W)
// maps and are upsampled by transposed convs that live on the CATSeg model itself as
// `upsample1` (kernel = stride = 2) and `upsample2` (kernel = stride = 4).
import { check, fmtShape } from '../../errors.js';
import { ConvTranspose2d } from '../../nn/index.js';
import { tidy, type Tensor } from '../../tensor/index.js';

/** One guidance upsampler: ConvTranspose2d(in, out, kernel = stride = scale). */
export function guidanceUpsampler(inChannels: number, outChannels: number, scale: number): ConvTranspose2d {
  return new ConvTranspose2d(inChannels, outChannels, scale, { stride: scale });
}

/** Token layout of a tapped block output: batch-first (B, L, C) or the reference's sequence-first (L, B, C). */
export type TokenLayout = 'BLC' | 'LBC';

/**
 * A block output with a leading CLS token -> (B, C, H, W) patch map, as the reference's
 * rearrange(x[1:], "(H W) B C -> B C H W").
 */
export function tokensToGrid(tokens: Tensor, grid: [number, number], layout: TokenLayout = 'BLC'): Tensor {
  const [H, W] = grid;
  const L = layout === 'BLC' ? tokens.size(1) : tokens.size(0);
  check(tokens.rank === 3 && L === 1 + H * W, 'AHS_ERR_SHAPE',
    () => `tokensToGrid: expected ${layout} tokens with L = 1 + ${H}*${W}, got ${fmtShape(tokens.shape)}`);
  return tidy(() => {
    const bl = layout === 'BLC' ? tokens : tokens.transpose(0, 1); // (B, L, C)
    const B = bl.size(0), C = bl.size(2);
    return bl.narrow(1, 1, H * W).transpose(1, 2).reshape([B, C, H, W]); // (B, C, H, W)
  });
}
