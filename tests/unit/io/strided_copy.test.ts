import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isCContiguous, stridedCopy, viewSpan } from '../../../src/io/strided_copy.js';

/** Reference gather, one element at a time through nested index arithmetic. */
function naive(src: Buffer, shape: number[], stride: number[], itemsize: number): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = Buffer.alloc(n * itemsize);
  for (let i = 0; i < n; i++) {
    let rem = i;
    let off = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      off += (rem % shape[d]!) * stride[d]!;
      rem = Math.floor(rem / shape[d]!);
    }
    src.copy(out, i * itemsize, off * itemsize, (off + 1) * itemsize);
  }
  return out;
}

test('strided gather equals the element-by-element reference for every element size', () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [1, 3]], // transpose
    [[2, 3, 4], [1, 8, 2]], // 3-D permutation
    [[2, 3], [0, 1]], // expand (stride 0)
    [[4], [3]], // step slice
    [[2, 1, 3], [3, 99, 1]], // size-1 dim with an odd stride: still contiguous
    [[0, 5], [5, 1]], // empty
  ];
  for (const itemsize of [1, 2, 4, 8]) {
    for (const [shape, stride] of cases) {
      const span = viewSpan(shape, stride);
      // Unaligned source on purpose: the copy must not assume alignment.
      const src = Buffer.from([0, ...Array.from({ length: span * itemsize }, (_, i) => (i * 37 + 11) & 255)]).subarray(1);
      const got = stridedCopy(src, shape, stride, itemsize);
      assert.ok(got.equals(naive(src, shape, stride, itemsize)), `itemsize ${itemsize} shape ${shape} stride ${stride}`);
    }
  }
});

test('contiguity and span', () => {
  assert.equal(isCContiguous([2, 3], [3, 1]), true);
  assert.equal(isCContiguous([2, 3], [1, 2]), false);
  assert.equal(isCContiguous([1, 3], [7, 1]), true);
  assert.equal(viewSpan([3, 4], [1, 3]), 12);
  assert.equal(viewSpan([2, 3], [0, 1]), 3);
  assert.equal(viewSpan([], []), 1);
  assert.equal(viewSpan([0, 3], [3, 1]), 0);
});
