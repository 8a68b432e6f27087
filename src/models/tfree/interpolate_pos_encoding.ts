// `interpolate_pos_encoding` of NACLIP's, SCLIP's and ClearCLIP's VisionTransformer (DINO's
// version): the stored g x g patch embeddings resized bicubically (A = -0.75, align_corners false)
// by scale_factor ((gh + 0.1) / g, (gw + 0.1) / g) with recompute_scale_factor off. The output is
// gh x gw, but source coordinates are (o + 0.5) g / (gh + 0.1) - 0.5, not the size-based mapping
// CAT-Seg uses (VisionTransformer.positionalEmbeddingFor); the two differ by ~4e-2 on features.
import { AhsError } from '../../errors.js';
import { cat, interpolate, tidy, type Tensor } from '../../tensor/index.js';

/** [1 + gh*gw, C] from the stored [1 + g*g, C] (CLS row first and kept); the stored tensor when
 * the token count already matches, as the reference only interpolates when it differs. */
export function interpolatePosEncoding(stored: Tensor, gh: number, gw: number): Tensor {
  const g = Math.round(Math.sqrt(stored.size(0) - 1));
  if (g * g + 1 !== stored.size(0)) throw new AhsError('AHS_ERR_SHAPE', `interpolatePosEncoding: ${stored.size(0)} positional embeddings are not 1 + a square grid`);
  if (gh * gw === g * g) return stored.view(stored.shape);
  return tidy(() => {
    const C = stored.size(1);
    const grid = stored.narrow(0, 1, g * g).reshape([1, g, g, C]).permute([0, 3, 1, 2]); // (1, C, g, g)
    const resized = interpolate(grid, { scaleFactor: [(gh + 0.1) / g, (gw + 0.1) / g], mode: 'bicubic', alignCorners: false }); // (1, C, gh, gw)
    if (resized.size(2) !== gh || resized.size(3) !== gw) {
      throw new AhsError('AHS_ERR_SHAPE', `interpolatePosEncoding: scale factors gave ${resized.size(2)}x${resized.size(3)}, not ${gh}x${gw}`);
    }
    return cat([stored.narrow(0, 0, 1), resized.permute([0, 2, 3, 1]).reshape([gh * gw, C])], 0);
  });
}
