import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../../src/config/index.js';
import { AhsError } from '../../../src/errors.js';
import { Rng } from '../../../src/data/rng.js';
import type { RawSample } from '../../../src/data/sample.js';
import { mapSemanticSample, semanticMapperOptionsFromConfig, type SemanticMapperOptions } from '../../../src/data/semantic_mapper.js';

const CATSEG: SemanticMapperOptions = {
  minSizeTrain: [384], minSizeTrainSampling: 'choice', maxSizeTrain: 1333,
  crop: { type: 'absolute', size: [384, 384], singleCategoryMaxArea: 1.0 },
  colorAugSsd: true, flip: 'horizontal', sizeDivisibility: 384, ignoreLabel: 255,
};

function randomSample(key: string, width: number, height: number, classes = 20): RawSample {
  const rng = Rng.for(width, height);
  const image = Uint8Array.from({ length: width * height * 3 }, () => rng.int(256));
  // Blocky labels, so crops differ in content.
  const label = Uint8Array.from({ length: width * height }, (_, i) => (((i % width) >> 5) * 7 + (Math.floor(i / width) >> 5)) % classes);
  return { key, width, height, image, label };
}

const labelValues = (l: ArrayLike<number>): Set<number> => new Set(Array.from(l));

describe('mapSemanticSample', () => {
  it("CAT-Seg's settings turn a 640x480 image into a 384x384 CHW image and label map", () => {
    // 640x480 -> 512x384 -> 384x384 crop: any wrong step changes the shape or invents labels.
    const raw = randomSample('a', 640, 480);
    const out = mapSemanticSample(raw, CATSEG, Rng.for(1, 7));
    assert.equal(out.key, 'a');
    assert.deepEqual([out.width, out.height], [384, 384]);
    assert.equal(out.image.length, 3 * 384 * 384);
    assert.ok(out.label instanceof Uint16Array && out.label.length === 384 * 384);
    const inLabels = labelValues(raw.label);
    for (const v of labelValues(out.label)) assert.ok(inLabels.has(v), `label ${v}`);
    assert.ok(!out.label.includes(255), 'no padding: the crop fills 384x384');
  });

  it('is a pure function of (sample, options, rng key)', () => {
    // Hidden global state (Math.random, shared buffers) would make the two runs differ.
    const raw = randomSample('b', 640, 480);
    const a = mapSemanticSample(raw, CATSEG, Rng.for(1, 7));
    const b = mapSemanticSample(raw, CATSEG, Rng.for(1, 7));
    assert.deepEqual(a, b);
    // Different keys give different crops of a large image (the label map shows the window).
    const big = randomSample('c', 1200, 900);
    const crops = new Set([7, 8, 9, 10].map((k) => Buffer.from(mapSemanticSample(big, { ...CATSEG, colorAugSsd: false }, Rng.for(1, k)).label.buffer).toString('base64')));
    assert.ok(crops.size >= 3, `${crops.size} distinct crops of 4`);
  });

  it('pads a crop shorter than SIZE_DIVISIBILITY with 128 and the ignore label', () => {
    // 1000x100 -> 1333x133 (max-size cap) -> 384x133 crop -> padded to 384x384 at the bottom.
    const raw = randomSample('d', 1000, 100);
    const out = mapSemanticSample(raw, { ...CATSEG, ignoreLabel: 65535 }, Rng.for(2, 1));
    assert.deepEqual([out.width, out.height], [384, 384]);
    const plane = 384 * 384;
    for (let y = 0; y < 384; y++) {
      const i = y * 384 + 100;
      if (y < 133) assert.notEqual(out.label[i], 65535, `row ${y} is image`);
      else assert.deepEqual([out.label[i], out.image[i], out.image[plane + i], out.image[2 * plane + i]], [65535, 128, 128, 128], `row ${y}`);
    }
  });

  it('does not pad a 300x200 image: the resize makes it 576x384 before the crop', () => {
    // A crop taken before the resize (or a resize to the wrong edge) would leave padding.
    const out = mapSemanticSample(randomSample('e', 300, 200), CATSEG, Rng.for(3, 1));
    assert.deepEqual([out.width, out.height], [384, 384]);
    assert.ok(!out.label.includes(255));
  });

  it('flips image and label together', () => {
    // With no resize, crop or colour, the output is the input or its mirror — in both planes at once.
    const raw = randomSample('f', 48, 32);
    const opts: SemanticMapperOptions = { ...CATSEG, minSizeTrain: [32], crop: null, colorAugSsd: false, sizeDivisibility: -1 };
    let flipped = 0;
    for (let k = 0; k < 16; k++) {
      const out = mapSemanticSample(raw, opts, Rng.for(4, k));
      const mirrored = out.label[0] !== raw.label[0];
      if (mirrored) flipped++;
      for (const [x, y] of [[0, 0], [5, 3], [47, 31], [20, 17]] as const) {
        const sx = mirrored ? 47 - x : x, s = y * 48 + sx, o = y * 48 + x;
        assert.equal(out.label[o], raw.label[s]);
        assert.deepEqual([out.image[o], out.image[48 * 32 + o], out.image[2 * 48 * 32 + o]], [...raw.image.subarray(s * 3, s * 3 + 3)]);
      }
    }
    assert.ok(flipped > 2 && flipped < 14, `flipped ${flipped} of 16`);
  });

  it('rejects an image and label map of different sizes, naming the sample', () => {
    // A silent mismatch would misalign every label.
    const raw = { ...randomSample('g', 64, 48), label: new Uint8Array(64 * 47) };
    assert.throws(() => mapSemanticSample(raw, CATSEG, Rng.for(1)), (e: unknown) =>
      e instanceof AhsError && e.code === 'AHS_ERR_SHAPE' && /sample g: label map has 3008 values but the image is 64x48/.test(e.message));
  });
});

