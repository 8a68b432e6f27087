// The one interface every segmentation method offers (the zero-shot ones, CAT-Seg / AHS-Seg),
// and turning its per-class scores into a label map.
import { noGrad, tidy, type Tensor } from '../tensor/index.js';
import type { RgbImage } from '../data/image_io.js';
import { imageToTensor } from '../data/image_io.js';
import { checkMemoryBudget } from './memory_budget.js';

export interface Segmenter {
  /** The class index per pixel [H, W] (integer tensor) for a uint8 image [3, H, W]. */
  labels(image: Tensor, classNames: string[]): Tensor;
  /** Bytes the largest tensors of one image take (default: class scores at the image's size). */
  memoryBytes?(height: number, width: number, numClasses: number): number;
}

/** What every method holds at least: float class scores at the image's size, and a copy (the
 * upsampling or the refinement), plus the int64 arg-max. */
export function classScoreBytes(height: number, width: number, numClasses: number): number {
  return (2 * 4 * numClasses + 8) * height * width;
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
  // Known before anything is allocated: 847 classes on a 10000 x 10000 photo is 300 GB of scores.
  const bytes = segmenter.memoryBytes?.(image.height, image.width, classNames.length) ?? classScoreBytes(image.height, image.width, classNames.length);
  checkMemoryBudget(bytes, `segmenting a ${image.width}x${image.height} image into ${classNames.length} class${classNames.length === 1 ? '' : 'es'}`,
    'use fewer classes or a smaller image');
  const labels = noGrad(() => tidy(() => {
    const img = imageToTensor(image);
    return segmenter.labels(img, classNames).int().data<'int32'>();
  }));
  const counts = new Array<number>(classNames.length).fill(0);
  for (const l of labels) counts[l]! += 1;
  return { width: image.width, height: image.height, classNames, labels, fractions: counts.map((c) => c / labels.length) };
}
