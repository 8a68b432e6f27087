// What a training-free CLIP segmenter is configured by: the segmentor arguments and the mmseg test
// pipeline of NACLIP, SCLIP and ClearCLIP (each method's file holds its defaults).
import type { PamrOptions } from './pamr.js';

export interface TrainingFreeSettings {
  /** mmseg `Resize(scale=(longSide, shortSide), keep_ratio=True)`. */
  shortSide: number;
  longSide: number;
  /** Sliding-window crop and stride on the resized image; crop 0 runs the whole image at once. */
  crop: number;
  stride: number;
  /** Multiplies the cosine logits before the softmax over classes. */
  logitScale: number;
  /** Pixels whose top probability is below this get class 0 (the reference's prob_thd). */
  probThreshold: number;
  /** Prompt templates averaged per class name (`{}` = the name). All three use the 80 of
   * `prompts/imagenet_template.py`, the same as CAT-Seg's IMAGENET_TEMPLATES, in the same order. */
  templates: readonly string[];
  /** Input normalisation on the 0..255 scale (the methods' rounded CLIP constants). */
  mean: readonly number[];
  std: readonly number[];
  /** NACLIP divides the probabilities once more by their sum. */
  renormalize: boolean;
  /** PAMR on the logits once they are at the image's size, guided by the image; null = off. */
  pamr: PamrOptions | null;
  /** Splits a class name into synonyms, each its own query; a class scores the max of its
   * queries' probabilities (NACLIP and SCLIP split on ', ', ClearCLIP on ','). */
  synonymSeparator: string;
  /** ClearCLIP zero-pads a window whose side is not a multiple of the patch size (centred) and
   * cuts its logits back; NACLIP and SCLIP let the patch conv drop the trailing pixels. */
  padWindowsToPatch: boolean;
  /** Whole-image mode: NACLIP upsamples the patch logits to the resized image and then to the
   * original size; SCLIP and ClearCLIP go to the original size directly. */
  wholeUpsample: 'resized' | 'original';
  /** Windows per forward pass (memory: batch x tokens^2 attention scores per head). */
  windowBatch: number;
}

/** The three repositories' SegDataPreProcessor constants. */
export const MMSEG_CLIP_MEAN = [122.771, 116.746, 104.094] as const;
export const MMSEG_CLIP_STD = [68.501, 66.632, 70.323] as const;
