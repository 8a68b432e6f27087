import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../../src/data/rng.js';
import { flipPadToChw } from '../../../src/data/transforms/geometry.js';
import { nearestIndexMap, resizeBilinearPil, resizeLabelsNearest } from '../../../src/data/transforms/pil_resize.js';
import {
  chooseCrop, getCropSize, identityIndex, satisfiesAreaConstraint, type CropSpec, type CropType, type LabelGrid,
} from '../../../src/data/transforms/random_crop.js';
import { sampleShortEdge, shortestEdgeOutputShape } from '../../../src/data/transforms/resize_shortest_edge.js';

const randomBytes = (n: number, rng: Rng): Uint8Array => Uint8Array.from({ length: n }, () => rng.int(256));
const grid = (data: ArrayLike<number>, w: number, h: number): LabelGrid => ({ data, stride: w, cols: identityIndex(w), rows: identityIndex(h) });

describe('ResizeShortestEdge', () => {
  it('scales the short edge and rounds with int(x + 0.5)', () => {
    // Wrong aspect handling or rounding (floor, or round on .5 differently) changes these.
    assert.deepEqual(shortestEdgeOutputShape(480, 640, 384, 1333), [384, 512]);
    assert.deepEqual(shortestEdgeOutputShape(640, 480, 384, 1333), [512, 384]);
    assert.deepEqual(shortestEdgeOutputShape(333, 500, 384, 1333), [384, 577]); // 576.58 -> 577
    assert.deepEqual(shortestEdgeOutputShape(200, 300, 384, 1333), [384, 576]);
  });

  it('caps the long edge at max_size', () => {
    // Without the cap a 10:1 panorama would become 3840 pixels wide.
    assert.deepEqual(shortestEdgeOutputShape(100, 1000, 384, 1333), [133, 1333]);
    assert.deepEqual(shortestEdgeOutputShape(1000, 100, 384, 1333), [1333, 133]);
  });

  it("'range' sampling stays in [min, max] and reaches both ends; 'choice' picks listed sizes", () => {
    // An exclusive upper bound (randint(min, max) instead of max + 1) would never give 40.
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) seen.add(sampleShortEdge([32, 40], 'range', Rng.for(3, i)));
    assert.deepEqual([...seen].sort((a, b) => a - b), [32, 33, 34, 35, 36, 37, 38, 39, 40]);
    const picked = new Set<number>();
    for (let i = 0; i < 100; i++) picked.add(sampleShortEdge([320, 384, 448], 'choice', Rng.for(4, i)));
    assert.deepEqual([...picked].sort((a, b) => a - b), [320, 384, 448]);
  });
});

describe('PIL bilinear resize', () => {
  it('4x1 -> 2x1 averages with the widened (antialiasing) filter, as Pillow does', () => {
    // Pillow: support 2, weights (3/7, 3/7, 1/7) and (1/7, 3/7, 3/7) in 22-bit fixed point;
    // plain 2-tap bilinear would give [15, 35].
    const src = Uint8Array.from([10, 20, 30, 40]);
    assert.deepEqual([...resizeBilinearPil(src, 4, 1, 1, 2, 1)], [17, 33]);
    // The same along y, and per channel on interleaved RGB.
    assert.deepEqual([...resizeBilinearPil(src, 1, 4, 1, 1, 2)], [17, 33]);
    const rgb = Uint8Array.from([10, 0, 255, 20, 0, 255, 30, 100, 0, 40, 100, 0]);
    assert.deepEqual([...resizeBilinearPil(rgb, 4, 1, 3, 2, 1)], [17, 14, 219, 33, 86, 36]);
  });

  it('2x1 -> 4x1 keeps the edge pixels and interpolates at pixel centres', () => {
    // Centres 0.25 and 1.75 fall in the edge pixels' support only; 0.75 / 1.25 mix 3:1.
    assert.deepEqual([...resizeBilinearPil(Uint8Array.from([0, 100]), 2, 1, 1, 4, 1)], [0, 25, 75, 100]);
  });

  it('keeps a constant image constant at any scale', () => {
    // A normalisation or fixed-point rounding error would drift the value.
    for (const [w, h, ow, oh] of [[640, 480, 512, 384], [17, 9, 40, 3], [5, 5, 1, 1], [300, 200, 576, 384]] as const) {
      const out = resizeBilinearPil(new Uint8Array(w * h * 3).fill(201), w, h, 3, ow, oh);
      assert.equal(out.length, ow * oh * 3);
      assert.ok(out.every((v) => v === 201), `${w}x${h} -> ${ow}x${oh}`);
    }
  });

  it('returns the same bytes at the identity size (a copy, not the input)', () => {
    // PIL returns self.copy(); a filter pass at scale 1 would also be exact, but aliasing the input would not be safe.
    const src = randomBytes(7 * 5 * 3, Rng.for(5));
    const out = resizeBilinearPil(src, 7, 5, 3, 7, 5);
    assert.deepEqual(out, src);
    assert.notEqual(out, src);
  });

  it('a window of the output equals the same window of the full resize', () => {
    // The mapper resizes only the crop; any coupling between output pixels would break this.
    const rng = Rng.for(6);
    const src = randomBytes(64 * 48 * 3, rng);
    for (const [ow, oh] of [[51, 38], [64, 30], [40, 48], [130, 97]] as const) {
      const full = resizeBilinearPil(src, 64, 48, 3, ow, oh);
      const win = { x: 7, y: 5, width: 20, height: 17 };
      const part = resizeBilinearPil(src, 64, 48, 3, ow, oh, win);
      for (let y = 0; y < win.height; y++) {
        const row = full.subarray(((win.y + y) * ow + win.x) * 3, ((win.y + y) * ow + win.x + win.width) * 3);
        assert.deepEqual(part.subarray(y * win.width * 3, (y + 1) * win.width * 3), row, `${ow}x${oh} row ${y}`);
      }
    }
  });
});

