// The shared machinery of the training-free segmenters on a tiny random CLIP: the mmseg rescale
// rule, the sliding window's boxes and overlap averaging, synonym queries and their max, the
// post-processing options, and the paths the golden files do not take (windows whose side is not
// a multiple of the patch size, ClearCLIP's padding, whole-image inference for every method).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIP, type ClipConfig } from '../../../src/models/clip/clip_model.js';
import { TextEmbedder } from '../../../src/models/clip/text_embedder.js';
import { forwardSlide, slideWindows } from '../../../src/models/tfree/forward_slide.js';
import { mmsegRescaleSize } from '../../../src/models/tfree/mmseg_resize.js';
import { buildTrainingFree, TRAINING_FREE_METHODS } from '../../../src/models/tfree/methods.js';
import { liveTensorCount, manualSeed, randint, randn, tensor, tidy } from '../../../src/tensor/index.js';
import { assertClose } from '../../helpers/assert_close.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const TINY: ClipConfig = {
  embedDim: 16, imageResolution: 64, visionLayers: 2, visionWidth: 64, visionPatchSize: 16, visionHeads: 2,
  contextLength: 77, vocabSize: 49408, transformerWidth: 64, transformerHeads: 1, transformerLayers: 1,
};
let clip: CLIP;
before(() => { manualSeed(3); clip = new CLIP(TINY).eval(); });
after(() => clip.dispose());

// Wrong here: mmcv's keep-ratio rule (the 2048 cap on the long side, int(x + 0.5) rounding).
test('mmseg rescale size: short side to S unless the long side would pass 2048', () => {
  assert.deepEqual(mmsegRescaleSize(150, 211, [2048, 336]), [336, 473]);
  assert.deepEqual(mmsegRescaleSize(100, 3000, [2048, 336]), [68, 2048]);
  assert.deepEqual(mmsegRescaleSize(336, 500, [336, 2048]), [336, 500], 'scale given either way round');
});

// Wrong here: windows of an image smaller than the crop, or the pushed-back last row/column.
test('sliding-window boxes', () => {
  assert.deepEqual(slideWindows(100, 150, 224, 112), [{ y1: 0, y2: 100, x1: 0, x2: 150 }]);
  assert.deepEqual(slideWindows(224, 300, 224, 112).map((b) => [b.x1, b.x2]), [[0, 224], [76, 300]]);
  assert.throws(() => slideWindows(10, 10, 0, 112), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'sliding window: crop and stride must be positive integers, got crop 0, stride 112'));
});

// Wrong here: overlapping windows are not averaged (sum / count), or batching changes the result.
test('forward_slide averages overlapping windows, whatever the batch', () => tidy(() => {
  const img = randn([1, 3, 40, 57]);
  const windows = slideWindows(40, 57, 24, 10);
  for (const batch of [1, 4, 100]) assertClose(forwardSlide(img, windows, (crops) => crops, batch), img.squeeze(0), 1e-6, `batch ${batch}`);
}));

// Wrong here: synonyms are not split as each reference's get_cls_idx splits them.
test('class names split into synonym queries', () => {
  const text = new TextEmbedder(clip);
  const naclip = buildTrainingFree('naclip', clip, text);
  assert.deepEqual(naclip.queries(['person, person in shirt', 'sky']), { texts: ['person', 'person in shirt', 'sky'], classOf: [0, 0, 1] });
  const clearclip = buildTrainingFree('clearclip', clip, text);
  assert.deepEqual(clearclip.queries(['person, man']).texts, ['person', ' man'], "ClearCLIP splits on ',' and keeps the space");
  assert.throws(() => naclip.queries([]), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'NACLIP: give at least one class name'));
});

// Wrong here: the softmax scale, the max over a class's queries, prob_thd or the renormalisation.
test('post-processing: softmax, synonym max, threshold, renormalisation', () => tidy(() => {
  const text = new TextEmbedder(clip);
  const logits = tensor([[[0.2, 0.1]], [[0.45, 0.9]], [[0.42, 0.3]]]); // (Q=3, 1, 2)
  const seg = buildTrainingFree('naclip', clip, text, { logitScale: 10, probThreshold: 0.6 });
  const { probs, labels } = seg.postprocess(logits, [0, 1, 1]);
  const sm = (col: number[]) => col.map((v) => Math.exp(10 * v) / col.reduce((a, b) => a + Math.exp(10 * b), 0));
  const [p0, p1] = [sm([0.2, 0.45, 0.42]), sm([0.1, 0.9, 0.3])];
  const merged = [[p0[0]!, Math.max(p0[1]!, p0[2]!)], [p1[0]!, Math.max(p1[1]!, p1[2]!)]];
  const want = merged.map((m) => m.map((v) => v / (m[0]! + m[1]!)));
  assertClose(probs, [want[0]![0]!, want[1]![0]!, want[0]![1]!, want[1]![1]!], 1e-6, 'renormalised max over synonyms');
  // Pixel 0: class 1 wins with p = 0.55 < 0.6 -> class 0 by prob_thd; pixel 1: class 1 with 0.997.
  assert.deepEqual(labels.toArray(), [0, 1]);
  assert.ok(merged[0]![1]! > merged[0]![0]! && merged[0]![1]! < 0.6, 'the example exercises the threshold');
}));

// Wrong here: a window or whole image whose sides are not multiples of the patch size breaks a
// method (ClearCLIP pads windows, the others drop trailing pixels), or tensors leak.
test('every method on awkward sizes, sliding and whole, gives finite scores at the image size', () => {
  const text = new TextEmbedder(clip);
  const live = liveTensorCount();
  for (const method of TRAINING_FREE_METHODS) {
    for (const crop of [40, 0]) {
      tidy(() => {
        // 30 x 70 -> short side 37: windows 37 x 40 (37 is not a multiple of 16).
        const seg = buildTrainingFree(method, clip, text, { shortSide: 37, crop, stride: 20, pamr: { steps: 2, dilations: [2] } });
        const image = randint(0, 256, [3, 30, 70], 'uint8');
        const out = seg.infer(image, randn([3, TINY.embedDim]).div(4));
        assert.deepEqual(out.probs.shape, [3, 30, 70], `${method} crop ${crop}`);
        assert.ok(out.probs.isfinite().all().item(), `${method} crop ${crop}: finite`);
        assert.equal(out.windows.length > 0, crop > 0);
        seg.dispose();
      });
    }
  }
  assert.equal(liveTensorCount(), live, 'no tensor outlives a run');
});
