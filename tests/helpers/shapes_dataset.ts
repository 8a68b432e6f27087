// A synthetic custom dataset (images/, labels/, classes.json) of distinct coloured shapes on a
// textured background, for training tests: learnable from colour and shape in a few dozen steps.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeLabelPng } from '../../src/data/label_io.js';
import { saveTensors } from '../../src/io/tensor_io.js';
import { CLIP, type ClipConfig } from '../../src/models/clip/clip_model.js';
import { manualSeed } from '../../src/tensor/index.js';

export const SHAPE_CLASSES = ['grey background', 'red box', 'green disc'];

function rand(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

/** Writes `n` images of w x h (default 160 x 128) with a red box and a green disc each (class 1, 2) over class 0, with
 * a 2-pixel ignore (255) rim around every shape. */
export async function writeShapesDataset(dir: string, n: number, w = 160, h = 128, seed = 1): Promise<string> {
  mkdirSync(join(dir, 'images'), { recursive: true });
  mkdirSync(join(dir, 'labels'), { recursive: true });
  writeFileSync(join(dir, 'classes.json'), JSON.stringify(SHAPE_CLASSES));
  const r = rand(seed);
  for (let k = 0; k < n; k++) {
    const rgb = new Uint8Array(w * h * 3);
    const lab = new Uint8Array(w * h);
    const bx = Math.floor(r() * (w / 2)), by = Math.floor(r() * (h / 2)), bw = 32 + Math.floor(r() * 32), bh = 32 + Math.floor(r() * 24);
    const cx = w / 2 + r() * (w / 2 - 24), cy = h / 2 + r() * (h / 2 - 24), rad = 18 + r() * 12;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const noise = Math.floor(r() * 24);
      let c = [110 + noise, 110 + noise, 110 + noise], l = 0;
      const inBox = x >= bx && x < bx + bw && y >= by && y < by + bh;
      const d = Math.hypot(x - cx, y - cy);
      if (inBox) { c = [200 + noise / 2, 30, 30]; l = 1; }
      if (d < rad) { c = [30, 190 + noise / 2, 40]; l = 2; }
      const rim = (d >= rad && d < rad + 2) || (!inBox && x >= bx - 2 && x < bx + bw + 2 && y >= by - 2 && y < by + bh + 2);
      rgb.set(c, i * 3);
      lab[i] = rim && l === 0 ? 255 : l;
    }
    const key = `shape_${String(k).padStart(3, '0')}`;
    await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(dir, 'images', `${key}.png`));
    await writeLabelPng(join(dir, 'labels', `${key}.png`), lab, w, h);
  }
  return dir;
}

export const TINY_CLIP_64: ClipConfig = {
  embedDim: 32, imageResolution: 128, visionLayers: 3, visionWidth: 64, visionPatchSize: 16, visionHeads: 1,
  contextLength: 77, vocabSize: 49408, transformerWidth: 64, transformerHeads: 1, transformerLayers: 2,
};

/** Random tiny CLIP weights in OpenAI's names (what CLIP_PRETRAINED may point at). */
export function writeTinyClip(path: string, seed = 11, config: ClipConfig = TINY_CLIP_64): string {
  manualSeed(seed);
  const clip = new CLIP(config);
  saveTensors(path, clip.stateDict());
  clip.dispose();
  return path;
}

/** A config for a tiny CAT-Seg trained on `data` at 128x128 crops (the recipe's keys, tiny sizes). */
export function tinyTrainConfig(repoRoot: string, o: { clip: string; data: string; out: string; extra?: string[] }): string {
  return [
    `_BASE_: ${join(repoRoot, 'configs/vitb_384.yaml')}`,
    'MODEL:',
    '  DEVICE: cpu',
    '  SEM_SEG_HEAD:',
    `    CLIP_PRETRAINED: "${o.clip}"`,
    '    TRAIN_CLASS_JSON: ""', '    TEST_CLASS_JSON: ""',
    '    TEXT_GUIDANCE_DIM: 32', '    TEXT_GUIDANCE_PROJ_DIM: 8', '    APPEARANCE_GUIDANCE_DIM: 32', '    APPEARANCE_GUIDANCE_PROJ_DIM: 8',
    '    DECODER_DIMS: [16, 16]', '    DECODER_GUIDANCE_DIMS: [16, 8]', '    DECODER_GUIDANCE_PROJ_DIMS: [4, 4]',
    '    NUM_LAYERS: 1', '    NUM_HEADS: 2', '    HIDDEN_DIMS: 16', '    FEATURE_RESOLUTION: [8, 8]', '    WINDOW_SIZES: 4', '    CLASS_PAD_LEN: 8',
    'INPUT:',
    '  MIN_SIZE_TRAIN: (128,)', '  MAX_SIZE_TRAIN: 512', '  MIN_SIZE_TEST: 128', '  MAX_SIZE_TEST: 512', '  SIZE_DIVISIBILITY: 128',
    '  CROP:', '    ENABLED: True', '    TYPE: "absolute"', '    SIZE: (128, 128)', '    SINGLE_CATEGORY_MAX_AREA: 1.0',
    'DATASETS:', `  TRAIN: ("${o.data}",)`, `  TEST: ("${o.data}",)`,
    // Random CLIP weights give the class names no meaning: CLIP itself must learn to tell them
    // apart, so it trains at the head's rate here (the recipe's 0.01 is for pretrained CLIP).
    'SOLVER:', '  IMS_PER_BATCH: 2', '  BASE_LR: 0.005', '  CLIP_MULTIPLIER: 1.0', '  LOG_PERIOD: 1',
    'TEST:', '  EVAL_PERIOD: 0',
    'DATALOADER:', '  NUM_WORKERS: 0',
    'SEED: 7',
    `OUTPUT_DIR: "${o.out}"`,
    ...(o.extra ?? []),
    '',
  ].join('\n');
}
