// mmseg's sliding-window inference as NACLIP's, SCLIP's and ClearCLIP's `forward_slide` do it:
// crop x crop windows at `stride`, visited row by row, the last row and column pushed back inside
// the image (y1 = max(y2 - crop, 0)); each window's logits are added onto an h x w canvas and the
// sum is divided by how many windows cover each pixel. Windows are all the same size (the crop,
// or the image side when it is shorter), so they run through the model in batches.
import { AhsError } from '../../errors.js';
import { noGrad, stack, tidy, zeros, type Tensor } from '../../tensor/index.js';

/** A window on the image, rows [y1, y2) and columns [x1, x2). */
export interface Window { y1: number; y2: number; x1: number; x2: number }

/** The windows in the reference's visiting order (rows outer, columns inner). */
export function slideWindows(height: number, width: number, crop: number, stride: number): Window[] {
  if (!Number.isInteger(crop) || crop < 1 || !Number.isInteger(stride) || stride < 1) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `sliding window: crop and stride must be positive integers, got crop ${crop}, stride ${stride}`);
  }
  const grids = (size: number) => Math.floor(Math.max(size - crop + stride - 1, 0) / stride) + 1;
  const span = (i: number, size: number): [number, number] => {
    const end = Math.min(i * stride + crop, size);
    return [Math.max(end - crop, 0), end];
  };
  const out: Window[] = [];
  for (let i = 0; i < grids(height); i++) {
    for (let j = 0; j < grids(width); j++) {
      const [y1, y2] = span(i, height), [x1, x2] = span(j, width);
      out.push({ y1, y2, x1, x2 });
    }
  }
  return out;
}

/**
 * The canvas [T, h, w] of a normalised image [1, 3, h, w]: `windowLogits` maps a batch of window
 * crops [n, 3, ch, cw] to their logits at the window size [n, T, ch, cw]; at most `batch` windows
 * go through it at once.
 */
export function forwardSlide(image: Tensor, windows: readonly Window[], windowLogits: (crops: Tensor) => Tensor, batch: number): Tensor {
  if (windows.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'sliding window: no windows');
  if (!Number.isInteger(batch) || batch < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `sliding window: batch must be a positive integer, got ${batch}`);
  const [h, w] = [image.size(2), image.size(3)];
  return noGrad(() => tidy(() => {
    let canvas: Tensor | null = null;
    const count = zeros([1, h, w], 'float32', image.device);
    for (let s = 0; s < windows.length; s += batch) {
      const part = windows.slice(s, s + batch);
      canvas = tidy(() => {
        const crops = stack(part.map((b) => image.select(0, 0).narrow(1, b.y1, b.y2 - b.y1).narrow(2, b.x1, b.x2 - b.x1)), 0);
        const logits = windowLogits(crops); // (n, T, ch, cw)
        canvas ??= zeros([logits.size(1), h, w], logits.dtype, image.device);
        // Added window by window, in visiting order, as the reference's `preds +=` does.
        part.forEach((b, i) => {
          canvas!.narrow(1, b.y1, b.y2 - b.y1).narrow(2, b.x1, b.x2 - b.x1).add_(logits.select(0, i));
          count.narrow(1, b.y1, b.y2 - b.y1).narrow(2, b.x1, b.x2 - b.x1).add_(1);
        });
        return canvas; // made in this scope on the first batch: moves out with the result
      });
    }
    return canvas!.div(count);
  }));
}
