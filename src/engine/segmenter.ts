// The one interface every segmentation method offers (MaskCLIP zero-shot, CAT-Seg / AHS-Seg),
// and turning its per-class scores into a label map.
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { RgbImage } from '../data/image_io.js';
import { imageToTensor } from '../data/image_io.js';

export interface Segmenter {
  /** The class index per pixel [H, W] (integer tensor) for a uint8 image [3, H, W]. */
  labels(image: Tensor, classNames: string[]): Tensor;
}

export interface Segmentation {
  width: number;
  height: number;
  classNames: string[];
  /** Class index per pixel, row-major. */
  labels: Int32Array;
  /** Fraction of pixels per class, in class order. */
  fractions: number[];
}

/** Runs a segmenter on a decoded image and takes the arg-max class per pixel. */
export function segmentImage(segmenter: Segmenter, image: RgbImage, classNames: string[]): Segmentation {
  const labels = noGrad(() => tidy(() => {
    const img = imageToTensor(image);
    return segmenter.labels(img, classNames).int().data<'int32'>();
  }));
  const counts = new Array<number>(classNames.length).fill(0);
  for (const l of labels) counts[l]! += 1;
  return { width: image.width, height: image.height, classNames, labels, fractions: counts.map((c) => c / labels.length) };
}