describe('semanticMapperOptionsFromConfig', () => {
  it("reads CAT-Seg's vitb_384 settings into plain, cloneable options", () => {
    // A missed key (crop off, colour off) would silently train with other augmentation.
    const opts = semanticMapperOptionsFromConfig(loadConfig('configs/vitb_384.yaml'));
    assert.deepEqual(opts, { ...CATSEG, crop: { ...CATSEG.crop!, ignoredCategory: 255 } });
    assert.deepEqual(structuredClone(opts), opts);
    // Padding uses the dataset's ignore label; the crop constraint keeps IGNORE_VALUE, as in CAT-Seg.
    const ade847 = semanticMapperOptionsFromConfig(loadConfig('configs/vitb_384.yaml'), 65535);
    assert.equal(ade847.ignoreLabel, 65535);
    assert.equal(ade847.crop!.ignoredCategory, 255);
  });

  const rejects = (overrides: string[], pattern: RegExp): void => {
    assert.throws(() => semanticMapperOptionsFromConfig(loadConfig('configs/vitb_384.yaml', overrides)), (e: unknown) =>
      e instanceof AhsError && e.code === 'AHS_ERR_CONFIG_VALUE' && pattern.test(e.message), pattern.source);
  };

  it('rejects values CAT-Seg could not train with, naming the key', () => {
    // Each would otherwise fail deep inside a worker, or train on BGR inputs to an RGB CLIP.
    rejects(['INPUT.FORMAT', 'BGR'], /^INPUT\.FORMAT must be 'RGB'/);
    rejects(['INPUT.CROP.SINGLE_CATEGORY_MAX_AREA', '0.0'], /^INPUT\.CROP\.SINGLE_CATEGORY_MAX_AREA must be in \(0, 1\], got 0/);
    rejects(['INPUT.CROP.SINGLE_CATEGORY_MAX_AREA', '1.5'], /SINGLE_CATEGORY_MAX_AREA must be in \(0, 1\], got 1.5/);
    rejects(['INPUT.CROP.TYPE', 'relative'], /^INPUT\.CROP\.SIZE must be two fractions in \(0, 1\]/);
    rejects(['INPUT.CROP.SIZE', '(384.5, 384)'], /^INPUT\.CROP\.SIZE must be two positive integers/);
    rejects(['INPUT.CROP.TYPE', 'absolute_range', 'INPUT.CROP.SIZE', '(500, 400)'], /min <= max/);
    rejects(['INPUT.MIN_SIZE_TRAIN', '(0, )'], /^INPUT\.MIN_SIZE_TRAIN must be a non-empty list of positive integers/);
    rejects(['INPUT.MIN_SIZE_TRAIN_SAMPLING', 'range'], /^INPUT\.MIN_SIZE_TRAIN must be \(min, max\)/);
    rejects(['INPUT.MAX_SIZE_TRAIN', '0'], /^INPUT\.MAX_SIZE_TRAIN must be a positive integer/);
  });

  it('turns the crop off and keeps range sampling when the config says so', () => {
    // CROP.ENABLED False must give crop null, not a default crop.
    const opts = semanticMapperOptionsFromConfig(loadConfig('configs/vitb_384.yaml', [
      'INPUT.CROP.ENABLED', 'False', 'INPUT.MIN_SIZE_TRAIN', '(320, 448)', 'INPUT.MIN_SIZE_TRAIN_SAMPLING', 'range',
    ]));
    assert.equal(opts.crop, null);
    assert.deepEqual([opts.minSizeTrain, opts.minSizeTrainSampling], [[320, 448], 'range']);
  });
});
