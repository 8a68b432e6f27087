// OpenCV's 8-bit RGB <-> HSV (cv2.COLOR_BGR2HSV / COLOR_HSV2BGR, H in [0, 180)), as
// modules/imgproc/src/color_hsv.simd.hpp computes it in the OpenCV 4.x that CAT-Seg pins
// (opencv-python 4.5.1; unchanged through 4.6 and later):
//  - forward (RGB2HSV_b): integers only, with division tables scaled by 2^12; its SIMD and
//    scalar loops give identical bytes;
//  - inverse (HSV2RGB_b): through float32 (s, v divided by 255, h times 6/180). Its SIMD loop,
//    which handles every whole block of 32 pixels of a row (4 vectors of 8 floats: the AVX2
//    dispatch any x86-64 CPU of the last decade takes), TRUNCATES the final `x * 255`, while the
//    scalar loop for the remaining width % 32 pixels ROUNDS it (saturate_cast, half to even).
//    Which pixel gets which depends on its column, so the inverse works row by row.
//    OpenCV builds that dispatch AVX2 compile with FMA3 and GCC contracts `1.f - s*h` into one
//    fused multiply-add: in the SIMD loop for both tap formulas, in the scalar loop only for
//    `1 - s*h` (measured: with exactly this choice all 180*256*256 HSV inputs give cv2 4.6's bytes
//    in both loops; any other choice leaves hundreds of off-by-one values).
// Both run in place on interleaved 3-channel buffers; `rgb` order in memory, as our images are.

const HSV_SHIFT = 12;
const DESCALE = 1 << (HSV_SHIFT - 1);
/** Pixels per SIMD block of HSV2RGB_b with AVX2 (v_float32 has 8 lanes, 4 vectors a block). */
export const HSV2RGB_SIMD_BLOCK = 32;

/** cvRound of a double: nearest integer, ties to even (SSE2 cvtsd2si in the default mode). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// sdiv_table / hdiv_table180 of RGB2HSV_b::TablesSingleton.
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = roundHalfEven((255 << HSV_SHIFT) / i);
  HDIV[i] = roundHalfEven((180 << HSV_SHIFT) / (6 * i));
}

/** RGB -> HSV in place over `pixels` interleaved pixels (cv2.cvtColor(bgr, COLOR_BGR2HSV)). */
export function rgbToHsvInPlace(buf: Uint8Array, pixels: number): void {
  for (let p = 0, o = 0; p < pixels; p++, o += 3) {
    const r = buf[o]!, g = buf[o + 1]!, b = buf[o + 2]!;
    let v = b, vmin = b;
    if (g > v) v = g;
    if (r > v) v = r;
    if (g < vmin) vmin = g;
    if (r < vmin) vmin = r;
    const diff = v - vmin;
    // Priority r, then g, then b, as the vr / vg masks select.
    let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
    h = (h * HDIV[diff]! + DESCALE) >> HSV_SHIFT;
    if (h < 0) h += 180;
    buf[o] = h;
    buf[o + 1] = (diff * SDIV[v]! + DESCALE) >> HSV_SHIFT;
    buf[o + 2] = v;
  }
}

const F = Math.fround;
const INV255 = F(1 / 255);
const HSCALE = F(6 / 180);

/**
 * HSV2RGB_b's float32 intermediates that depend on one or two input bytes, tabulated once:
 * v (or s) = byte * (1/255), the sector and fraction of h * 6/180 (H >= 180 wraps, as both
 * OpenCV loops do), and the three tap factors per (s, h): 1 - s*f fused, 1 - s*(1-f) fused
 * (SIMD loop) and unfused (scalar loop).
 */
interface Hsv2RgbTables {
  unit: Float32Array; // (256,) byte / 255
  oneMinusS: Float32Array; // (256,)
  sector: Uint8Array; // (256,)
  tap2: Float32Array; // (256 s, 256 h)
  tap3Simd: Float32Array; // (256 s, 256 h)
  tap3Scalar: Float32Array; // (256 s, 256 h)
}

