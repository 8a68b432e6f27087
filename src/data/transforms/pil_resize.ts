// The two resizes detectron2's ResizeTransform performs during training, bit-exact:
//  - images (uint8) go through PIL `Image.resize(size, BILINEAR)`: Pillow's
//    libImaging/Resample.c (identical from Pillow 8.2, which CAT-Seg pins, to 9.4): an
//    antialiasing triangle filter whose support grows with the downscale factor, coefficients
//    normalised to sum 1 and turned into 22-bit fixed point, a horizontal pass (rounded to uint8)
//    then a vertical pass, each skipped when that dimension does not change;
//  - labels: CAT-Seg's mapper reads them as float64 (`.astype("double")`), so detectron2 does NOT
//    use PIL's NEAREST for them but `F.interpolate(mode="nearest")`, whose CPU rule is
//    src = min(floor(dst * float32(in / out)), in - 1) in float32 (ATen UpSample.h) — the
//    top-left-biased OpenCV INTER_NEAREST rule, not PIL's pixel-centre rule.
// Both compute any output window on its own (every output pixel depends only on its source
// neighbourhood), so the mapper resizes only the crop it will keep.

import { check } from '../../errors.js';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** A rectangle of the output image, in output pixels. */
export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Fixed-point filter taps of a run of output positions along one axis. */
interface Taps {
  /** (n, 2): first source index, number of taps. */
  bounds: Int32Array;
  /** (n, ksize): 22-bit fixed-point weights. */
  weights: Int32Array;
  ksize: number;
}

const bilinear = (x: number): number => {
  if (x < 0) x = -x;
  return x < 1 ? 1 - x : 0;
};

/** precompute_coeffs + normalize_coeffs_8bpc for outputs first..first+count-1 of inSize -> outSize. */
function precomputeTaps(inSize: number, outSize: number, first: number, count: number): Taps {
  const scale = inSize / outSize; // (double)(in1 - in0) / outSize, box = (0, inSize)
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1.0 * filterscale; // BILINEAR support 1.0, widened when downscaling
  const ksize = Math.ceil(support) * 2 + 1;
  const invFilterscale = 1.0 / filterscale;
  const bounds = new Int32Array(count * 2);
  const weights = new Int32Array(count * ksize);
  const k = new Float64Array(ksize);
  for (let i = 0; i < count; i++) {
    const center = (first + i + 0.5) * scale;
    // (int) casts truncate toward zero, as in C.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = bilinear((x + xmin - center + 0.5) * invFilterscale);
      k[x] = w;
      ww += w;
    }
    const row = i * ksize;
    for (let x = 0; x < xmax; x++) {
      const kx = ww !== 0 ? k[x] / ww : k[x];
      weights[row + x] = kx < 0 ? Math.trunc(-0.5 + kx * ONE) : Math.trunc(0.5 + kx * ONE);
    }
    bounds[i * 2] = xmin;
    bounds[i * 2 + 1] = xmax;
  }
  return { bounds, weights, ksize };
}

