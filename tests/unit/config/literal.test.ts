// yacs `_decode_cfg_value` subset: what detectron2 YAML and `KEY VALUE` overrides rely on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLiteral } from '../../../src/config/literal.js';

test('numbers, including exponent floats that PyYAML leaves as strings', () => {
  // Fails if the number regex drops signs, exponents or leading-dot floats.
  assert.equal(parseLiteral('1000'), 1000);
  assert.equal(parseLiteral('-1'), -1);
  assert.equal(parseLiteral('1e-4'), 0.0001);
  assert.equal(parseLiteral('.5'), 0.5);
  assert.equal(parseLiteral('2.'), 2);
});

test('tuples become arrays; a parenthesised value without a comma is not a tuple', () => {
  // Fails if `(384, )` is not a one-item list (INPUT.MIN_SIZE_TRAIN) or `(384)` is wrapped.
  assert.deepEqual(parseLiteral('(384, )'), [384]);
  assert.deepEqual(parseLiteral('(384, 384)'), [384, 384]);
  assert.deepEqual(parseLiteral('()'), []);
  assert.equal(parseLiteral('(384)'), 384);
  assert.deepEqual(parseLiteral('("ade20k_150_test_sem_seg",)'), ['ade20k_150_test_sem_seg']);
});

test('lists, nested lists and quoted strings with escapes', () => {
  // Fails if lists or string escapes are parsed wrongly.
  assert.deepEqual(parseLiteral('[1,2]'), [1, 2]);
  assert.deepEqual(parseLiteral('[[1, 2], [3]]'), [[1, 2], [3]]);
  assert.deepEqual(parseLiteral(`['a', "b\\"c"]`), ['a', 'b"c']);
});

test('Python and YAML booleans and null', () => {
  // Fails if True/False/None (yacs) or true/false/null (YAML spelling) are not recognised.
  assert.equal(parseLiteral('True'), true);
  assert.equal(parseLiteral('false'), false);
  assert.equal(parseLiteral('None'), null);
});

test('anything else is not a literal, so the caller keeps the string', () => {
  // Fails if bare words, paths or half-parsed input are accepted as literals.
  for (const s of ['WarmupCosineLR', 'out/x', 'ViT-B/16', '1.5.2', '[1, 2', '(1 2)', "'open", '', '12abc']) {
    assert.equal(parseLiteral(s), undefined, s);
  }
});
