// The whole-image protocol's input path: detectron2's test mapper resize (INPUT.MIN_SIZE_TEST /
// MAX_SIZE_TEST), zero padding to SIZE_DIVISIBILITY at the resized size, resize to CLIP's input.
// A stand-in model records the views the predictor hands it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CatSegPredictor, type CatSegInferenceOptions } from '../../../src/models/catseg/inference.js';
import type { CATSeg } from '../../../src/models/catseg/catseg_model.js';
import { interpolate, keep, pad, randint, tidy, zeros, type Tensor } from '../../../src/tensor/index.js';

function viewsOf(image: Tensor, opts: CatSegInferenceOptions): Tensor {
  let seen: Tensor | null = null;
  const model = {
    opts: { clipInputSize: 64 },
    device: 'cpu',
    normalize: (x: Tensor) => x.float(),
    classEmbeddings: () => zeros([2, 1, 8]),
    forwardViews: (views: Tensor) => { seen = keep(views.clone()); return zeros([views.size(0), 2, 16, 16]); },
  } as unknown as CATSeg;
  new CatSegPredictor(model, { protocol: 'whole', ...opts }).labels(image, ['a', 'b']).dispose();
  return seen!;
}

const toClip = (x: Tensor, h: number, w: number) => tidy(() =>
  interpolate(pad(x, [0, (32 - (w % 32)) % 32, 0, (32 - (h % 32)) % 32]), { size: [64, 64], mode: 'bilinear', alignCorners: false }));

describe('CatSegPredictor whole-image protocol', () => {
  // Wrong here: MIN_SIZE_TEST is ignored, the resized image is padded by the original image's
  // amounts (not a multiple of SIZE_DIVISIBILITY), or the resize is not rounded as PIL's is.
  it('resizes the shortest edge first, then pads the resized image to a multiple of 32', () => {
    const image = randint(0, 256, [3, 40, 50], 'uint8');
    const got = viewsOf(image, { sizeDivisibility: 32, testResize: { minSize: 64, maxSize: 1000 } });
    const want = tidy(() => {
      const r = interpolate(image.float().unsqueeze(0), { size: [64, 80], mode: 'bilinear', alignCorners: false }).round().clamp(0, 255);
      return toClip(r, 64, 80);
    });
    assert.ok(tidy(() => got.equal(want)), 'views differ from resize(64x80) -> pad(64x96) -> 64x64');
    // minSize 0: no test resize, the image itself is padded.
    const plain = viewsOf(image, { sizeDivisibility: 32, testResize: { minSize: 0, maxSize: 1000 } });
    const wantPlain = toClip(image.float().unsqueeze(0), 40, 50);
    assert.ok(tidy(() => plain.equal(wantPlain)));
    for (const t of [image, got, want, plain, wantPlain]) t.dispose();
  });
});
