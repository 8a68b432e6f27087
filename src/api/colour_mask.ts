// The colour mask: every pixel painted with its class's colour. Class i has the PASCAL VOC colour of
// index i + 1 (VOC colour 0 is black, which would hide the first class on a dark photo), the same
// colours the overlay, its legend and the JSON summary use.
import sharp from 'sharp';
import { labelColor, type Rgb } from '../eval/visualize.js';

export function classColor(classIndex: number): Rgb {
  return labelColor(classIndex + 1);
}

/** Interleaved RGB bytes of the mask. */
export function colourMaskRgb(labels: ArrayLike<number>, numClasses: number): Uint8Array {
  const palette = Array.from({ length: numClasses }, (_, c) => classColor(c));
  const out = new Uint8Array(labels.length * 3);
  for (let i = 0; i < labels.length; i++) {
    const col = palette[labels[i]!]!;
    out[3 * i] = col[0];
    out[3 * i + 1] = col[1];
    out[3 * i + 2] = col[2];
  }
  return out;
}

export async function colourMaskPng(labels: ArrayLike<number>, width: number, height: number, numClasses: number): Promise<Buffer> {
  return sharp(colourMaskRgb(labels, numClasses), { raw: { width, height, channels: 3 } }).png().toBuffer();
}
