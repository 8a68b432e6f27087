// A randomly initialised CLIP in the Hugging Face layout (model.safetensors and config.json), the
// files a hub repository such as openai/clip-vit-base-patch16 serves: what tests hand to
// startFakeHub (fake_hub.ts) to exercise the real download path.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveTensors } from '../../src/io/tensor_io.js';
import { CLIP, type ClipConfig } from '../../src/models/clip/clip_model.js';
import { openAIToHuggingFace } from '../../src/models/clip/weights.js';
import { dispose, manualSeed } from '../../src/tensor/index.js';

/** ViT-B/16's input size and patch with two narrow blocks per tower. */
export const TINY_CLIP_224: ClipConfig = {
  embedDim: 32, imageResolution: 224, visionLayers: 2, visionWidth: 64, visionPatchSize: 16, visionHeads: 1,
  contextLength: 77, vocabSize: 49408, transformerWidth: 64, transformerHeads: 1, transformerLayers: 2,
};

/** A CLIP of `cfg` drawn after manualSeed(seed), as the hub's two files; `dir/model.safetensors` is
 * written on the way. */
export function randomHfClip(cfg: ClipConfig, seed: number, dir: string): { model: Buffer; config: Buffer } {
  manualSeed(seed);
  const clip = new CLIP(cfg);
  const { tensors, config } = openAIToHuggingFace(clip.stateDict(), cfg);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.safetensors');
  saveTensors(path, tensors);
  dispose([...tensors.values()]);
  clip.dispose();
  return { model: readFileSync(path), config: Buffer.from(JSON.stringify(config)) };
}
