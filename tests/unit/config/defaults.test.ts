// The schema in src/config/defaults.ts: self-consistent, faithful to the reference defaults, and
// mirrored by the generated docs/config-keys.md.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type Spec, SCHEMA, defaultConfig } from '../../../src/config/index.js';
import { DOCS_PATH, renderConfigDocs } from '../../../tools/gen_config_docs.js';

function* leaves(spec: Spec, path: string): Generator<[string, Extract<Spec, { kind: 'leaf' }>]> {
  if (spec.kind === 'leaf') yield [path, spec];
  else for (const [k, child] of Object.entries(spec.children)) yield* leaves(child, path ? `${path}.${k}` : k);
}

test('every default passes its own type, length and choice checks, and has a doc line', () => {
  // Fails if a declared default could not be written back (e.g. a choice missing from its list).
  const cfg = defaultConfig();
  let n = 0;
  for (const [key, leaf] of leaves(SCHEMA, '')) {
    assert.doesNotThrow(() => cfg.set(key, leaf.default), key);
    assert.ok(leaf.doc.length > 0 && !leaf.doc.includes('\n'), `${key} needs a one-line doc`);
    n++;
  }
  assert.ok(n > 100, `expected the full schema, got ${n} keys`);
});

test('defaults not set by any shipped YAML match detectron2 / cat_seg/config.py', () => {
  // Fails if a reference default was mistyped; these reach training unless a config sets them.
  const c = defaultConfig();
  assert.equal(c.SOLVER.WEIGHT_DECAY_NORM, 0.0); // detectron2
  assert.equal(c.SOLVER.WEIGHT_DECAY_EMBED, 0.0); // cat_seg/config.py
  assert.equal(c.SOLVER.BACKBONE_MULTIPLIER, 0.1); // cat_seg/config.py (configs set 0.0)
  assert.equal(c.SOLVER.CHECKPOINT_PERIOD, 5000);
  assert.equal(c.SOLVER.POLY_LR_POWER, 0.9); // add_deeplab_config
  assert.equal(c.SOLVER.AMP.ENABLED, false);
  assert.equal(c.INPUT.SIZE_DIVISIBILITY, -1);
  assert.equal(c.INPUT.MAX_SIZE_TRAIN, 1333);
  assert.equal(c.INPUT.RANDOM_FLIP, 'horizontal');
  assert.equal(c.MODEL.MASK_FORMER.SIZE_DIVISIBILITY, 32);
  assert.equal(c.MODEL.SEM_SEG_HEAD.CLASS_PAD_LEN, 256); // CAT-Seg's hard-coded pad_len
  assert.equal(c.MODEL.SEM_SEG_HEAD.LOSS_IGNORE_MODE, 'zero_target');
  assert.equal(c.TEST.SLIDING_WINDOW_OVERLAP, 0.333);
  assert.deepEqual(c.TEST.SLIDING_WINDOW_RESOLUTION, [640, 640]);
  assert.equal(c.SEED, -1);
  assert.equal(c.OUTPUT_DIR, './output');
});

test('the AHS components are off by default, with AHS-Seg weights', () => {
  // Fails if a default config silently turns on an AHS component (baseline must be H-CLIP/CAT-Seg).
  const h = defaultConfig().MODEL.SEM_SEG_HEAD;
  assert.deepEqual([h.USE_ADAPTIVE_ENERGY, h.USE_MULTI_SCALE_FUSION, h.USE_CLASS_AWARE_PROJECTION], [false, false, false]);
  assert.deepEqual([h.ENERGY_LOSS_WEIGHT, h.BOUNDARY_LOSS_WEIGHT, h.CONTRASTIVE_LOSS_WEIGHT], [0.01, 0.1, 0.05]);
  assert.deepEqual(h.MS_LAYER_INDICES, [3, 7, 11]);
});

test('docs/config-keys.md is up to date (regenerate: node --import tsx tools/gen_config_docs.ts)', () => {
  // Fails when a key is added or changed in defaults.ts without regenerating the docs.
  assert.equal(readFileSync(DOCS_PATH, 'utf8'), renderConfigDocs());
});
