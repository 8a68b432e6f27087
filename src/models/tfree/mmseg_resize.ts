// The test-time resize of the training-free methods' mmseg pipelines, `Resize(scale=(2048, S),
// keep_ratio=True)`: mmcv's rescale_size picks f = min(2048 / long side, S / short side) and
// rounds each side as int(side * f + 0.5); mmcv's imresize is cv2.resize(INTER_LINEAR) on the
// uint8 image, whose fixed-point arithmetic data/prepare/cv_resize.ts reproduces bit for bit.
import { AhsError, fmtShape } from '../../errors.js';
import { resizeLinear } from '../../data/prepare/cv_resize.js';
import { fromBytes, tidy, type Tensor } from '../../tensor/index.js';

/** mmcv.rescale_size for keep_ratio: [h', w'] of an h x w image under scale (long, short). */
export function mmsegRescaleSize(height: number, width: number, scale: readonly [number, number]): [number, number] {
  const long = Math.max(...scale), short = Math.min(...scale);
  const f = Math.min(long / Math.max(height, width), short / Math.min(height, width));
  return [Math.trunc(height * f + 0.5), Math.trunc(width * f + 0.5)];
}

/** A uint8 [3, H, W] image resized as mmseg's test pipeline does: uint8 [3, h', w']. */
export function mmsegResize(image: Tensor, scale: readonly [number, number]): Tensor {
  if (image.rank !== 3 || image.size(0) !== 3 || image.dtype !== 'uint8') {
    throw new AhsError('AHS_ERR_SHAPE', `mmsegResize: image must be uint8 [3, H, W], got ${image.dtype}${fmtShape(image.shape)}`);
  }
  const [H, W] = [image.size(1), image.size(2)];
  const [h, w] = mmsegRescaleSize(H, W, scale);
  if (h === H && w === W) return image.clone(); // OpenCV's weights are then (2048, 0): a copy
  const src = tidy(() => image.contiguous().data<'uint8'>());
  const out = new Uint8Array(3 * h * w);
  // Planes one at a time: OpenCV's per-channel arithmetic does not depend on the interleaving.
  for (let c = 0; c < 3; c++) out.set(resizeLinear(src.subarray(c * H * W, (c + 1) * H * W), W, H, 1, w, h), c * h * w);
  return fromBytes(out, 'uint8', [3, h, w], image.device);
}
