// MaskCLIP's input size: the short side scaled to shortSide, the long side capped (detectron2's
// MAX_SIZE_TEST rule), both multiples of the patch and at least one patch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaskClipSegmenter } from '../../../src/models/clip/maskclip.js';
import type { CLIP } from '../../../src/models/clip/clip_model.js';
import type { TextEmbedder } from '../../../src/models/clip/text_embedder.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const clip = { visual: { cfg: { patchSize: 16, heads: 12 } } } as unknown as CLIP; // inputSize reads only these
const text = {} as TextEmbedder;

// Wrong here: a 1 x 1000 image becomes a 448 x 448,000 input (7.5 GB before failing), or an
// ordinary photo's size changes.
test('ordinary photos keep their size; extreme aspect ratios are capped by the long side', () => {
  const s = new MaskClipSegmenter(clip, text, { shortSide: 448 });
  assert.deepEqual(s.inputSize(300, 451), [448, 672], 'a 3:2 photo, as before the cap');
  assert.deepEqual(s.inputSize(1080, 1920), [448, 800]);
  assert.deepEqual(s.inputSize(1, 1000), [16, 1792], 'long side at 4 x 448, short side one patch');
  assert.deepEqual(s.inputSize(5000, 2), [1792, 16]);
  assert.deepEqual(new MaskClipSegmenter(clip, text, { shortSide: 448, maxLongSide: 800 }).inputSize(300, 900), [272, 800]);
  assert.ok(s.memoryBytes(1, 1000, 2) < 2 ** 30, 'the capped input needs little memory');
  assert.throws(() => new MaskClipSegmenter(clip, text, { shortSide: 0 }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'MaskCLIP: shortSide must be a positive integer, got 0'));
});
