import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../../src/data/rng.js';
import { adjustSaturation, colorAugSsd, convertLut, shiftHue } from '../../../src/data/transforms/color_aug_ssd.js';
import { fmaf, hsvToRgbInPlace, rgbToHsvInPlace } from '../../../src/data/transforms/hsv.js';

const pixels = (...px: number[][]): Uint8Array => Uint8Array.from(px.flat());

describe('OpenCV 8-bit HSV', () => {
  it('RGB -> HSV of primaries, greys and a hand-computed pixel', () => {
    // H in [0, 180) (OpenCV's halved degrees); (200, 100, 50): h = 50 * hdiv[150] (819) + 2^11 >> 12 = 10,
    // s = 150 * sdiv[200] (5222) + 2^11 >> 12 = 191. Last three: cv2 4.6's values.
    const buf = pixels([255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255],
      [0, 0, 0], [128, 128, 128], [255, 255, 255], [200, 100, 50], [12, 200, 199], [3, 2, 1], [250, 10, 128]);
    rgbToHsvInPlace(buf, buf.length / 3);
    assert.deepEqual([...buf], [0, 255, 255, 60, 255, 255, 120, 255, 255, 30, 255, 255, 90, 255, 255, 150, 255, 255,
      0, 0, 0, 0, 0, 128, 0, 0, 255, 10, 191, 200, 90, 240, 200, 15, 170, 3, 165, 245, 250]);
  });

  it('greys and primaries survive the round trip exactly, cyan and magenta only in the rounding loop', () => {
    // 40 pixels a row: the first 32 take the truncating SIMD loop, the last 8 the rounding one.
    // Cyan and magenta (H 90, 150) come back as 254 in the SIMD loop, as in cv2: h * float32(6/180)
    // lands just above the sector boundary and 254.99997 truncates. Rounding there would give 255.
    const exact = [[0, 0, 0], [1, 1, 1], [77, 77, 77], [254, 254, 254], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]];
    const cyan = [0, 255, 255], magenta = [255, 0, 255];
    const row = [...exact, cyan, magenta];
    const buf = Uint8Array.from({ length: 40 * 3 }, (_, i) => row[Math.floor(i / 3) % row.length]![i % 3]!);
    const before = buf.slice();
    rgbToHsvInPlace(buf, 40);
    hsvToRgbInPlace(buf, 40, 1);
    for (let x = 0; x < 40; x++) {
      const src = [...before.subarray(x * 3, x * 3 + 3)], got = [...buf.subarray(x * 3, x * 3 + 3)];
      let want = src;
      if (x < 32 && src.join() === cyan.join()) want = [0, 254, 255];
      if (x < 32 && src.join() === magenta.join()) want = [255, 0, 254];
      assert.deepEqual(got, want, `column ${x}: ${src}`);
    }
    for (let v = 0; v < 256; v++) {
      const g = pixels([v, v, v]);
      rgbToHsvInPlace(g, 1); hsvToRgbInPlace(g, 1, 1);
      assert.deepEqual([...g], [v, v, v], `grey ${v}`);
    }
  });

  it('HSV -> RGB matches cv2 4.6 where the SIMD loop truncates with fused multiply-adds and the tail rounds', () => {
    // Each triple sits at column i (SIMD loop) and 32 + i (scalar loop). Rounding everywhere,
    // or unfused / fully fused arithmetic, changes at least one of these bytes.
    const hsv = [[1, 102, 75], [1, 90, 85], [1, 153, 25], [33, 187, 75], [1, 1, 35], [100, 200, 150]];
    const simd = [[75, 45, 44], [85, 56, 55], [25, 10, 10], [69, 75, 19], [35, 34, 34], [32, 110, 150]];
    const tail = [[75, 46, 45], [85, 56, 55], [25, 11, 10], [70, 75, 20], [35, 35, 35], [32, 111, 150]];
    const buf = new Uint8Array(40 * 3);
    hsv.forEach((t, i) => { buf.set(t, i * 3); buf.set(t, (32 + i) * 3); });
    hsvToRgbInPlace(buf, 40, 1);
    hsv.forEach((t, i) => {
      assert.deepEqual([...buf.subarray(i * 3, i * 3 + 3)], simd[i], `SIMD loop ${t}`);
      assert.deepEqual([...buf.subarray((32 + i) * 3, (32 + i) * 3 + 3)], tail[i], `scalar loop ${t}`);
    });
  });

  it('fmaf rounds once', () => {
    // (1 + 2^-12)^2 - 1 = 2^-11 + 2^-24: a separate float32 multiply loses the 2^-24 term.
    const a = 1 + 2 ** -12;
    assert.equal(fmaf(a, a, -1), 2 ** -11 + 2 ** -24);
    assert.equal(Math.fround(Math.fround(a * a) - 1), 2 ** -11);
  });
});

