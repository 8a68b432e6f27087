// A tiny CAT-Seg laid out as `ahs-seg train` leaves its OUTPUT_DIR: the merged config.yaml,
// model_final.safetensors and last_checkpoint. Random weights (CLIP TINY_CLIP_64, a 32-wide head
// on the shipped vitb_384.yaml), so the labels mean nothing; what it tests is loading by path.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpConfig, loadConfig } from '../../src/config/index.js';
import { buildCatSeg } from '../../src/models/catseg/build.js';
import { saveTensors } from '../../src/io/tensor_io.js';
import { manualSeed } from '../../src/tensor/index.js';
import { REPO_ROOT } from './cli.js';
import { writeTinyClip } from './shapes_dataset.js';

export interface TinyRun { outputDir: string; config: string; weights: string; clip: string }

export function writeTinyCatSegRun(dir: string, seed = 5): TinyRun {
  mkdirSync(dir, { recursive: true });
  const clip = writeTinyClip(join(dir, 'clip.safetensors'), seed);
  const yaml = join(dir, 'tiny.yaml');
  writeFileSync(yaml, [
    `_BASE_: ${join(REPO_ROOT, 'configs/vitb_384.yaml')}`, 'MODEL:', '  SEM_SEG_HEAD:', `    CLIP_PRETRAINED: "${clip}"`, '    CLIP_FINETUNE: "none"',
    '    TEXT_GUIDANCE_DIM: 32', '    TEXT_GUIDANCE_PROJ_DIM: 16', '    APPEARANCE_GUIDANCE_DIM: 32', '    APPEARANCE_GUIDANCE_PROJ_DIM: 16',
    '    DECODER_DIMS: [32, 16]', '    DECODER_GUIDANCE_DIMS: [32, 16]', '    DECODER_GUIDANCE_PROJ_DIMS: [8, 4]', '    HIDDEN_DIMS: 32', '    NUM_HEADS: 4', '',
  ].join('\n'));
  const outputDir = join(dir, 'run');
  mkdirSync(outputDir, { recursive: true });
  const cfg = loadConfig(yaml);
  const config = join(outputDir, 'config.yaml');
  dumpConfig(cfg, config);
  manualSeed(seed);
  const model = buildCatSeg(cfg);
  const weights = join(outputDir, 'model_final.safetensors');
  saveTensors(weights, model.stateDict());
  model.dispose();
  writeFileSync(join(outputDir, 'last_checkpoint'), 'model_final.safetensors');
  return { outputDir, config, weights, clip };
}
