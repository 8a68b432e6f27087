// CLIP's input normalisation on the 0..255 scale (CAT-Seg's CLIP_PIXEL_MEAN / CLIP_PIXEL_STD).
import { AhsError, fmtShape } from '../../errors.js';
import { interpolate, tensor, tidy, type Tensor } from '../../tensor/index.js';

export const CLIP_PIXEL_MEAN = [122.7709383, 116.7460125, 104.09373615] as const;
export const CLIP_PIXEL_STD = [68.5005327, 66.6321579, 70.323163] as const;

/** (x - mean) / std per channel for [B, 3, H, W] float images on the 0..255 scale. */
export function clipNormalize(images: Tensor, mean: readonly number[] = CLIP_PIXEL_MEAN, std: readonly number[] = CLIP_PIXEL_STD): Tensor {
  if (images.rank !== 4 || images.size(1) !== 3) throw new AhsError('AHS_ERR_SHAPE', `clipNormalize: images must be [B, 3, H, W], got ${fmtShape(images.shape)}`);
  return tidy(() => {
    const m = tensor(Float32Array.from(mean), { shape: [1, 3, 1, 1], device: images.device });
    const s = tensor(Float32Array.from(std), { shape: [1, 3, 1, 1], device: images.device });
    return images.float().sub(m).div(s);
  });
}

/** A uint8 [3, H, W] image resized (bilinear, align_corners false) to size and normalised: [1, 3, h, w]. */
export function clipInput(image: Tensor, size: [number, number]): Tensor {
  return tidy(() => clipNormalize(interpolate(image.float().unsqueeze(0), { size, mode: 'bilinear', alignCorners: false })));
}
