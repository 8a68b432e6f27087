// The YAML files in configs/ load and carry the values of the reference configs
// (method-spec sections 2.1 and 3; CAT-Seg configs/*.yaml at commit 3709783).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dumpConfig, loadConfig } from '../../../src/config/index.js';

const configs = fileURLToPath(new URL('../../../configs/', import.meta.url));
const load = (name: string) => loadConfig(join(configs, name));

test('config.yaml: CAT-Seg base values', () => {
  // Fails if the base drifts from upstream (these are what vitb_384 inherits, method-spec 2.1).
  const c = load('config.yaml');
  assert.equal(c.MODEL.PROMPT_ENSEMBLE_TYPE, 'imagenet');
  assert.equal(c.MODEL.SEM_SEG_HEAD.NUM_LAYERS, 4);
  assert.deepEqual(c.MODEL.SEM_SEG_HEAD.POOLING_SIZES, [6, 6]);
  assert.deepEqual(c.DATASETS.TRAIN, ['coco_2017_train_stuff_all_sem_seg']);
  assert.deepEqual(c.DATASETS.TEST, ['coco_2017_test_stuff_all_sem_seg']);
  assert.equal(c.SOLVER.OPTIMIZER, 'ADAMW');
  assert.equal(c.SOLVER.WARMUP_FACTOR, 1.0);
  assert.equal(c.SOLVER.WARMUP_ITERS, 0);
  assert.equal(c.SOLVER.WEIGHT_DECAY, 1e-4);
  assert.deepEqual(
    { ...c.SOLVER.CLIP_GRADIENTS.toObject() },
    { ENABLED: true, CLIP_TYPE: 'full_model', CLIP_VALUE: 0.01, NORM_TYPE: 2.0 },
  );
  assert.equal(c.INPUT.MAX_SIZE_TEST, 2560);
  assert.equal(c.INPUT.COLOR_AUG_SSD, true);
  assert.equal(c.INPUT.CROP.SINGLE_CATEGORY_MAX_AREA, 1.0);
  assert.equal(c.TEST.SLIDING_WINDOW, false);
  assert.equal(c.DATALOADER.NUM_WORKERS, 8);
  assert.equal(c.DATALOADER.FILTER_EMPTY_ANNOTATIONS, true);
});

test('vitb_384.yaml: the CAT-Seg ViT-B/16 recipe of method-spec 2.1', () => {
  // Fails if an override of config.yaml is lost (NUM_LAYERS 4 -> 2, imagenet -> single, ...) or
  // a value from cat_seg/config.py defaults is wrong.
  const c = load('vitb_384.yaml');
  const h = c.MODEL.SEM_SEG_HEAD;
  assert.equal(c.MODEL.META_ARCHITECTURE, 'CATSeg');
  assert.equal(h.CLIP_PRETRAINED, 'ViT-B/16');
  assert.equal(h.NUM_LAYERS, 2);
  assert.deepEqual(h.POOLING_SIZES, [2, 2]);
  assert.equal(c.MODEL.PROMPT_ENSEMBLE_TYPE, 'single');
  assert.equal(h.CLIP_FINETUNE, 'attention');
  assert.equal(h.NUM_CLASSES, 171);
  assert.deepEqual([h.TEXT_GUIDANCE_DIM, h.APPEARANCE_GUIDANCE_DIM, h.HIDDEN_DIMS, h.NUM_HEADS], [512, 512, 128, 4]);
  assert.deepEqual([h.DECODER_DIMS, h.DECODER_GUIDANCE_DIMS, h.DECODER_GUIDANCE_PROJ_DIMS], [[64, 32], [256, 128], [32, 16]]);
  assert.deepEqual(h.FEATURE_RESOLUTION, [24, 24]);
  assert.equal(h.WINDOW_SIZES, 12);
  assert.equal(h.ATTENTION_TYPE, 'linear');
  assert.equal(h.CLASS_PAD_LEN, 256);
  assert.deepEqual(c.INPUT.MIN_SIZE_TRAIN, [384]);
  assert.deepEqual(c.INPUT.CROP.SIZE, [384, 384]);
  assert.equal(c.INPUT.CROP.TYPE, 'absolute');
  assert.equal(c.INPUT.MIN_SIZE_TEST, 640);
  assert.equal(c.INPUT.SIZE_DIVISIBILITY, 384);
  assert.equal(c.INPUT.FORMAT, 'RGB');
  assert.deepEqual(c.MODEL.PIXEL_MEAN, [123.675, 116.28, 103.53]);
  assert.deepEqual(c.MODEL.CLIP_PIXEL_MEAN, [122.7709383, 116.7460125, 104.09373615]);
  assert.deepEqual(c.MODEL.CLIP_PIXEL_STD, [68.5005327, 66.6321579, 70.323163]);
  assert.equal(c.MODEL.MASK_FORMER.SIZE_DIVISIBILITY, 32);
  assert.equal(c.SOLVER.IMS_PER_BATCH, 4);
  assert.equal(c.SOLVER.LR_SCHEDULER_NAME, 'WarmupCosineLR');
  assert.equal(c.SOLVER.BASE_LR, 0.0002);
  assert.equal(c.SOLVER.MAX_ITER, 80000);
  assert.equal(c.SOLVER.BACKBONE_MULTIPLIER, 0.0);
  assert.equal(c.SOLVER.CLIP_MULTIPLIER, 0.01);
  assert.equal(c.SOLVER.WEIGHT_DECAY_EMBED, 0.0);
  assert.equal(c.SOLVER.WEIGHT_DECAY_NORM, 0.0);
  assert.equal(c.SOLVER.CLIP_GRADIENTS.CLIP_VALUE, 0.01);
  assert.equal(c.TEST.EVAL_PERIOD, 5000);
});

