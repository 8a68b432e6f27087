// COCO run-length masks as pycocotools' mask.decode reads them (maskApi.c rleFrString): counts
// alternate background/foreground runs over the image in column-major order, starting with
// background; the compressed string form packs each count (as a difference to the count two
// places back, from the fourth on) in 5-bit groups, characters 48..111, LEB128 style.

import { check } from '../../errors.js';

export interface Rle {
  size: [number, number];
  counts: string | number[];
}

/** Decodes the compressed counts string into run lengths. */
export function rleCountsFromString(s: string): number[] {
  const cnts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      const c = s.charCodeAt(p) - 48;
      // Plain arithmetic, not <<, so counts past 2^31 cannot wrap.
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    if (cnts.length > 2) x += cnts[cnts.length - 2]!;
    cnts.push(x);
  }
  return cnts;
}

/** The mask of an RLE as 0/1 bytes in row-major order (height = size[0]). */
export function decodeRle(rle: Rle, what: string): { width: number; height: number; mask: Uint8Array } {
  check(Array.isArray(rle.size) && rle.size.length === 2, 'AHS_ERR_FILE_FORMAT', () => `${what}: RLE without a [height, width] size`);
  const [h, w] = rle.size;
  const counts = typeof rle.counts === 'string' ? rleCountsFromString(rle.counts) : rle.counts;
  check(Array.isArray(counts), 'AHS_ERR_FILE_FORMAT', () => `${what}: RLE counts are neither a string nor a list`);
  const mask = new Uint8Array(h * w);
  let i = 0;
  let v = 0;
  for (const run of counts) {
    check(Number.isInteger(run) && run >= 0 && i + run <= h * w, 'AHS_ERR_FILE_FORMAT',
      () => `${what}: RLE runs exceed the ${h}x${w} mask`);
    if (v === 1) for (let j = i; j < i + run; j++) mask[(j % h) * w + Math.floor(j / h)] = 1;
    i += run;
    v ^= 1;
  }
  return { width: w, height: h, mask };
}
