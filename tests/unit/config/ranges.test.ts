// Number keys with a range in the schema: a size, count or weight outside it is refused when the
// file or override is merged, naming the key, the file and the range, before any module sees it;
// and a relative config path that names a shipped file is found from any working directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { defaultConfig, loadConfig, SCHEMA, type Spec } from '../../../src/config/index.js';
import { DOCS_PATH } from '../../../tools/gen_config_docs.js';
import { PACKAGE_ROOT, resolveShippedPath } from '../../../src/package_paths.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const dir = mkdtempSync(join(tmpdir(), 'ahs-ranges-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Wrong here: HIDDEN_DIMS 1e9 reached the allocator; NUM_LAYERS -1 was reported by module name.
test('an out-of-range value in a file names the key, the file and the range', () => {
  const p = join(dir, 'bad.yaml');
  writeFileSync(p, 'MODEL:\n  SEM_SEG_HEAD:\n    NUM_LAYERS: -1\n');
  assert.throws(() => loadConfig(p), isAhsError('AHS_ERR_CONFIG_VALUE', `Config key 'MODEL.SEM_SEG_HEAD.NUM_LAYERS' in ${p} must be from 1 to 64, got -1 (number)`));
  assert.throws(() => loadConfig(p.replace('bad', 'none'), []), isAhsError('AHS_ERR_FILE_NOT_FOUND', /not found/));
});

test('overrides, list items, floats and non-finite values are range checked too', () => {
  const cfg = defaultConfig();
  assert.throws(() => cfg.mergeFromList(['MODEL.SEM_SEG_HEAD.HIDDEN_DIMS', '1000000000']),
    isAhsError('AHS_ERR_CONFIG_VALUE', "Config key 'MODEL.SEM_SEG_HEAD.HIDDEN_DIMS' in command-line overrides must be from 1 to 8192, got 1000000000 (number)"));
  assert.throws(() => cfg.mergeFromList(['MODEL.SEM_SEG_HEAD.POOLING_SIZES', '[2, 0]']),
    isAhsError('AHS_ERR_CONFIG_VALUE', "Config key 'MODEL.SEM_SEG_HEAD.POOLING_SIZES' in command-line overrides takes items from 1 to 64; item 1 is 0 (number)"));
  assert.throws(() => cfg.mergeFromList(['TEST.SLIDING_WINDOW_OVERLAP', '1.5']), isAhsError('AHS_ERR_CONFIG_VALUE', /must be from 0 to 0\.95, got 1\.5/));
  const inf = join(dir, 'inf.yaml');
  writeFileSync(inf, 'SOLVER:\n  BASE_LR: .inf\n');
  assert.throws(() => loadConfig(inf), isAhsError('AHS_ERR_CONFIG_VALUE', /'SOLVER\.BASE_LR' in .*inf\.yaml must be >= 0, got Infinity \(number\)$/));
  cfg.mergeFromList(['MODEL.SEM_SEG_HEAD.HIDDEN_DIMS', '256', 'SOLVER.BASE_LR', '0']); // in range: accepted
  assert.equal(cfg.MODEL.SEM_SEG_HEAD.HIDDEN_DIMS, 256);
});

function* leaves(spec: Spec, path: string): Generator<[string, Extract<Spec, { kind: 'leaf' }>]> {
  if (spec.kind === 'leaf') yield [path, spec];
  else for (const [k, child] of Object.entries(spec.children)) yield* leaves(child, path ? `${path}.${k}` : k);
}

// Wrong here: a default outside its own range (every config would fail), or a model width, layer
// count or size key without a range.
test('every default lies in its range, and the size keys of the model have one', () => {
  const ranged = new Map<string, { min?: number; max?: number }>();
  for (const [key, leaf] of leaves(SCHEMA, '')) {
    if (leaf.min === undefined && leaf.max === undefined) continue;
    ranged.set(key, leaf);
    for (const v of Array.isArray(leaf.default) ? leaf.default as number[] : [leaf.default as number]) {
      assert.ok((leaf.min ?? -Infinity) <= v && v <= (leaf.max ?? Infinity), `${key} default ${v}`);
    }
  }
  for (const k of ['HIDDEN_DIMS', 'NUM_LAYERS', 'NUM_HEADS', 'TEXT_GUIDANCE_DIM', 'APPEARANCE_GUIDANCE_DIM', 'DECODER_DIMS', 'FEATURE_RESOLUTION', 'WINDOW_SIZES', 'POOLING_SIZES']) {
    assert.ok(ranged.has(`MODEL.SEM_SEG_HEAD.${k}`), `MODEL.SEM_SEG_HEAD.${k} needs a range`);
  }
  assert.match(readFileSync(DOCS_PATH, 'utf8'), /\| `MODEL\.SEM_SEG_HEAD\.HIDDEN_DIMS` \| int, from 1 to 8192 \|/, 'docs show the range');
});

// Wrong here: `ahs-seg segment --weights w.pth` run outside the repository cannot find its default.
test('a relative shipped config path resolves against the package when missing here', () => {
  const away = process.cwd();
  process.chdir(dir);
  try {
    assert.equal(resolveShippedPath('configs/vitb_384.yaml'), join(PACKAGE_ROOT, 'configs/vitb_384.yaml'));
    assert.equal(loadConfig('configs/vitb_384.yaml').MODEL.SEM_SEG_HEAD.NUM_LAYERS, 2);
    writeFileSync(join(dir, 'local.yaml'), 'SEED: 5\n');
    assert.equal(resolveShippedPath('local.yaml'), 'local.yaml', 'a file here is used as given');
    assert.equal(resolveShippedPath('configs/nope.yaml'), 'configs/nope.yaml', 'a missing path stays as given, for its error');
  } finally {
    process.chdir(away);
  }
});
