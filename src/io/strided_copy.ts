// Gathers a strided view (torch's storage offset + stride, numpy's Fortran order) into a dense
// C-order buffer. Elements are moved as 1/2/4-byte words, never as JS numbers, so float NaN
// payloads and int64 values come through bit-exact for every element size.

import { allocAligned, numelOf } from './raw_tensor.js';

/** True when `stride` is the C-order stride of `shape` (size-1 dims may have any stride). */
export function isCContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d]! !== 1 && stride[d]! !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/** Elements a view spans from its first element: 1 + sum((size-1) * stride); 0 when empty. */
export function viewSpan(shape: readonly number[], stride: readonly number[]): number {
  if (numelOf(shape) === 0) return 0;
  let span = 1;
  for (let d = 0; d < shape.length; d++) span += (shape[d]! - 1) * stride[d]!;
  return span;
}

function words(buf: Uint8Array, unit: number): Uint8Array | Uint16Array | Uint32Array {
  let b = buf;
  if (b.byteOffset % unit !== 0) {
    const copy = allocAligned(b.byteLength);
    copy.set(b);
    b = copy;
  }
  if (unit === 4) return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  if (unit === 2) return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
  return b;
}

/**
 * `src` holds the view's elements starting at its first one (element i of dims idx lives at
 * sum(idx * stride)); returns the dense C-order copy. Strides are in elements, non-negative.
 */
export function stridedCopy(src: Uint8Array, shape: readonly number[], stride: readonly number[], itemsize: number): Buffer {
  const n = numelOf(shape);
  const dst = allocAligned(n * itemsize);
  if (n === 0) return dst;
  if (shape.length === 0 || isCContiguous(shape, stride)) {
    dst.set(src.subarray(0, n * itemsize));
    return dst;
  }
  const unit = itemsize % 4 === 0 ? 4 : itemsize % 2 === 0 ? 2 : 1;
  const w = itemsize / unit;
  const S = words(src, unit);
  const D = words(dst, unit);
  const last = shape.length - 1;
  const inner = shape[last]!;
  const innerStride = stride[last]! * w;
  const idx = new Array<number>(last).fill(0);
  let base = 0; // word offset of the current row's first element
  for (let o = 0; o < n * w;) {
    for (let j = 0, s = base; j < inner; j++, s += innerStride) {
      for (let k = 0; k < w; k++) D[o++] = S[s + k]!;
    }
    // Odometer over the outer dims.
    for (let d = last - 1; d >= 0; d--) {
      idx[d] = idx[d]! + 1;
      base += stride[d]! * w;
      if (idx[d]! < shape[d]!) break;
      base -= stride[d]! * w * shape[d]!;
      idx[d] = 0;
    }
  }
  return dst;
}