test('vitb_384_oft.yaml: H-CLIP differs from vitb_384 only in CLIP_FINETUNE', () => {
  // Fails if any other key differs (method-spec 3: "identical to vitb_384.yaml except ...").
  const oft = load('vitb_384_oft.yaml').toObject();
  const base = load('vitb_384.yaml').clone();
  base.MODEL.SEM_SEG_HEAD.CLIP_FINETUNE = 'oft_both';
  assert.deepEqual(oft, base.toObject());
});

test('vitl_336.yaml: CAT-Seg ViT-L/14@336px', () => {
  // Fails if the ViT-L widths or the 24x24 grid are wrong.
  const c = load('vitl_336.yaml');
  const h = c.MODEL.SEM_SEG_HEAD;
  assert.equal(h.CLIP_PRETRAINED, 'ViT-L/14@336px');
  assert.deepEqual([h.TEXT_GUIDANCE_DIM, h.APPEARANCE_GUIDANCE_DIM], [768, 768]);
  assert.deepEqual(h.DECODER_GUIDANCE_DIMS, [256, 128]);
  assert.deepEqual(h.FEATURE_RESOLUTION, [24, 24]);
  assert.equal(h.NUM_LAYERS, 2);
  assert.deepEqual(h.POOLING_SIZES, [2, 2]);
  assert.equal(c.MODEL.PROMPT_ENSEMBLE_TYPE, 'single');
});

test('quick/tiny_catseg.yaml: a small head over vitb_384 with the AHS switches off', () => {
  // Fails if the tiny config stops loading or breaks the head constraints it documents.
  const c = load('quick/tiny_catseg.yaml');
  const h = c.MODEL.SEM_SEG_HEAD;
  assert.equal(h.HIDDEN_DIMS % h.NUM_HEADS, 0);
  assert.ok(h.DECODER_DIMS.every((d) => d >= 16));
  assert.deepEqual(c.DATASETS.TRAIN, []);
  assert.equal(h.USE_ADAPTIVE_ENERGY || h.USE_MULTI_SCALE_FUSION || h.USE_CLASS_AWARE_PROJECTION, false);
});

test('every shipped config survives dump and reload unchanged', () => {
  // Fails if some value cannot be written as YAML and read back with the same type.
  const dir = mkdtempSync(join(tmpdir(), 'ahs-cfg-dump-'));
  try {
    for (const name of ['config.yaml', 'vitb_384.yaml', 'vitb_384_oft.yaml', 'vitl_336.yaml', 'vitb_384_enhanced.yaml', 'vitl_336_enhanced.yaml', 'ablations/vitb_384_full.yaml', 'quick/tiny_catseg.yaml']) {
      const cfg = load(name);
      const out = join(dir, name.replace('/', '_'));
      dumpConfig(cfg, out);
      assert.deepEqual(loadConfig(out).toObject(), cfg.toObject(), name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
