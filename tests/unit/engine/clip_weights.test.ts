// --clip: a file, a Hugging Face folder, or a hub name; a missing file is reported as one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveClipWeights } from '../../../src/engine/clip_weights.js';
import { checkClipKeys } from '../../../src/models/clip/weights.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const dir = mkdtempSync(join(tmpdir(), 'ahs-cw-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Wrong here: a mistyped path is called an "unknown CLIP model", sending the user to the hub list.
test('a missing path is FILE_NOT_FOUND; an unknown bare name is an unknown model', async () => {
  for (const p of ['weights/clip.safetensors', './clip', '/abs/clip.pt', 'ViT-B-16.bin']) {
    await assert.rejects(resolveClipWeights(p, { quiet: true }), isAhsError('AHS_ERR_FILE_NOT_FOUND', new RegExp(`^CLIP weights file '${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' not found`)));
  }
  await assert.rejects(resolveClipWeights('clip-vit-huge', { quiet: true }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /unknown CLIP model "clip-vit-huge"/));
  mkdirSync(join(dir, 'hf'));
  await assert.rejects(resolveClipWeights(join(dir, 'hf'), { quiet: true }), isAhsError('AHS_ERR_FILE_NOT_FOUND', /is a folder without model\.safetensors/));
  writeFileSync(join(dir, 'hf', 'model.safetensors'), '');
  assert.equal(await resolveClipWeights(join(dir, 'hf'), { quiet: true }), join(dir, 'hf', 'model.safetensors'));
});

// Wrong here: every wrong file gets the same "lacks visual.conv1.weight", with no file or option.
test('checkClipKeys tells a segmentation checkpoint, a renamed key and another model apart', () => {
  const clipKeys = ['visual.conv1.weight', 'visual.positional_embedding', 'ln_final.weight', 'text_projection'];
  checkClipKeys('clip.safetensors', clipKeys);
  assert.throws(() => checkClipKeys('model_base.pth', [...clipKeys.map((k) => `sem_seg_head.predictor.clip_model.${k}`), 'sem_seg_head.predictor.transformer.conv1.weight']),
    isAhsError('AHS_ERR_STATE_DICT', /^model_base\.pth is not a CLIP weights file: its CLIP weights sit under the prefix 'sem_seg_head\.predictor\.clip_model\.' \(4 of its 5 keys\).*--weights.*as --clip$/));
  assert.throws(() => checkClipKeys('r.safetensors', ['visual.conv1.weights', ...clipKeys.slice(1)]),
    isAhsError('AHS_ERR_STATE_DICT', /^r\.safetensors does not hold CLIP weights: it lacks 'visual\.conv1\.weight' .*; 'visual\.conv1\.weights' looks like it renamed/));
  assert.throws(() => checkClipKeys('resnet.pth', ['layer1.0.conv1.weight', 'fc.weight']),
    isAhsError('AHS_ERR_STATE_DICT', /^resnet\.pth does not hold CLIP weights: it lacks .*; its 2 keys start 'layer1\.0\.conv1\.weight', 'fc\.weight'/));
});
