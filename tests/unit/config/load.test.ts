// loadConfig / dumpConfig: _BASE_ chains, overrides, errors that name files and keys.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig, dumpConfig, loadConfig, readConfigChain } from '../../../src/config/index.js';
import { AhsError } from '../../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ahs-cfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to `dir/name` and returns the full path. */
function file(name: string, text: string): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

function throwsAhs(fn: () => unknown, code: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof AhsError, `expected AhsError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

// base <- mid (in a sub-folder, relative _BASE_) <- leaf
file('base.yaml', 'SOLVER:\n  MAX_ITER: 100\n  BASE_LR: 0.1\nOUTPUT_DIR: base_out\nINPUT:\n  MIN_SIZE_TRAIN: (512, )\n');
file('sub/mid.yaml', '_BASE_: ../base.yaml\nSOLVER:\n  MAX_ITER: 200\n');
const leaf = file('sub/leaf.yaml', '_BASE_: mid.yaml\nSOLVER:\n  BASE_LR: 0.3\n');

test('_BASE_ chain: later files win per key, untouched keys come from bases or defaults', () => {
  // Fails if a base overwrote its child, a relative _BASE_ were resolved against cwd, or
  // sections were replaced wholesale instead of merged key by key.
  const cfg = loadConfig(leaf);
  assert.equal(cfg.SOLVER.MAX_ITER, 200); // mid over base
  assert.equal(cfg.SOLVER.BASE_LR, 0.3); // leaf over base
  assert.equal(cfg.OUTPUT_DIR, 'base_out'); // base only
  assert.deepEqual(cfg.INPUT.MIN_SIZE_TRAIN, [512]); // tuple string -> list
  assert.equal(cfg.SOLVER.IMS_PER_BATCH, defaultConfig().SOLVER.IMS_PER_BATCH); // default
  assert.deepEqual(readConfigChain(leaf).map((l) => l.path), [join(dir, 'base.yaml'), join(dir, 'sub/mid.yaml'), leaf]);
});

test('overrides apply after all files and the result is frozen', () => {
  // Fails if overrides are applied before the files (file would win) or the config stays mutable.
  const cfg = loadConfig(leaf, ['SOLVER.MAX_ITER', '1000', 'OUTPUT_DIR', 'out/x']);
  assert.equal(cfg.SOLVER.MAX_ITER, 1000);
  assert.equal(cfg.OUTPUT_DIR, 'out/x');
  assert.ok(cfg.isFrozen());
  throwsAhs(() => cfg.set('SEED', 1), 'AHS_ERR_CONFIG_VALUE', /frozen/);
});

test('a tuple override becomes a list', () => {
  // Fails if `(384, )` is taken as the string "(384, )" (type error) or as 384.
  const cfg = loadConfig(leaf, ['INPUT.MIN_SIZE_TRAIN', '(384, )', 'DATASETS.TEST', '("ade20k_150_test_sem_seg",)']);
  assert.deepEqual(cfg.INPUT.MIN_SIZE_TRAIN, [384]);
  assert.deepEqual(cfg.DATASETS.TEST, ['ade20k_150_test_sem_seg']);
});

test('an unknown key in a file names the key, the file and the nearest key', () => {
  // Fails if the typo is ignored, the wrong file is blamed, or the suggestion is missing.
  const bad = file('typo.yaml', `_BASE_: base.yaml\nSOLVER:\n  MAX_ITERS: 5\n`);
  throwsAhs(() => loadConfig(bad), 'AHS_ERR_CONFIG_KEY',
    `Unknown config key 'SOLVER.MAX_ITERS' in ${bad}; did you mean 'SOLVER.MAX_ITER'?`);
});

test('an unknown override key names the source and the nearest key', () => {
  // Fails if override typos are ignored.
  throwsAhs(() => loadConfig(leaf, ['MODEL.NUM_LAYERS', '3']), 'AHS_ERR_CONFIG_KEY',
    `Unknown config key 'MODEL.NUM_LAYERS' in command-line overrides; did you mean 'MODEL.SEM_SEG_HEAD.NUM_LAYERS'?`);
});

test('a type change names the key, the file, the expected type and the value', () => {
  // Fails if a wrong type is coerced or the error blames the base instead of the file at fault.
  const bad = file('type.yaml', '_BASE_: base.yaml\nSOLVER:\n  MAX_ITER: lots\n');
  throwsAhs(() => loadConfig(bad), 'AHS_ERR_CONFIG_TYPE',
    `Config key 'SOLVER.MAX_ITER' in ${bad} expects int, got "lots" (string)`);
});

test('enumerated values name the allowed values', () => {
  // Fails if an unsupported schedule or fine-tuning mode is accepted.
  throwsAhs(() => loadConfig(leaf, ['SOLVER.LR_SCHEDULER_NAME', 'StepLR']), 'AHS_ERR_CONFIG_VALUE',
    `Config key 'SOLVER.LR_SCHEDULER_NAME' in command-line overrides must be one of "WarmupMultiStepLR", "WarmupCosineLR", "WarmupPolyLR"; got "StepLR" (string)`);
  throwsAhs(() => loadConfig(leaf, ['MODEL.SEM_SEG_HEAD.CLIP_FINETUNE', 'lora']), 'AHS_ERR_CONFIG_VALUE',
    `Config key 'MODEL.SEM_SEG_HEAD.CLIP_FINETUNE' in command-line overrides must be one of "attention", "full", "oft_both", "none"; got "lora" (string)`);
});

test('an odd number of override tokens is an error', () => {
  // Fails if a trailing key without a value is dropped silently.
  throwsAhs(() => loadConfig(leaf, ['SOLVER.MAX_ITER']), 'AHS_ERR_INVALID_ARGUMENT',
    `Config overrides must be KEY VALUE pairs, got 1 token(s); 'SOLVER.MAX_ITER' has no value`);
});

test('a _BASE_ cycle is reported with the whole chain', () => {
  // Fails if the loader recurses forever or the message does not show the loop.
  const a = file('cyc/a.yaml', '_BASE_: b.yaml\n');
  file('cyc/b.yaml', '_BASE_: a.yaml\n');
  throwsAhs(() => loadConfig(a), 'AHS_ERR_CONFIG_VALUE',
    `Cycle in _BASE_ chain: ${a} -> ${join(dir, 'cyc/b.yaml')} -> ${a}`);
  const self = file('cyc/self.yaml', '_BASE_: ./self.yaml\n');
  throwsAhs(() => loadConfig(self), 'AHS_ERR_CONFIG_VALUE', /^Cycle in _BASE_ chain: .*self\.yaml -> .*self\.yaml$/);
});

test('a missing _BASE_ names both the missing file and the file that refers to it', () => {
  // Fails if only one of the two paths is in the message.
  const child = file('orphan.yaml', '_BASE_: nowhere/missing.yaml\n');
  throwsAhs(() => loadConfig(child), 'AHS_ERR_FILE_NOT_FOUND',
    `Config file ${join(dir, 'nowhere/missing.yaml')} not found (_BASE_ 'nowhere/missing.yaml' of ${child})`);
  throwsAhs(() => loadConfig(join(dir, 'absent.yaml')), 'AHS_ERR_FILE_NOT_FOUND',
    `Config file ${join(dir, 'absent.yaml')} not found`);
});

test('broken YAML and non-mapping files are format errors naming the file', () => {
  // Fails if a parse error escapes as a raw YAMLParseError or a list is merged as a config.
  const broken = file('broken.yaml', 'SOLVER:\n  MAX_ITER: [1, 2\n');
  throwsAhs(() => loadConfig(broken), 'AHS_ERR_FILE_FORMAT', new RegExp(`^Cannot parse YAML in ${broken}: `));
  const list = file('list.yaml', '- 1\n- 2\n');
  throwsAhs(() => loadConfig(list), 'AHS_ERR_FILE_FORMAT',
    `Config file ${list} must hold a YAML mapping at the top level, got a list`);
});

test('dumpConfig writes YAML atomically that reloads to an equal config', () => {
  // Fails if the dump is not loadable, loses a value, or leaves a temp file behind.
  const cfg = loadConfig(leaf, ['DATASETS.TRAIN', '("coco_2017_train_stuff_all_sem_seg",)', 'MODEL.WEIGHTS', '']);
  const out = join(dir, 'run/out/config.yaml');
  dumpConfig(cfg, out);
  assert.deepEqual(loadConfig(out).toObject(), cfg.toObject());
  assert.deepEqual(readdirSync(join(dir, 'run/out')), ['config.yaml']);
});
