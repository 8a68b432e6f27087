import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pyRound, resizeLinear, resizeNearest } from '../../../../src/data/prepare/cv_resize.js';

// Golden outputs of cv2.resize from OpenCV 4.6 (Debian bookworm's python3-opencv), made with
// numpy's default_rng(7) inputs: [src w, h, channels, dst w, h], src, INTER_LINEAR, INTER_NEAREST.
const CASES: [number[], number[], number[], number[]][] = [
  [[9, 7, 1, 5, 3],
    [139, 74, 229, 241, 169, 65, 6, 160, 149, 106, 38, 175, 188, 205, 175, 229, 98, 249, 10, 148, 95, 86, 147, 198, 66, 39, 106, 213, 171, 45, 167, 57, 69, 81, 55, 14, 153, 178, 215, 76, 52, 39, 250, 72, 215, 50, 161, 223, 112, 172, 161, 233, 38, 17, 89, 1, 221, 6, 242, 127, 143, 6, 60],
    [90, 195, 193, 151, 177, 196, 69, 57, 79, 30, 81, 193, 195, 192, 30],
    [139, 74, 241, 65, 160, 10, 148, 86, 198, 39, 153, 178, 76, 39, 72]],
  [[3, 5, 3, 2, 4],
    [94, 25, 166, 33, 249, 189, 12, 204, 33, 57, 124, 30, 199, 149, 202, 119, 72, 220, 3, 209, 122, 136, 147, 77, 133, 82, 115, 87, 162, 230, 70, 71, 240, 62, 47, 184, 31, 34, 63, 65, 146, 197, 142, 253, 81],
    [80, 87, 159, 32, 200, 90, 71, 154, 87, 137, 94, 174, 65, 160, 187, 90, 70, 163, 45, 72, 113, 115, 204, 121],
    [94, 25, 166, 33, 249, 189, 57, 124, 30, 199, 149, 202, 3, 209, 122, 136, 147, 77, 87, 162, 230, 70, 71, 240]],
  // An exact 2x reduction, which cv2.resize turns into INTER_AREA.
  [[8, 6, 1, 4, 3],
    [30, 247, 103, 122, 31, 19, 42, 129, 141, 136, 33, 149, 161, 0, 178, 141, 107, 35, 107, 130, 72, 27, 217, 254, 99, 13, 195, 206, 59, 228, 235, 202, 183, 47, 69, 179, 82, 35, 71, 159, 110, 121, 77, 87, 3, 126, 44, 253],
    [139, 102, 53, 123, 64, 160, 97, 227, 115, 103, 62, 132],
    [30, 103, 31, 42, 107, 107, 72, 217, 183, 69, 82, 71]],
  [[8, 6, 1, 3, 5],
    [233, 225, 90, 119, 137, 120, 30, 55, 33, 165, 87, 216, 229, 167, 3, 41, 109, 203, 129, 219, 63, 101, 207, 156, 27, 220, 93, 29, 143, 200, 63, 11, 11, 180, 219, 113, 190, 87, 34, 9, 133, 29, 61, 36, 244, 192, 207, 131],
    [218, 137, 31, 156, 198, 66, 187, 114, 126, 163, 132, 37, 57, 141, 178],
    [233, 90, 120, 33, 87, 167, 109, 129, 101, 27, 93, 200, 11, 219, 87]],
];

describe('cv2.resize re-done', () => {
  for (const [[sw, sh, cn, dw, dh], src, lin, nn] of CASES) {
    it(`${sw}x${sh}x${cn} -> ${dw}x${dh} matches OpenCV exactly`, () => {
      // If this fails, resized ADE-847 images differ from the reference preparation (linear) or
      // labels move by a pixel (nearest).
      assert.deepEqual(Array.from(resizeLinear(Uint8Array.from(src), sw!, sh!, cn!, dw!, dh!)), lin);
      assert.deepEqual(Array.from(resizeNearest(Uint16Array.from(src), sw!, sh!, cn!, dw!, dh!)), nn);
    });
  }

  it('rounds halves to even, as Python 3', () => {
    assert.deepEqual([0.5, 1.5, 2.5, 512.5, 513.5, 2.4999, -1.5].map(pyRound), [0, 2, 2, 512, 514, 2, -2]);
  });
});