// clip8: the accumulator >> 22, clamped to a byte.
const clip8 = (ss: number): number => {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

function checkWindow(win: Window, outWidth: number, outHeight: number, fn: string): void {
  const ok =
    Number.isInteger(win.x) && Number.isInteger(win.y) && Number.isInteger(win.width) && Number.isInteger(win.height) &&
    win.x >= 0 && win.y >= 0 && win.width > 0 && win.height > 0 &&
    win.x + win.width <= outWidth && win.y + win.height <= outHeight;
  check(ok, 'AHS_ERR_INVALID_ARGUMENT', () =>
    `${fn}: window ${JSON.stringify(win)} is not a non-empty integer rectangle inside the ${outWidth}x${outHeight} output`);
}

/**
 * PIL `Image.resize((outWidth, outHeight), Image.BILINEAR)` of an interleaved uint8 image
 * (HWC, `channels` per pixel), returning only `window` of the output (default: all of it).
 * @example resizeBilinearPil(rgb, 640, 480, 3, 512, 384) // 512*384*3 bytes
 */
export function resizeBilinearPil(
  src: Uint8Array, width: number, height: number, channels: number,
  outWidth: number, outHeight: number,
  window: Window = { x: 0, y: 0, width: outWidth, height: outHeight },
): Uint8Array {
  check(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 &&
    src.length === width * height * channels, 'AHS_ERR_SHAPE', () =>
    `resizeBilinearPil: ${src.length} bytes is not ${width}x${height}x${channels}`);
  checkWindow(window, outWidth, outHeight, 'resizeBilinearPil');
  const { x: wx, y: wy, width: cw, height: ch } = window;
  const needH = outWidth !== width;
  const needV = outHeight !== height;

  // Source rows the vertical pass reads (all window rows when there is no vertical pass).
  const vert = needV ? precomputeTaps(height, outHeight, wy, ch) : null;
  const rowFirst = vert ? vert.bounds[0]! : wy;
  const rowEnd = vert ? vert.bounds[(ch - 1) * 2]! + vert.bounds[(ch - 1) * 2 + 1]! : wy + ch;

  // Horizontal pass: source rows rowFirst..rowEnd-1 -> (rows, cw, C); or the source itself.
  let mid: Uint8Array = src;
  let midStride = width * channels;
  let midX = wx; // column of window x = 0 inside `mid`
  let midRow0 = 0; // source row held in mid's row 0
  if (needH) {
    const t = precomputeTaps(width, outWidth, wx, cw);
    mid = horizontalPass(src, width, channels, rowFirst, rowEnd, cw, t);
    midStride = cw * channels;
    midX = 0;
    midRow0 = rowFirst;
  }
  if (!vert) return copyWindow(mid, midStride, channels, midX, wy - midRow0, cw, ch);
  return verticalPass(mid, midStride, channels, midX, midRow0, cw, ch, vert);
}

function horizontalPass(
  src: Uint8Array, width: number, c: number, rowFirst: number, rowEnd: number, cw: number, t: Taps,
): Uint8Array {
  const { bounds, weights, ksize } = t;
  const out = new Uint8Array((rowEnd - rowFirst) * cw * c);
  if (c === 3) {
    let maxTaps = 0;
    for (let xx = 0; xx < cw; xx++) maxTaps = Math.max(maxTaps, bounds[xx * 2 + 1]!);
    if (maxTaps <= 3) {
      horizontalRgb3(src, width, rowFirst, rowEnd, cw, padTaps(t, cw, 3), out);
      return out;
    }
  }
  let o = 0;
  for (let y = rowFirst; y < rowEnd; y++) {
    const line = y * width * c;
    for (let xx = 0; xx < cw; xx++) {
      const xmin = bounds[xx * 2]!, n = bounds[xx * 2 + 1]!, kb = xx * ksize;
      for (let ci = 0; ci < c; ci++) {
        let s = HALF;
        for (let x = 0, p = line + xmin * c + ci; x < n; x++, p += c) s += src[p]! * weights[kb + x]!;
        out[o++] = clip8(s);
      }
    }
  }
  return out;
}

/** Taps padded to exactly `taps` per output: extra taps repeat the first source pixel with weight 0. */
function padTaps(t: Taps, count: number, taps: number): { offsets: Int32Array; weights: Int32Array } {
  const offsets = new Int32Array(count * taps), weights = new Int32Array(count * taps);
  for (let xx = 0; xx < count; xx++) {
    const xmin = t.bounds[xx * 2]!, n = t.bounds[xx * 2 + 1]!;
    for (let k = 0; k < taps; k++) {
      offsets[xx * taps + k] = (xmin + (k < n ? k : 0)) * 3;
      weights[xx * taps + k] = k < n ? t.weights[xx * t.ksize + k]! : 0;
    }
  }
  return { offsets, weights };
}

// The common case (RGB, scale above 1/2 wide: at most 3 taps), branch-free. Bilinear weights are
// non-negative and sum to at most 2^22 + 2, so the sum >> 22 is already a byte: no clip needed.
function horizontalRgb3(
  src: Uint8Array, width: number, rowFirst: number, rowEnd: number, cw: number,
  taps: { offsets: Int32Array; weights: Int32Array }, out: Uint8Array,
): void {
  const { offsets, weights } = taps;
  let o = 0;
  for (let y = rowFirst; y < rowEnd; y++) {
    const line = y * width * 3;
    for (let xx = 0, j = 0; xx < cw; xx++, j += 3) {
      const p0 = line + offsets[j]!, p1 = line + offsets[j + 1]!, p2 = line + offsets[j + 2]!;
      const k0 = weights[j]!, k1 = weights[j + 1]!, k2 = weights[j + 2]!;
      out[o++] = (HALF + src[p0]! * k0 + src[p1]! * k1 + src[p2]! * k2) >> PRECISION_BITS;
      out[o++] = (HALF + src[p0 + 1]! * k0 + src[p1 + 1]! * k1 + src[p2 + 1]! * k2) >> PRECISION_BITS;
      out[o++] = (HALF + src[p0 + 2]! * k0 + src[p1 + 2]! * k1 + src[p2 + 2]! * k2) >> PRECISION_BITS;
    }
  }
}

function verticalPass(
  mid: Uint8Array, stride: number, c: number, x0: number, row0: number, cw: number, ch: number, t: Taps,
): Uint8Array {
  const { bounds, weights, ksize } = t;
  const rowLen = cw * c;
  const out = new Uint8Array(rowLen * ch);
  const acc = new Int32Array(rowLen); // exact: at most 255 * 2^22 + 2^21 < 2^31
  for (let yy = 0; yy < ch; yy++) {
    const ymin = bounds[yy * 2]! - row0, n = bounds[yy * 2 + 1]!, kb = yy * ksize;
    const o = yy * rowLen;
    const p0 = ymin * stride + x0 * c;
    // Integer sums are exact, so summing row by row gives Pillow's per-pixel result; the
    // common 2..4-tap cases skip the accumulator and the clip (non-negative weights summing to
    // at most 2^22 + 2 keep the sum >> 22 within a byte).
    if (n === 2) {
      const k0 = weights[kb]!, k1 = weights[kb + 1]!, p1 = p0 + stride;
      for (let i = 0; i < rowLen; i++) out[o + i] = (HALF + mid[p0 + i]! * k0 + mid[p1 + i]! * k1) >> PRECISION_BITS;
    } else if (n === 3) {
      const k0 = weights[kb]!, k1 = weights[kb + 1]!, k2 = weights[kb + 2]!, p1 = p0 + stride, p2 = p1 + stride;
      for (let i = 0; i < rowLen; i++) {
        out[o + i] = (HALF + mid[p0 + i]! * k0 + mid[p1 + i]! * k1 + mid[p2 + i]! * k2) >> PRECISION_BITS;
      }
    } else if (n === 4) {
      const k0 = weights[kb]!, k1 = weights[kb + 1]!, k2 = weights[kb + 2]!, k3 = weights[kb + 3]!;
      const p1 = p0 + stride, p2 = p1 + stride, p3 = p2 + stride;
      for (let i = 0; i < rowLen; i++) {
        out[o + i] = (HALF + mid[p0 + i]! * k0 + mid[p1 + i]! * k1 + mid[p2 + i]! * k2 + mid[p3 + i]! * k3) >> PRECISION_BITS;
      }
    } else {
      acc.fill(HALF);
      for (let y = 0; y < n; y++) {
        const k = weights[kb + y]!, p = p0 + y * stride;
        for (let i = 0; i < rowLen; i++) acc[i] += mid[p + i]! * k;
      }
      for (let i = 0; i < rowLen; i++) out[o + i] = clip8(acc[i]!);
    }
  }
  return out;
}

function copyWindow(src: Uint8Array, stride: number, c: number, x0: number, y0: number, cw: number, ch: number): Uint8Array {
  const out = new Uint8Array(cw * ch * c);
  const rowLen = cw * c;
  for (let y = 0; y < ch; y++) {
    const p = (y0 + y) * stride + x0 * c;
    out.set(src.subarray(p, p + rowLen), y * rowLen);
  }
  return out;
}

/**
 * Source index of each output position along one axis under torch's "nearest" rule:
 * min(floor(dst * float32(inSize / outSize)), inSize - 1), all in float32.
 * @example nearestIndexMap(4, 3) // Int32Array [0, 1, 2]
 */
export function nearestIndexMap(inSize: number, outSize: number): Int32Array {
  const map = new Int32Array(outSize);
  if (outSize === inSize) {
    for (let i = 0; i < outSize; i++) map[i] = i;
  } else if (outSize === 2 * inSize) {
    for (let i = 0; i < outSize; i++) map[i] = i >> 1;
  } else {
    const scale = Math.fround(inSize / outSize);
    for (let i = 0; i < outSize; i++) map[i] = Math.min(Math.floor(Math.fround(i * scale)), inSize - 1);
  }
  return map;
}

/** out[y][x] = src[rows[win.y + y] * stride + cols[win.x + x]] for the window: a nearest resize. */
export function gatherNearest(
  src: ArrayLike<number>, stride: number, cols: Int32Array, rows: Int32Array, win: Window,
): Uint16Array {
  checkWindow(win, cols.length, rows.length, 'gatherNearest');
  const out = new Uint16Array(win.width * win.height);
  let o = 0;
  for (let y = 0; y < win.height; y++) {
    const line = rows[win.y + y]! * stride;
    for (let x = 0; x < win.width; x++) out[o++] = src[line + cols[win.x + x]!]!;
  }
  return out;
}

/**
 * A label map (HW) resized as detectron2 resizes CAT-Seg's float64 labels (torch nearest).
 * @example resizeLabelsNearest(labels, 640, 480, 512, 384) // Uint16Array of 512*384
 */
export function resizeLabelsNearest(
  src: Uint8Array | Uint16Array, width: number, height: number, outWidth: number, outHeight: number,
  window: Window = { x: 0, y: 0, width: outWidth, height: outHeight },
): Uint16Array {
  check(src.length === width * height, 'AHS_ERR_SHAPE', () => `resizeLabelsNearest: ${src.length} labels is not ${width}x${height}`);
  return gatherNearest(src, width, nearestIndexMap(width, outWidth), nearestIndexMap(height, outHeight), window);
}
