// CAT-Seg's released checkpoints (model_base.pth: torch.save of {"model": OrderedDict} from
// detectron2) load without renaming. The fixture is a tiny checkpoint in that layout whose names
// come from the reference (tests/fixtures/catseg/make_checkpoint.py), not from ahs-seg.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.js';
import { buildCatSeg } from '../../../src/models/catseg/build.js';
import { loadCatSegCheckpoint } from '../../../src/models/catseg/checkpoint.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const ckpt = join(root, 'tests/fixtures/catseg/catseg_tiny_model.pth');
const expected = JSON.parse(readFileSync(join(root, 'tests/fixtures/catseg/catseg_tiny_model.expected.json'), 'utf8')) as {
  keys: number; head_config: Record<string, number | number[]>; sums: Record<string, number>;
};
let dir: string;
let config: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-ckpt-'));
  const h = expected.head_config;
  config = join(dir, 'tiny.yaml');
  // The head's sizes as the checkpoint was made; CLIP's sizes are read from the checkpoint itself.
  writeFileSync(config, [
    `_BASE_: ${join(root, 'configs/vitb_384.yaml')}`, 'MODEL:', '  SEM_SEG_HEAD:',
    `    CLIP_PRETRAINED: "${ckpt}"`,
    `    TEXT_GUIDANCE_DIM: ${h.text_guidance_dim}`, `    TEXT_GUIDANCE_PROJ_DIM: ${h.text_guidance_proj_dim}`,
    `    APPEARANCE_GUIDANCE_DIM: ${h.appearance_guidance_dim}`, `    APPEARANCE_GUIDANCE_PROJ_DIM: ${h.appearance_guidance_proj_dim}`,
    `    DECODER_DIMS: ${JSON.stringify(h.decoder_dims)}`, `    DECODER_GUIDANCE_DIMS: ${JSON.stringify(h.decoder_guidance_dims)}`,
    `    DECODER_GUIDANCE_PROJ_DIMS: ${JSON.stringify(h.decoder_guidance_proj_dims)}`,
    `    HIDDEN_DIMS: ${h.hidden_dims}`, `    NUM_HEADS: ${h.num_heads}`, `    NUM_LAYERS: ${h.num_layers}`, '',
  ].join('\n'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

// Wrong here: a parameter of ours is named differently from CAT-Seg's module tree (the public
// model_base.pth would then not load), or values are read from the wrong tensors.
test('a torch.save {"model": ...} checkpoint in CAT-Seg layout loads with zero missing or unexpected keys', () => {
  const model = buildCatSeg(loadConfig(config));
  const report = loadCatSegCheckpoint(model, ckpt, { strict: true });
  assert.deepEqual([report.missing, report.unexpected, report.mismatched], [[], [], []]);
  assert.equal(model.stateDict().size, expected.keys, 'every key of the checkpoint is a key of the model');
  const sd = model.stateDict();
  for (const [k, sum] of Object.entries(expected.sums)) {
    const got = sd.get(k)!.sum().item();
    assert.ok(Math.abs(got - sum) < 1e-3 * Math.max(1, Math.abs(sum)), `${k}: sum ${got} != ${sum}`);
  }
  model.dispose();
});

// Wrong here: a checkpoint for another model size would load silently or with an unclear error.
test('a mismatched checkpoint fails strictly with every difference listed', () => {
  const model = buildCatSeg(loadConfig(config, ['MODEL.SEM_SEG_HEAD.HIDDEN_DIMS', '64']));
  assert.throws(() => loadCatSegCheckpoint(model, ckpt, { strict: true }), (e: Error) =>
    /shape mismatch for sem_seg_head\.predictor\.transformer\.conv1\.weight: model \[64,1,7,7\], .*catseg_tiny_model\.pth \[32,1,7,7\]/.test(e.message));
  model.dispose();
});
