// The CLIP models CAT-Seg configs name in MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED, with the sizes
// openai/CLIP's build_model reads off their weights, and what CAT-Seg taps for guidance.
import { AhsError } from '../../errors.js';
import type { ClipConfig } from './clip_model.js';

export interface KnownClip {
  config: ClipConfig;
  /** Hub name the weights download from. */
  hubName: string;
  /** CLIP input size CAT-Seg uses (clip_resolution). */
  inputSize: number;
  /** Visual blocks whose outputs guide the decoder (CATSeg.layer_indexes). */
  taps: [number, number];
}

export const KNOWN_CLIPS: Record<string, KnownClip> = {
  'ViT-B/16': {
    config: { embedDim: 512, imageResolution: 224, visionLayers: 12, visionWidth: 768, visionPatchSize: 16, visionHeads: 12, contextLength: 77, vocabSize: 49408, transformerWidth: 512, transformerHeads: 8, transformerLayers: 12 },
    hubName: 'openai/clip-vit-base-patch16', inputSize: 384, taps: [3, 7],
  },
  'ViT-L/14@336px': {
    config: { embedDim: 768, imageResolution: 336, visionLayers: 24, visionWidth: 1024, visionPatchSize: 14, visionHeads: 16, contextLength: 77, vocabSize: 49408, transformerWidth: 768, transformerHeads: 12, transformerLayers: 12 },
    hubName: 'openai/clip-vit-large-patch14-336', inputSize: 336, taps: [7, 15],
  },
};

export function knownClip(name: string): KnownClip {
  const k = KNOWN_CLIPS[name];
  if (!k) throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED '${name}' is not one of ${Object.keys(KNOWN_CLIPS).join(', ')}`);
  return k;
}