describe('nearest resize of labels (torch F.interpolate "nearest")', () => {
  it('maps output index d to floor(d * float32(in / out))', () => {
    // PIL's centre rule would give [0, 2, 4] for 5 -> 3.
    assert.deepEqual([...nearestIndexMap(5, 3)], [0, 1, 3]);
    assert.deepEqual([...nearestIndexMap(3, 6)], [0, 0, 1, 1, 2, 2]);
    // float32 arithmetic: exact math gives 1 at 41 of 2 -> 82, float64 math gives 0 at 25 of 2 -> 50.
    assert.equal(nearestIndexMap(2, 82)[41], 0);
    assert.equal(nearestIndexMap(2, 50)[25], 1);
  });

  it('never invents label values', () => {
    // Interpolating labels (any averaging) would create values between classes.
    const rng = Rng.for(8);
    const values = [0, 3, 17, 459, 65535];
    const src = Uint16Array.from({ length: 37 * 23 }, () => values[rng.int(values.length)]!);
    for (const [ow, oh] of [[50, 31], [12, 9], [37, 23]] as const) {
      const out = resizeLabelsNearest(src, 37, 23, ow, oh);
      assert.equal(out.length, ow * oh);
      assert.ok(out.every((v) => values.includes(v)));
    }
  });
});

