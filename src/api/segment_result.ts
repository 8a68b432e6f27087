// What `segment` returns: plain data (typed arrays, PNG buffers, numbers), so that a result can
// cross a worker boundary or go into an HTTP response as it is.
import type { Rgb } from '../eval/visualize.js';
import { classColor } from './colour_mask.js';
import type { DenseFeatures, Protocol } from './dense_backend.js';
import type { ModelKind } from './models.js';
import type { OverlayOptions } from './overlay_legend.js';

export interface SegmentOptions {
  /** The colour mask as a PNG (class colours, the image's size). */
  colorMask?: boolean;
  /** The overlay PNG: colours over the photo with a legend panel on its right. */
  overlay?: boolean | OverlayOptions;
  /** The label map as an 8-bit (16-bit past 256 classes) grey PNG of class indices. */
  labelPng?: boolean;
  /** Every class's probability at every pixel, [T, H, W]. */
  probabilities?: boolean;
  /** CLIP's dense patch features, [h * w, D] on an h x w patch grid. */
  features?: boolean;
}

export interface ClassSummary {
  index: number;
  name: string;
  /** The colour of the class in the mask, the overlay and its legend. */
  color: Rgb;
  pixels: number;
  /** Fraction of the image's pixels labelled with this class. */
  share: number;
  /** Mean over this class's pixels of their probability for it; null when it has no pixel. */
  meanConfidence: number | null;
}

export interface ModelInfo {
  /** The name or path the segmenter was created with. */
  name: string;
  kind: ModelKind;
  /** E.g. "NACLIP+PAMR", "CAT-Seg". */
  method: string;
  protocol: Protocol;
  device: string;
}

export interface SegmentResult {
  width: number;
  height: number;
  classNames: string[];
  /** Class index per pixel, row-major (Int32Array past 65,536 classes). */
  labels: Uint16Array | Int32Array;
  /** One entry per class, in class order. */
  classes: ClassSummary[];
  colorMask?: Buffer;
  overlay?: Buffer;
  labelPng?: Buffer;
  /** Row-major [T, H, W]: class c's map is data.subarray(c * H * W, (c + 1) * H * W). */
  probabilities?: { data: Float32Array; shape: [number, number, number] };
  features?: DenseFeatures;
  model: ModelInfo;
  /** Wall time of the call (decoding and encoding included). */
  seconds: number;
}

/** Pixel count, share and mean probability per class. */
export function summariseClasses(classNames: readonly string[], labels: Int32Array, confidence: Float32Array): ClassSummary[] {
  const counts = new Float64Array(classNames.length);
  const sums = new Float64Array(classNames.length);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    counts[c]! += 1;
    sums[c]! += confidence[i]!;
  }
  return classNames.map((name, index) => ({
    index, name, color: classColor(index), pixels: counts[index]!, share: counts[index]! / labels.length,
    meanConfidence: counts[index]! > 0 ? sums[index]! / counts[index]! : null,
  }));
}
