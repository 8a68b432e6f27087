// The model's size is known from the config before it is built, and a job beyond the memory
// budget fails before anything is allocated, with the number it would need.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.js';
import { buildCatSeg } from '../../../src/models/catseg/build.js';
import { catSegHeadParameterCount, checkCatSegModelFits, clipParameterCount } from '../../../src/engine/model_memory.js';
import { checkMemoryBudget, fmtBytes, memoryLimitBytes } from '../../../src/engine/memory_budget.js';
import { writeTinyClip } from '../../helpers/shapes_dataset.js';
import { isAhsError } from '../../helpers/ahs_error.js';

const repoRoot = join(import.meta.dirname, '../../..');

// Wrong here: the estimate drifted from the model (a new layer, a changed width): the check would
// refuse models that fit, or let through ones that do not.
test('the parameter estimate is within 10% of the built model, for two widths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ahs-mm-'));
  try {
    const clip = writeTinyClip(join(dir, 'clip.safetensors'));
    const cfgPath = join(dir, 'tiny.yaml');
    writeFileSync(cfgPath, [`_BASE_: ${join(repoRoot, 'configs/vitb_384.yaml')}`, 'MODEL:', '  SEM_SEG_HEAD:', `    CLIP_PRETRAINED: "${clip}"`,
      '    TEXT_GUIDANCE_DIM: 32', '    APPEARANCE_GUIDANCE_DIM: 32', ''].join('\n'));
    for (const o of [[], ['MODEL.SEM_SEG_HEAD.HIDDEN_DIMS', '192', 'MODEL.SEM_SEG_HEAD.NUM_LAYERS', '3']]) {
      const cfg = loadConfig(cfgPath, o);
      const model = buildCatSeg(cfg);
      let clipN = 0, head = 0;
      for (const [n, t] of model.namedParameters()) (n.includes('clip_model.') ? (clipN += t.numel) : (head += t.numel));
      const estHead = catSegHeadParameterCount(cfg, model.clip.cfg.visionWidth);
      const estClip = clipParameterCount(model.clip.cfg);
      model.dispose();
      assert.ok(Math.abs(estHead - head) / head < 0.1, `head ${o.join(' ')}: estimate ${estHead}, built ${head}`);
      assert.ok(Math.abs(estClip - clipN) / clipN < 0.1, `CLIP: estimate ${estClip}, built ${clipN}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Wrong here: HIDDEN_DIMS 8192 x 64 layers initialises for minutes before running out of memory.
test('a config whose model exceeds the budget fails with its size, the keys and the fix', () => {
  const cfg = loadConfig(join(repoRoot, 'configs/vitb_384.yaml'), ['MODEL.SEM_SEG_HEAD.HIDDEN_DIMS', '8192', 'MODEL.SEM_SEG_HEAD.NUM_LAYERS', '16']);
  assert.throws(() => checkCatSegModelFits(cfg, 'big.yaml', 64 * 2 ** 30),
    isAhsError('AHS_ERR_TOO_LARGE', /^the model of big\.yaml \(MODEL\.SEM_SEG_HEAD\.HIDDEN_DIMS 8192, NUM_LAYERS 16, CLIP ViT-B\/16\) needs about 1[0-9]{2}\.\d GB, more than the 64\.0 GB of this machine's memory; lower HIDDEN_DIMS or NUM_LAYERS/));
  checkCatSegModelFits(loadConfig(join(repoRoot, 'configs/vitb_384.yaml')), 'vitb_384.yaml', 2 * 2 ** 30); // CAT-Seg B fits in 2 GB
});

// Wrong here: a typo in the limit silently means "no limit", or sizes print unreadably.
test('AHS_SEG_MEMORY_LIMIT parsing and byte formatting', () => {
  assert.equal(memoryLimitBytes({ AHS_SEG_MEMORY_LIMIT: '8G' }), 8 * 2 ** 30);
  assert.equal(memoryLimitBytes({ AHS_SEG_MEMORY_LIMIT: '512mb' }), 512 * 2 ** 20);
  assert.equal(memoryLimitBytes({ AHS_SEG_MEMORY_LIMIT: '1048576' }), 2 ** 20);
  assert.ok(memoryLimitBytes({}) > 0);
  assert.throws(() => memoryLimitBytes({ AHS_SEG_MEMORY_LIMIT: 'lots' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /AHS_SEG_MEMORY_LIMIT must be a size such as 8G.*got 'lots'/));
  assert.deepEqual([fmtBytes(512), fmtBytes(1536), fmtBytes(3.5 * 2 ** 30)], ['512 B', '1.5 KB', '3.5 GB']);
  checkMemoryBudget(100, 'x', 'y', 100);
  assert.throws(() => checkMemoryBudget(101, 'the job', 'make it smaller', 100), isAhsError('AHS_ERR_TOO_LARGE', /^the job needs about 101 B, more than the 100 B of .*; make it smaller$/));
});
