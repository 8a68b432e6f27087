// Nearest-key suggestions for unknown config keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { levenshtein, nearestKey } from '../../../src/config/suggest.js';

const KEYS = ['SOLVER', 'SOLVER.MAX_ITER', 'SOLVER.BASE_LR', 'MODEL', 'MODEL.SEM_SEG_HEAD', 'MODEL.SEM_SEG_HEAD.NUM_LAYERS', 'INPUT.CROP.SIZE'];

test('levenshtein counts single-character edits', () => {
  // Fails if insertions, deletions or substitutions are miscounted.
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(levenshtein('', 'abc'), 3);
  assert.equal(levenshtein('MAX_ITER', 'MAX_ITER'), 0);
});

test('a typo in the full key suggests the key', () => {
  // Fails if full-key distance is not used.
  assert.equal(nearestKey('SOLVER.MAX_ITERS', KEYS), 'SOLVER.MAX_ITER');
  assert.equal(nearestKey('MODEL.SEM_SEG_HEADS.NUM_LAYERS', KEYS), 'MODEL.SEM_SEG_HEAD.NUM_LAYERS');
});

test('the right name under the wrong section suggests it by its last segment', () => {
  // Fails if only the full dotted key is compared (distance 13 there).
  assert.equal(nearestKey('MODEL.NUM_LAYERS', KEYS), 'MODEL.SEM_SEG_HEAD.NUM_LAYERS');
  assert.equal(nearestKey('INPUT.SIZE', KEYS), 'INPUT.CROP.SIZE');
});

test('case is ignored; unrelated keys get no suggestion', () => {
  // Fails if comparison is case-sensitive, or if far-away keys are suggested.
  assert.equal(nearestKey('solver.base_lr', KEYS), 'SOLVER.BASE_LR');
  assert.equal(nearestKey('FOO.QUUX_BAZ', KEYS), undefined);
});
