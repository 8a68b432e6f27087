// detectron2's RandomCrop.get_crop_size (all four crop types) and
// RandomCrop_CategoryAreaConstraint: up to 10 draws of a crop window, keeping the first in which
// no single category (the ignored one not counted) covers `single_category_max_area` or more of
// the counted pixels; after 10 failures the 10th window is used anyway.
// The label map is read through row / column index maps, so the constraint can be checked on the
// resized label map without materialising it (identity maps read a label map as it is).
import type { Rng } from '../rng.js';
import type { Window } from './pil_resize.js';

export type CropType = 'relative_range' | 'relative' | 'absolute' | 'absolute_range';

export interface CropSpec {
  type: CropType;
  /** (H, W): fractions for the relative types, pixels for the absolute ones ((min, max) for absolute_range). */
  size: [number, number];
  /** Largest area share one category may have; >= 1 turns the constraint off. */
  singleCategoryMaxArea: number;
  /** Label value not counted by the constraint (none when undefined). */
  ignoredCategory?: number;
}

/** A label map seen through index maps: value(x, y) = data[rows[y] * stride + cols[x]]. */
export interface LabelGrid {
  data: ArrayLike<number>;
  stride: number;
  /** Source column of each column; its length is the grid's width. */
  cols: Int32Array;
  /** Source row of each row; its length is the grid's height. */
  rows: Int32Array;
}

/** Identity index map 0..n-1 (a label map read as it is). */
export function identityIndex(n: number): Int32Array {
  const m = new Int32Array(n);
  for (let i = 0; i < n; i++) m[i] = i;
  return m;
}

/**
 * Crop (height, width) for an h x w image; relative_range draws random() twice (H then W),
 * absolute_range draws intInclusive twice (H then W), the others draw nothing.
 * @example getCropSize('absolute', [384, 384], 384, 512, rng) // [384, 384]
 */
export function getCropSize(type: CropType, size: readonly [number, number], h: number, w: number, rng: Rng): [number, number] {
  switch (type) {
    case 'relative':
      return [atLeast1(Math.floor(h * size[0] + 0.5)), atLeast1(Math.floor(w * size[1] + 0.5))];
    case 'relative_range': {
      // np.asarray(crop_size, float32) + np.random.rand(2) * (1 - crop_size), in float64.
      const s0 = Math.fround(size[0]), s1 = Math.fround(size[1]);
      const ch = s0 + rng.random() * Math.fround(1 - s0);
      const cw = s1 + rng.random() * Math.fround(1 - s1);
      return [atLeast1(Math.floor(h * ch + 0.5)), atLeast1(Math.floor(w * cw + 0.5))];
    }
    case 'absolute':
      return [Math.min(size[0], h), Math.min(size[1], w)];
    case 'absolute_range': {
      const ch = rng.intInclusive(Math.min(h, size[0]), Math.min(h, size[1]));
      const cw = rng.intInclusive(Math.min(w, size[0]), Math.min(w, size[1]));
      return [ch, cw];
    }
  }
}

// detectron2 would return an empty crop for a tiny relative size; one pixel keeps the sample usable.
const atLeast1 = (n: number): number => (n < 1 ? 1 : n);

/**
 * The crop window of RandomCrop_CategoryAreaConstraint over `labels` (its size is the image's).
 * Per try: getCropSize's draws, then y0 = int(h - ch + 1), then x0 = int(w - cw + 1); one try
 * when the constraint is off, at most 10 otherwise.
 */
export function chooseCrop(spec: CropSpec, labels: LabelGrid, rng: Rng): Window {
  const h = labels.rows.length, w = labels.cols.length;
  const tries = spec.singleCategoryMaxArea >= 1 ? 1 : 10;
  const counts = tries > 1 ? new Uint32Array(65536) : null;
  let win: Window = { x: 0, y: 0, width: w, height: h };
  for (let t = 0; t < tries; t++) {
    const [ch, cw] = getCropSize(spec.type, spec.size, h, w, rng);
    const y0 = rng.int(h - ch + 1);
    const x0 = rng.int(w - cw + 1);
    win = { x: x0, y: y0, width: cw, height: ch };
    if (counts && satisfiesAreaConstraint(labels, win, spec.singleCategoryMaxArea, spec.ignoredCategory, counts)) break;
  }
  return win;
}

/**
 * `len(cnt) > 1 and max(cnt) < sum(cnt) * maxArea` over the window's label histogram, the
 * ignored category left out. `counts` is zeroed scratch of 65536 entries, left zeroed.
 */
export function satisfiesAreaConstraint(
  labels: LabelGrid, win: Window, maxArea: number, ignored: number | undefined, counts: Uint32Array,
): boolean {
  const { data, stride, cols, rows } = labels;
  const seen: number[] = [];
  for (let y = win.y; y < win.y + win.height; y++) {
    const line = rows[y]! * stride;
    for (let x = win.x; x < win.x + win.width; x++) {
      const v = data[line + cols[x]!]!;
      if (counts[v]++ === 0) seen.push(v);
    }
  }
  let distinct = 0, max = 0, sum = 0;
  for (const v of seen) {
    const c = counts[v]!;
    counts[v] = 0;
    if (v === ignored) continue;
    distinct++;
    sum += c;
    if (c > max) max = c;
  }
  return distinct > 1 && max < sum * maxArea;
}
