// detectron2's ColorAugSSDTransform (projects/PointRend/point_rend/color_augmentation.py), the
// SSD photometric distortion CAT-Seg applies after the crop, with its default strengths
// (brightness +-32, contrast and saturation x[0.5, 1.5], hue +-18 of 180). Each step is
// `convert()`: float32 multiply-add, clip to [0, 255], astype(uint8) (truncation), which for
// uint8 input is a 256-entry table; saturation and hue go through OpenCV's 8-bit HSV (hsv.ts).
// The reference works on BGR (`img[:, :, [2, 1, 0]]` when INPUT.FORMAT is RGB); every step is
// per channel or symmetric in R and B, so it runs on our RGB bytes directly.
import type { Rng } from '../rng.js';
import { hsvToRgbInPlace, rgbToHsvInPlace } from './hsv.js';

const BRIGHTNESS_DELTA = 32;
const CONTRAST_LOW = 0.5, CONTRAST_HIGH = 1.5;
const SATURATION_LOW = 0.5, SATURATION_HIGH = 1.5;
const HUE_DELTA = 18;

const F = Math.fround;

/**
 * The byte map of `convert(x, alpha, beta)`: uint8(clip(float32(x) * alpha + beta, 0, 255)),
 * alpha and beta cast to float32 as numpy does for Python scalars next to a float32 array.
 * @example convertLut(1, 40.7)[250] // 255 (clipped); convertLut(1, -0.5)[10] // 9 (truncated)
 */
export function convertLut(alpha: number, beta: number): Uint8Array {
  const a = F(alpha), b = F(beta);
  const lut = new Uint8Array(256);
  for (let x = 0; x < 256; x++) {
    const y = F(F(x * a) + b);
    lut[x] = y <= 0 ? 0 : y >= 255 ? 255 : Math.trunc(y);
  }
  return lut;
}

/** buf[i] = lut[buf[i]] for i = start, start + step, ... (step 1: every byte; 3: one channel). */
export function applyLut(buf: Uint8Array, lut: Uint8Array, start = 0, step = 1): void {
  for (let i = start; i < buf.length; i += step) buf[i] = lut[buf[i]!]!;
}

/** The saturation step with a given alpha: HSV round trip, S through convert(S, alpha). */
export function adjustSaturation(buf: Uint8Array, width: number, height: number, alpha: number): void {
  rgbToHsvInPlace(buf, width * height);
  applyLut(buf, convertLut(alpha, 0), 1, 3);
  hsvToRgbInPlace(buf, width, height);
}

/** The hue step with a given delta: HSV round trip, H -> (H + delta) mod 180 (Python's mod). */
export function shiftHue(buf: Uint8Array, width: number, height: number, delta: number): void {
  rgbToHsvInPlace(buf, width * height);
  const lut = new Uint8Array(256);
  for (let h = 0; h < 256; h++) lut[h] = (((h + delta) % 180) + 180) % 180;
  applyLut(buf, lut, 0, 3);
  hsvToRgbInPlace(buf, width, height);
}

/**
 * ColorAugSSDTransform.apply_image in place on an interleaved RGB width x height image.
 * Rng draws, in this order (Python's `random` calls they stand for):
 *   1. int(2)                     randrange(2): brightness on when 1
 *      then uniform(-32, 32)      its beta, only when on
 *   2. int(2)                     randrange(2): 1 -> contrast, saturation, hue; 0 -> saturation, hue, contrast
 *   3. per step in that order: int(2) (on when 1), then only when on:
 *      contrast uniform(0.5, 1.5) | saturation uniform(0.5, 1.5) | hue intInclusive(-18, 18)
 */
export function colorAugSsd(buf: Uint8Array, width: number, height: number, rng: Rng): void {
  if (rng.int(2) === 1) applyLut(buf, convertLut(1, rng.uniform(-BRIGHTNESS_DELTA, BRIGHTNESS_DELTA)));
  const contrast = (): void => {
    if (rng.int(2) === 1) applyLut(buf, convertLut(rng.uniform(CONTRAST_LOW, CONTRAST_HIGH), 0));
  };
  const saturation = (): void => {
    if (rng.int(2) === 1) adjustSaturation(buf, width, height, rng.uniform(SATURATION_LOW, SATURATION_HIGH));
  };
  const hue = (): void => {
    if (rng.int(2) === 1) shiftHue(buf, width, height, rng.intInclusive(-HUE_DELTA, HUE_DELTA));
  };
  if (rng.int(2) === 1) {
    contrast(); saturation(); hue();
  } else {
    saturation(); hue(); contrast();
  }
}
