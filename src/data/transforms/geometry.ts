// The mapper's last steps, fused into one pass that writes the model's layout: detectron2's
// HFlip/VFlipTransform (img[:, ::-1] / img[::-1]), then CAT-Seg's padding, then HWC -> CHW.
// CAT-Seg pads by `size_divisibility - size` on the right and bottom (F.pad, image value 128,
// label value ignore_label): that makes the result exactly size_divisibility on each side — it
// pads TO size_divisibility, not to a multiple of it — and a negative amount (a side longer than
// size_divisibility) crops that side to size_divisibility, as F.pad does with negative pads.

export type Flip = 'horizontal' | 'vertical' | null;

export interface ChwSample {
  width: number;
  height: number;
  /** (3, H, W) planar RGB. */
  image: Uint8Array;
  /** (H, W). */
  label: Uint16Array;
}

/** Value of padded image pixels (CAT-Seg's F.pad(image, ..., value=128)). */
export const IMAGE_PAD_VALUE = 128;

/**
 * Flip, pad to `padTo` x `padTo` (off when padTo <= 0) and transpose to CHW.
 * @param img (h, w, 3) interleaved RGB
 * @param label (h, w)
 * @example flipPadToChw(img, label, 384, 100, 'horizontal', 384, 255).height // 384
 */
export function flipPadToChw(
  img: Uint8Array, label: Uint16Array, w: number, h: number, flip: Flip, padTo: number, ignoreLabel: number,
): ChwSample {
  const outW = padTo > 0 ? padTo : w;
  const outH = padTo > 0 ? padTo : h;
  const cw = Math.min(w, outW), ch = Math.min(h, outH);
  const plane = outW * outH;
  const image = new Uint8Array(3 * plane);
  const out = new Uint16Array(plane);
  if (cw < outW || ch < outH) {
    image.fill(IMAGE_PAD_VALUE);
    out.fill(ignoreLabel);
  }
  const fx = flip === 'horizontal', fy = flip === 'vertical';
  for (let y = 0; y < ch; y++) {
    const sy = fy ? h - 1 - y : y;
    const o = y * outW;
    const srcRow = sy * w;
    for (let x = 0; x < cw; x++) {
      const s = srcRow + (fx ? w - 1 - x : x);
      const p = s * 3;
      image[o + x] = img[p]!;
      image[plane + o + x] = img[p + 1]!;
      image[2 * plane + o + x] = img[p + 2]!;
      out[o + x] = label[s]!;
    }
  }
  return { width: outW, height: outH, image, label: out };
}