describe('ColorAugSSDTransform', () => {
  it('convert() clips to [0, 255] and truncates like astype(uint8)', () => {
    // Rounding would give 51 / 10 / 152; no clipping would wrap 250 + 40.7 around.
    const up = convertLut(1, 40.7), down = convertLut(1, -20.3);
    assert.equal(up[250], 255);
    assert.equal(up[10], 50);
    assert.equal(down[10], 0);
    assert.equal(down[255], 234);
    assert.equal(convertLut(1, -0.5)[10], 9);
    assert.equal(convertLut(1.5, 0)[101], 151);
    assert.equal(convertLut(2, 0)[200], 255);
    // float32 arithmetic, as numpy does a float32 array times a Python float: 100 * 0.53 is
    // 52.999996 in float32 (53 in float64); 100 * 0.57 is 57 in float32 (56.99999999999999 in float64).
    assert.equal(convertLut(0.53, 0)[100], 52);
    assert.equal(convertLut(0.57, 0)[100], 57);
  });

  it('saturation x1 and hue +0 change the image only by the HSV round trip', () => {
    // Both still convert to HSV and back (lossy in 8 bits); skipping the round trip, or a
    // wrong hue wrap / saturation scale, would differ from it.
    const rng = Rng.for(11);
    const img = Uint8Array.from({ length: 45 * 7 * 3 }, () => rng.int(256));
    const roundTrip = img.slice();
    rgbToHsvInPlace(roundTrip, 45 * 7);
    hsvToRgbInPlace(roundTrip, 45, 7);
    const sat = img.slice(), hue = img.slice();
    adjustSaturation(sat, 45, 7, 1);
    shiftHue(hue, 45, 7, 0);
    assert.deepEqual(sat, roundTrip);
    assert.deepEqual(hue, roundTrip);
    let maxErr = 0;
    for (let i = 0; i < img.length; i++) maxErr = Math.max(maxErr, Math.abs(img[i]! - roundTrip[i]!));
    assert.ok(maxErr > 0 && maxErr <= 8, `round-trip error ${maxErr}`);
  });

  it('hue shifts wrap modulo 180', () => {
    // red (H 0) - 18 -> H 162, a magenta-leaning red: B rises, G stays 0.
    const red = pixels([255, 0, 0]);
    shiftHue(red, 1, 1, -18);
    const back = red.slice();
    rgbToHsvInPlace(back, 1);
    assert.deepEqual([...back], [162, 255, 255]);
    assert.equal(red[1], 0);
    assert.ok(red[2]! > 100);
  });

  it('draws from the Rng in the documented order', () => {
    // A different order of draws would change which values each step receives.
    const calls: string[] = [];
    const ints = [1, 0, 0, 1, 1]; // brightness on, order 0, saturation off, hue on, contrast on
    const fake = {
      int: (n: number) => { calls.push(`int(${n})`); return ints.shift()!; },
      uniform: (lo: number, hi: number) => { calls.push(`uniform(${lo},${hi})`); return lo === -32 ? 10 : 1.25; },
      intInclusive: (lo: number, hi: number) => { calls.push(`intInclusive(${lo},${hi})`); return 5; },
      random: () => { throw new Error('random() is not used'); },
    } as unknown as Rng;
    const img = Uint8Array.from({ length: 33 * 2 * 3 }, (_, i) => (i * 37) % 256);
    const got = img.slice();
    colorAugSsd(got, 33, 2, fake);
    // brightness on (+10); order 0 -> saturation (off), hue (on, +5), contrast (on, x1.25).
    assert.deepEqual(calls, ['int(2)', 'uniform(-32,32)', 'int(2)', 'int(2)', 'int(2)', 'intInclusive(-18,18)', 'int(2)', 'uniform(0.5,1.5)']);
    const want = img.map((v) => convertLut(1, 10)[v]!);
    shiftHue(want, 33, 2, 5);
    const c = convertLut(1.25, 0);
    for (let i = 0; i < want.length; i++) want[i] = c[want[i]!]!;
    assert.deepEqual(got, want);
  });
});