let tables: Hsv2RgbTables | null = null;

function hsv2RgbTables(): Hsv2RgbTables {
  if (tables) return tables;
  const unit = new Float32Array(256), oneMinusS = new Float32Array(256), sector = new Uint8Array(256);
  const frac = new Float32Array(256);
  for (let i = 0; i < 256; i++) {
    unit[i] = F(i * INV255);
    oneMinusS[i] = F(1 - unit[i]!);
    const hh = F(i * HSCALE);
    const pre = Math.floor(hh);
    sector[i] = pre % 6;
    frac[i] = F(hh - pre);
  }
  const tap2 = new Float32Array(65536), tap3Simd = new Float32Array(65536), tap3Scalar = new Float32Array(65536);
  for (let s = 0; s < 256; s++) {
    const sv = unit[s]!;
    for (let h = 0; h < 256; h++) {
      const f = frac[h]!, i = (s << 8) | h;
      tap2[i] = fmaf(-sv, f, 1);
      tap3Simd[i] = fmaf(-sv, F(1 - f), 1);
      tap3Scalar[i] = F(1 - F(sv * F(1 - f)));
    }
  }
  tables = { unit, oneMinusS, sector, tap2, tap3Simd, tap3Scalar };
  return tables;
}

/**
 * HSV -> RGB in place over a width x height image (cv2.cvtColor(hsv, COLOR_HSV2BGR)).
 * @example hsvToRgbInPlace(buf, 384, 384) // all pixels truncate (384 = 12 blocks of 32)
 */
export function hsvToRgbInPlace(buf: Uint8Array, width: number, height: number): void {
  const t = hsv2RgbTables();
  // Both loops' results lie in [0, 255]: a Uint8Array store truncates them (v_trunc), a
  // Uint8ClampedArray store rounds half to even (cvRound + saturate_cast).
  const rounded = new Uint8ClampedArray(buf.buffer, buf.byteOffset, buf.length);
  const simdPixels = width - (width % HSV2RGB_SIMD_BLOCK);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    hsvRun(buf, row, row + simdPixels * 3, t, t.tap3Simd);
    if (simdPixels < width) hsvRun(rounded, row + simdPixels * 3, row + width * 3, t, t.tap3Scalar);
  }
}

function hsvRun(out: Uint8Array | Uint8ClampedArray, from: number, to: number, t: Hsv2RgbTables, tap3: Float32Array): void {
  const { unit, oneMinusS, sector, tap2 } = t;
  for (let o = from; o < to; o += 3) {
    const h = out[o]!, s = out[o + 1]!;
    const v = unit[out[o + 2]!]!;
    const i = (s << 8) | h;
    const t1 = F(v * oneMinusS[s]!);
    const t2 = F(v * tap2[i]!);
    const t3 = F(v * tap3[i]!);
    let r: number, g: number, b: number;
    // sector_data {{1,3,0}, {1,0,2}, {3,0,1}, {0,2,1}, {0,1,3}, {2,1,0}} as (b, g, r) taps.
    switch (sector[h]) {
      case 0: b = t1; g = t3; r = v; break;
      case 1: b = t1; g = v; r = t2; break;
      case 2: b = t3; g = v; r = t1; break;
      case 3: b = v; g = t2; r = t1; break;
      case 4: b = v; g = t1; r = t3; break;
      default: b = t2; g = t1; r = v; break;
    }
    out[o] = F(r * 255);
    out[o + 1] = F(g * 255);
    out[o + 2] = F(b * 255);
  }
}

/** float32 fused multiply-add a * b + c with one rounding (a, b, c float32 values). */
export function fmaf(a: number, b: number, c: number): number {
  const p = a * b; // exact: two 24-bit significands
  const s = p + c;
  const r = F(s);
  if (r === s) return r;
  // s is the double nearest the exact sum; only when it sits exactly halfway between two
  // float32 values can the rounding error of p + c change the float32 result.
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb);
  if (err === 0) return r;
  const other = 2 * s - r;
  if (F(other) !== other || other === r) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}