describe('RandomCrop sizes and RandomCrop_CategoryAreaConstraint', () => {
  const types: [CropType, [number, number]][] = [
    ['absolute', [384, 384]], ['absolute', [50, 700]], ['relative', [0.5, 0.9]], ['relative_range', [0.3, 0.6]], ['absolute_range', [100, 600]],
  ];
  it('crops are never larger than the image and stay inside it', () => {
    // A crop size not clamped to the image (absolute) or an off-by-one offset would overflow.
    const w = 512, h = 300;
    const labels = grid(new Uint8Array(w * h), w, h);
    for (const [type, size] of types) {
      for (let i = 0; i < 50; i++) {
        const win = chooseCrop({ type, size, singleCategoryMaxArea: 1 }, labels, Rng.for(9, i));
        assert.ok(win.width >= 1 && win.height >= 1 && win.width <= w && win.height <= h, `${type} ${JSON.stringify(win)}`);
        assert.ok(win.x >= 0 && win.y >= 0 && win.x + win.width <= w && win.y + win.height <= h, `${type} ${JSON.stringify(win)}`);
      }
    }
    assert.deepEqual(getCropSize('absolute', [384, 384], 384, 512, Rng.for(1)), [384, 384]);
    assert.deepEqual(getCropSize('absolute', [384, 384], 133, 1333, Rng.for(1)), [133, 384]);
    assert.deepEqual(getCropSize('relative', [0.5, 0.25], 301, 100, Rng.for(1)), [151, 25]);
  });

  it('keeps the first of 10 windows that satisfies the constraint, else the 10th', () => {
    // Label map: class 0 everywhere except a 24-column band of class 1; an 8x8 crop passes
    // (max share < 0.8, so at least 2 columns of each class) only where it straddles a band
    // edge: 10 of 57 positions, so some keys find one within 10 tries and some do not.
    const w = 64, h = 16;
    const data = Uint8Array.from({ length: w * h }, (_, i) => (i % w >= 20 && i % w < 44 ? 1 : 0));
    const labels = grid(data, w, h);
    const spec: CropSpec = { type: 'absolute', size: [8, 8], singleCategoryMaxArea: 0.8, ignoredCategory: 255 };
    const counts = new Uint32Array(65536);
    let satisfied = 0, firstTryFails = 0;
    for (let k = 0; k < 200; k++) {
      // Replay the draws of the 10 tries from the same key.
      const replay = Rng.for(10, k);
      const tries = Array.from({ length: 10 }, () => {
        getCropSize(spec.type, spec.size, h, w, replay);
        const y = replay.int(h - 8 + 1), x = replay.int(w - 8 + 1);
        return { x, y, width: 8, height: 8 };
      });
      const ok = tries.map((t) => satisfiesAreaConstraint(labels, t, 0.8, 255, counts));
      const firstOk = ok.indexOf(true);
      const win = chooseCrop(spec, labels, Rng.for(10, k));
      assert.deepEqual(win, tries[firstOk >= 0 ? firstOk : 9], `key ${k}`);
      if (firstOk >= 0) satisfied++;
      if (!ok[0]) firstTryFails++;
    }
    // Both branches happened, and an unconstrained crop would often have been rejected.
    assert.ok(satisfied > 100 && satisfied < 200, `satisfied ${satisfied}`);
    assert.ok(firstTryFails > 100, `first try fails ${firstTryFails}`);
  });

  it('does not count ignore pixels', () => {
    // 8x8 window: 30 of class 0, 10 of class 1, 24 ignore. Counting ignore, 30 < 0.7 * 64 passes;
    // without it 30 >= 0.7 * 40 fails. Ignore plus one class is a single category.
    const data = new Uint16Array(64);
    data.fill(0, 0, 30); data.fill(1, 30, 40); data.fill(65535, 40);
    const labels = grid(data, 8, 8), win = { x: 0, y: 0, width: 8, height: 8 };
    const counts = new Uint32Array(65536);
    assert.equal(satisfiesAreaConstraint(labels, win, 0.7, 65535, counts), false);
    assert.equal(satisfiesAreaConstraint(labels, win, 0.7, undefined, counts), true);
    data.fill(0, 30, 40);
    assert.equal(satisfiesAreaConstraint(labels, win, 0.99, 65535, counts), false);
    assert.ok(counts.every((c) => c === 0), 'scratch counts are left zeroed');
  });
});

describe('flip and pad', () => {
  const w = 5, h = 4;
  const marked = (): { img: Uint8Array; label: Uint16Array } => {
    const img = new Uint8Array(w * h * 3), label = new Uint16Array(w * h);
    const p = 2 * w + 1; // (x 1, y 2)
    img.set([200, 100, 50], p * 3);
    label[p] = 7;
    return { img, label };
  };
  const at = (s: ReturnType<typeof flipPadToChw>, x: number, y: number): number[] => {
    const plane = s.width * s.height, i = y * s.width + x;
    return [s.image[i]!, s.image[plane + i]!, s.image[2 * plane + i]!, s.label[i]!];
  };

  it('moves a marker pixel to the mirrored position in image and label alike', () => {
    // Flipping one but not the other (or mirroring x to w - x) would misalign supervision.
    const { img, label } = marked();
    assert.deepEqual(at(flipPadToChw(img, label, w, h, null, -1, 255), 1, 2), [200, 100, 50, 7]);
    assert.deepEqual(at(flipPadToChw(img, label, w, h, 'horizontal', -1, 255), 3, 2), [200, 100, 50, 7]);
    assert.deepEqual(at(flipPadToChw(img, label, w, h, 'vertical', -1, 255), 1, 1), [200, 100, 50, 7]);
  });

  it('pads bottom/right to exactly sizeDivisibility with 128 and the ignore label', () => {
    // Padding to a multiple, on the wrong side, or with 0 would differ from CAT-Seg's F.pad.
    const { img, label } = marked();
    const out = flipPadToChw(img, label, w, h, null, 8, 65535);
    assert.deepEqual([out.width, out.height], [8, 8]);
    assert.deepEqual(at(out, 1, 2), [200, 100, 50, 7]);
    assert.deepEqual(at(out, 0, 0), [0, 0, 0, 0]);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
      if (x >= w || y >= h) assert.deepEqual(at(out, x, y), [128, 128, 128, 65535], `(${x}, ${y})`);
    }
  });

  it('cuts a side longer than sizeDivisibility, as F.pad with a negative amount does', () => {
    const { img, label } = marked();
    const out = flipPadToChw(img, label, w, h, 'horizontal', 3, 255);
    assert.deepEqual([out.width, out.height], [3, 3]);
    assert.ok(out.label.every((v) => v === 0) && out.image.every((v) => v === 0)); // marker now at x 3: cut off
  });
});
