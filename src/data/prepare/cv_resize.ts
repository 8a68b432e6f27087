// cv2.resize as prepare_ade20k_full.py calls it, re-done in TypeScript so the resized ADE-847
// images and labels come out as OpenCV makes them (sharp's resize filters differently):
// * INTER_NEAREST: source index floor(d * src/dst), clamped (OpenCV's resizeNN, not _EXACT).
// * INTER_LINEAR on uint8: OpenCV's fixed-point path. Source coordinates with half-pixel centres
//   in float32, weights rounded to 11 bits; the horizontal pass is exact integer arithmetic, the
//   vertical pass rounds as OpenCV's SIMD kernel does (see verticalPixel). An exact 2x reduction
//   in both directions is INTER_AREA's 2x2 mean, as cv2.resize switches it.
// Checked pixel for pixel against Debian's OpenCV 4.6 (baseline SSE2, no IPP); OpenCV builds
// whose resize goes through IPP or wider SIMD may differ by one grey level in places.

/** Python 3's round(): halves go to the even neighbour. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** cvRound / saturate_cast<short>(float): round half to even (lrint), clamp to int16. */
function roundShort(x: number): number {
  return Math.max(-32768, Math.min(32767, pyRound(x)));
}

type Pixels = Uint8Array | Uint16Array | Int32Array;

/** cv2.resize(..., INTER_NEAREST) of an interleaved (h, w, cn) array. */
export function resizeNearest<T extends Pixels>(src: T, sw: number, sh: number, cn: number, dw: number, dh: number): T {
  const out = new (src.constructor as new (n: number) => T)(dw * dh * cn);
  // OpenCV passes inv_scale = dst/src and takes its reciprocal.
  const ifx = 1 / (dw / sw);
  const ify = 1 / (dh / sh);
  const xofs = new Int32Array(dw);
  for (let x = 0; x < dw; x++) xofs[x] = Math.min(Math.floor(x * ifx), sw - 1);
  for (let y = 0; y < dh; y++) {
    const sy = Math.min(Math.floor(y * ify), sh - 1);
    for (let x = 0; x < dw; x++) {
      const s = (sy * sw + xofs[x]!) * cn;
      const d = (y * dw + x) * cn;
      for (let c = 0; c < cn; c++) out[d + c] = src[s + c]!;
    }
  }
  return out;
}

interface Taps {
  ofs: Int32Array;
  w0: Int32Array;
  w1: Int32Array;
}

/** Source index and 11-bit weights per destination index (OpenCV computes fx in float32). */
function linearTaps(srcLen: number, dstLen: number, clampEdge: boolean): Taps {
  const scale = 1 / (dstLen / srcLen);
  const ofs = new Int32Array(dstLen);
  const w0 = new Int32Array(dstLen);
  const w1 = new Int32Array(dstLen);
  for (let d = 0; d < dstLen; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    // Columns are clamped here; rows are clamped when they are fetched (OpenCV does the same).
    if (clampEdge && s < 0) (f = 0), (s = 0);
    if (clampEdge && s >= srcLen - 1) (f = 0), (s = srcLen - 1);
    ofs[d] = s;
    w0[d] = roundShort(Math.fround(1 - f) * 2048);
    w1[d] = roundShort(f * 2048);
  }
  return { ofs, w0, w1 };
}

const sat16 = (v: number): number => (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
const satU8 = (v: number): number => (v > 255 ? 255 : v < 0 ? 0 : v);

/**
 * One output byte from two horizontally filtered rows (values scaled by 2048), rounded as
 * OpenCV's VResizeLinearVec_32s8u: ((s0 >> 4) * b0 >> 16) + ((s1 >> 4) * b1 >> 16), then 2 bits.
 * Not the textbook (s0*b0 + s1*b1 + 2^21) >> 22, which is one higher now and then: against
 * OpenCV 4.6 this form matched every pixel of every row, tails included.
 */
function verticalPixel(s0: number, s1: number, b0: number, b1: number): number {
  const m = sat16(Math.floor((sat16(s0 >> 4) * b0) / 65536) + Math.floor((sat16(s1 >> 4) * b1) / 65536));
  return satU8((m + 2) >> 2);
}

/** cv2.resize(..., INTER_LINEAR) of an interleaved uint8 (h, w, cn) image. */
export function resizeLinear(src: Uint8Array, sw: number, sh: number, cn: number, dw: number, dh: number): Uint8Array {
  if (sw === 2 * dw && sh === 2 * dh) return resizeArea2x(src, sw, cn, dw, dh);
  const out = new Uint8Array(dw * dh * cn);
  const tx = linearTaps(sw, dw, true);
  const ty = linearTaps(sh, dh, false);
  const width = dw * cn;
  const rows = new Map<number, Int32Array>();
  const hrow = (sy: number): Int32Array => {
    const y = Math.min(Math.max(sy, 0), sh - 1);
    let r = rows.get(y);
    if (r === undefined) {
      r = new Int32Array(width);
      const base = y * sw * cn;
      for (let x = 0; x < dw; x++) {
        const s = base + tx.ofs[x]! * cn;
        const a0 = tx.w0[x]!;
        const a1 = tx.w1[x]!;
        for (let c = 0; c < cn; c++) r[x * cn + c] = src[s + c]! * a0 + (a1 === 0 ? 0 : src[s + cn + c]! * a1);
      }
      // Output rows walk down the source: only the two newest filtered rows are needed again.
      if (rows.size > 4) for (const k of rows.keys()) if (k < y - 2) rows.delete(k);
      rows.set(y, r);
    }
    return r;
  };
  for (let dy = 0; dy < dh; dy++) {
    const r0 = hrow(ty.ofs[dy]!);
    const r1 = hrow(ty.ofs[dy]! + 1);
    const b0 = ty.w0[dy]!;
    const b1 = ty.w1[dy]!;
    const o = dy * width;
    for (let x = 0; x < width; x++) out[o + x] = verticalPixel(r0[x]!, r1[x]!, b0, b1);
  }
  return out;
}

/** INTER_AREA for an exact 2x reduction: (a + b + c + d + 2) >> 2 per channel. */
function resizeArea2x(src: Uint8Array, sw: number, cn: number, dw: number, dh: number): Uint8Array {
  const out = new Uint8Array(dw * dh * cn);
  for (let y = 0; y < dh; y++) {
    const r0 = 2 * y * sw * cn;
    const r1 = r0 + sw * cn;
    for (let x = 0; x < dw; x++) {
      for (let c = 0; c < cn; c++) {
        const i = 2 * x * cn + c;
        out[(y * dw + x) * cn + c] = (src[r0 + i]! + src[r0 + i + cn]! + src[r1 + i]! + src[r1 + i + cn]! + 2) >> 2;
      }
    }
  }
  return out;
}
