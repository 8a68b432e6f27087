// CfgNode: typed keys, schema-checked writes, freeze and clone, independent of the real schema.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import YAML from 'yaml';
import { CfgNode, YAML_VERSION } from '../../../src/config/cfg_node.js';
import { bool, float, int, ints, oneOf, section, str, strs } from '../../../src/config/schema.js';
import { AhsError } from '../../../src/errors.js';

const TOY = section('toy', {
  NAME: str('a', 'name'),
  SOLVER: section('solver', {
    MAX_ITER: int(10, 'iters'),
    BASE_LR: float(0.5, 'lr'),
    AMP: bool(false, 'amp'),
    SCHED: oneOf(['cos', 'poly'], 'cos', 'schedule'),
  }),
  INPUT: section('input', {
    SIZES: ints([800], 'sizes'),
    CROP: ints([9, 9], 'crop', 2),
    DATASETS: strs([], 'datasets'),
  }),
});
const toy = () => CfgNode.fromSchema(TOY);

/** Asserts `fn` throws an AhsError with this code and exact message. */
function throwsAhs(fn: () => unknown, code: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AhsError, `expected AhsError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

test('a new node holds the schema defaults, reachable as typed properties and by dotted key', () => {
  // Fails if defaults are not copied from the schema or get() does not walk sections.
  const cfg = toy();
  assert.equal(cfg.SOLVER.MAX_ITER, 10);
  assert.deepEqual(cfg.INPUT.SIZES, [800]);
  assert.equal(cfg.get('SOLVER.SCHED'), 'cos');
  assert.equal(cfg.SOLVER.get('BASE_LR'), 0.5);
  assert.equal(cfg.SOLVER.path, 'SOLVER');
});

test('set() checks the type and names the full key, the expected type and the value', () => {
  // Fails if a string or a fraction is accepted for an int key, or the message loses the key path.
  const cfg = toy();
  throwsAhs(() => cfg.set('SOLVER.MAX_ITER', 'abc', 'x.yaml'), 'AHS_ERR_CONFIG_TYPE',
    `Config key 'SOLVER.MAX_ITER' in x.yaml expects int, got "abc" (string)`);
  throwsAhs(() => cfg.set('SOLVER.MAX_ITER', 1.5), 'AHS_ERR_CONFIG_TYPE',
    `Config key 'SOLVER.MAX_ITER' expects int, got 1.5 (number)`);
  throwsAhs(() => cfg.set('INPUT.SIZES', 384), 'AHS_ERR_CONFIG_TYPE',
    `Config key 'INPUT.SIZES' expects list of int, got 384 (number)`);
  throwsAhs(() => cfg.set('SOLVER.AMP', 'yes'), 'AHS_ERR_CONFIG_TYPE',
    `Config key 'SOLVER.AMP' expects bool, got "yes" (string)`);
});

test('an int is accepted for a float key (detectron2 int -> float)', () => {
  // Fails if float keys demand a fractional part.
  const cfg = toy();
  cfg.SOLVER.BASE_LR = 1;
  assert.equal(cfg.SOLVER.BASE_LR, 1);
});

test('enumerated keys list the allowed values', () => {
  // Fails if choices are not enforced or the message does not list them.
  throwsAhs(() => toy().set('SOLVER.SCHED', 'step', 'x.yaml'), 'AHS_ERR_CONFIG_VALUE',
    `Config key 'SOLVER.SCHED' in x.yaml must be one of "cos", "poly"; got "step" (string)`);
});

test('fixed-length lists reject other lengths', () => {
  // Fails if `length` is ignored.
  throwsAhs(() => toy().set('INPUT.CROP', [1, 2, 3]), 'AHS_ERR_CONFIG_VALUE',
    `Config key 'INPUT.CROP' expects 2 items, got 3: [1,2,3] (list)`);
});

test('merge() decodes Python literals in strings (tuples become lists) and keeps plain text', () => {
  // Fails if `(384, )` from YAML stays a string, or a path is mangled by the literal decoder.
  const cfg = toy();
  cfg.merge({ NAME: 'out/x', INPUT: { SIZES: '(384, )', CROP: '(3, 4)', DATASETS: '("a", "b")' } }, 'x.yaml');
  assert.deepEqual(cfg.INPUT.SIZES, [384]);
  assert.deepEqual(cfg.INPUT.CROP, [3, 4]);
  assert.deepEqual(cfg.INPUT.DATASETS, ['a', 'b']);
  assert.equal(cfg.NAME, 'out/x');
});

test('a string key keeps digit-only text and unquotes a quoted literal', () => {
  // Fails if the decoder turns '123' into a number (then a type error) or leaves quotes in.
  const cfg = toy();
  cfg.mergeFromList(['NAME', '123']);
  assert.equal(cfg.NAME, '123');
  cfg.mergeFromList(['NAME', '"quoted"']);
  assert.equal(cfg.NAME, 'quoted');
});

test('merge() rejects unknown keys with the nearest valid key and the source', () => {
  // Fails if unknown keys are ignored, or the suggestion/source is missing from the message.
  throwsAhs(() => toy().merge({ SOLVER: { MAX_ITERS: 5 } }, 'configs/x.yaml'), 'AHS_ERR_CONFIG_KEY',
    `Unknown config key 'SOLVER.MAX_ITERS' in configs/x.yaml; did you mean 'SOLVER.MAX_ITER'?`);
  throwsAhs(() => toy().merge({ ZZZZZZ: 1 }, 'configs/x.yaml'), 'AHS_ERR_CONFIG_KEY',
    `Unknown config key 'ZZZZZZ' in configs/x.yaml`);
});

test('a section given a scalar, or a leaf given a mapping, is a type error', () => {
  // Fails if a scalar silently replaces a section.
  throwsAhs(() => toy().merge({ SOLVER: 5 }, 'x.yaml'), 'AHS_ERR_CONFIG_TYPE',
    `Config key 'SOLVER' in x.yaml is a section and expects a mapping, got 5 (number)`);
  throwsAhs(() => toy().merge({ NAME: { A: 1 } }, 'x.yaml'), 'AHS_ERR_CONFIG_TYPE',
    `Config key 'NAME' in x.yaml expects string, got {"A":1} (object)`);
});

test('mergeFromList() needs KEY VALUE pairs', () => {
  // Fails if an odd token count is accepted (the last key would be dropped silently).
  throwsAhs(() => toy().mergeFromList(['SOLVER.MAX_ITER', '5', 'NAME']), 'AHS_ERR_INVALID_ARGUMENT',
    `Config overrides must be KEY VALUE pairs, got 3 token(s); 'NAME' has no value`);
});

test('a frozen config rejects every write, including nested nodes and lists', () => {
  // Fails if freeze() does not reach sub-nodes or lists stay mutable.
  const cfg = toy().freeze();
  assert.ok(cfg.isFrozen() && cfg.SOLVER.isFrozen());
  throwsAhs(() => cfg.set('SOLVER.MAX_ITER', 5), 'AHS_ERR_CONFIG_VALUE',
    `Cannot set 'SOLVER.MAX_ITER': the config is frozen (clone() it to change a copy)`);
  assert.throws(() => {
    cfg.SOLVER.MAX_ITER = 5;
  }, AhsError);
  assert.throws(() => (cfg.INPUT.SIZES as number[]).push(1), TypeError);
  assert.equal(cfg.SOLVER.MAX_ITER, 10);
});

test('clone() is a deep, mutable copy', () => {
  // Fails if the clone shares nodes with the original or stays frozen.
  const cfg = toy();
  cfg.SOLVER.MAX_ITER = 7;
  cfg.freeze();
  const copy = cfg.clone();
  assert.equal(copy.isFrozen(), false);
  copy.SOLVER.MAX_ITER = 99;
  assert.equal(copy.SOLVER.MAX_ITER, 99);
  assert.equal(cfg.SOLVER.MAX_ITER, 7);
});

test('toYAML() output merges back to an equal config; floats keep a decimal point', () => {
  // Fails if the dump loses keys, changes types on reload, or writes 1 for a float 1.0.
  const cfg = toy();
  cfg.merge({ SOLVER: { BASE_LR: 1, SCHED: 'poly' }, INPUT: { DATASETS: ['x', 'True'] } });
  const text = cfg.toYAML();
  assert.match(text, /BASE_LR: 1\.0\n/);
  const back = toy();
  back.merge(YAML.parse(text, { version: YAML_VERSION }) as Record<string, unknown>, 'dump');
  assert.deepEqual(back.toObject(), cfg.toObject());
});

test('schema keys must be UPPER_SNAKE_CASE (they become properties beside the methods)', () => {
  // Fails if a key like `clone` could shadow a method.
  assert.throws(() => CfgNode.fromSchema(section('bad', { clone: int(1, 'x') })), AhsError);
});
