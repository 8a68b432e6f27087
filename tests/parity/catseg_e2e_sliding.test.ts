// The whole CAT-Seg inference path against CATSeg.inference_sliding_window (golden e2e_sliding.*):
// raw image -> five views -> CLIP dense features + guidance taps -> head -> sigmoid, fold,
// average with the global view -> per-class probabilities at the image size. CLIP is
// clip_tiny; the head's sizes come from the weights' head_config; classes from the metadata.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CATSeg } from '../../src/models/catseg/catseg_model.js';
import { CatSegPredictor } from '../../src/models/catseg/inference.js';
import { clipToCatSegKeys } from '../../src/models/catseg/checkpoint.js';
import { aggregatorOptionsFromHeadConfig } from '../../src/models/catseg/catseg_head.js';
import { readClipStateDict } from '../../src/models/clip/weights.js';
import { clipConfigFromShapes } from '../../src/models/clip/clip_model.js';
import { CATSEG_TEMPLATE } from '../../src/models/clip/prompts.js';
import { clipNormalize } from '../../src/models/clip/preprocess.js';
import { cat, dispose, interpolate, noGrad, tidy, type Tensor } from '../../src/tensor/index.js';
import { goldenPath, goldenTolerance, loadGolden, maxAbsDiff, skipUnless } from '../helpers/golden.js';

const skip = skipUnless('e2e_sliding.weights.safetensors', 'e2e_sliding.io.safetensors', 'clip_tiny.weights.safetensors', 'README.md');

describe('CAT-Seg end-to-end sliding-window inference (e2e_sliding)', { skip }, () => {
  let model: CATSeg;
  let io: Map<string, Tensor>;
  let classes: string[];
  let tol: number;
  before(() => {
    const head = loadGolden('e2e_sliding.weights.safetensors');
    io = loadGolden('e2e_sliding.io.safetensors').tensors;
    classes = JSON.parse(loadGolden('e2e_sliding.io.safetensors').metadata.classes!) as string[];
    tol = goldenTolerance().output;
    const clip = readClipStateDict(goldenPath('clip_tiny.weights.safetensors')).tensors;
    const clipCfg = clipConfigFromShapes(new Map([...clip].map(([k, t]) => [k, t.shape])));
    const headCfg = JSON.parse(head.metadata.head_config!) as Record<string, unknown>;
    // The README: blocks 0 and 1 are the taps; eval with test pooling 1x1, one prompt, pad 256.
    const aggregator = aggregatorOptionsFromHeadConfig(headCfg, { poolingSize: [1, 1], promptChannels: 1, padLen: 256 });
    model = new CATSeg({
      clip: clipCfg, aggregator, taps: [0, 1], clipInputSize: 384, finetune: 'none',
      templates: [CATSEG_TEMPLATE], testPooling: [1, 1], trainPooling: [2, 2], classChunk: 16,
    });
    const sd = new Map([...clipToCatSegKeys(clip), ...head.tensors]);
    const report = model.loadStateDict(sd, { strict: true, source: 'clip_tiny + e2e_sliding weights' });
    assert.equal(report.missing.length + report.unexpected.length + report.mismatched.length, 0);
    dispose([...sd.values()]);
    model.eval();
  });
  after(() => { model.dispose(); dispose([...io.values()]); });

  // Wrong here: tokenisation of "first synonym in the template", the text tower or the normalisation.
  test('class text embeddings', () => tidy(() => noGrad(() => {
    const want = io.get('text_embeds')!; // (T, P, D)
    const d = maxAbsDiff(model.classEmbeddings(classes), want);
    assert.ok(d <= tol, `text_embeds: max|diff| ${d} > ${tol}`);
  })));

  // Wrong here: crop positions, the global view, normalisation order or the head's inputs.
  test('per-view logits', () => tidy(() => noGrad(() => {
    const img = io.get('image_u8')!.float().unsqueeze(0);
    const want = io.get('view_logits')!; // (V, T, h, w)
    const S = 384;
    const big = interpolate(img, { size: [640, 640], mode: 'bilinear', alignCorners: false });
    const crops = [0, 256].flatMap((y) => [0, 256].map((x) => big.narrow(2, y, S).narrow(3, x, S)));
    const views = clipNormalize(cat([...crops, interpolate(img, { size: [S, S], mode: 'bilinear', alignCorners: false })], 0));
    const d = maxAbsDiff(model.forwardViews(views, model.classEmbeddings(classes)), want);
    assert.ok(d <= tol, `view_logits: max|diff| ${d} > ${tol}`);
  })));

  // Wrong here: the views are cut, resized or CLIP-normalised differently (mean/std, order), or
  // the dense forward differs: the CLIP features of all five views are compared.
  test('dense CLIP features of the five views', () => tidy(() => noGrad(() => {
    const img = io.get('image_u8')!.float().unsqueeze(0);
    const S = 384;
    const big = interpolate(img, { size: [640, 640], mode: 'bilinear', alignCorners: false });
    const crops = [0, 256].flatMap((y) => [0, 256].map((x) => big.narrow(2, y, S).narrow(3, x, S)));
    const views = clipNormalize(cat([...crops, interpolate(img, { size: [S, S], mode: 'bilinear', alignCorners: false })], 0));
    const d = maxAbsDiff(model.clip.visual.dense(views, { residual: 'cls' }).tokens, io.get('clip_dense_features_views')!);
    assert.ok(d <= tol, `clip_dense_features_views: max|diff| ${d} > ${tol}`);
  })));

  // Wrong here: sigmoid/upsampling order, the fold and its overlap division, or the final resize.
  test('probabilities at the image size', () => tidy(() => {
    const want = io.get('sem_seg_probs')!; // (T, H, W)
    const predictor = new CatSegPredictor(model, { protocol: 'sliding', outputClassChunk: 2 });
    const probs = predictor.probabilities(io.get('image_u8')!, classes);
    assert.deepEqual(probs.shape, want.shape);
    const d = maxAbsDiff(probs, want);
    assert.ok(d <= tol, `sem_seg_probs: max|diff| ${d} > ${tol}`);
    // The chunked arg-max equals the arg-max of the full probabilities (ours: the reference's
    // could differ from ours at near-ties within the tolerance).
    assert.ok(predictor.labels(io.get('image_u8')!, classes).equal(probs.argmax(0)), 'labels must be the arg-max of the probabilities');
  }));
});
