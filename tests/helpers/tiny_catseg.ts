// A CAT-Seg small enough to train on a CPU in a test: CLIP with 128-wide towers (H-CLIP's OFT block
// size), 3 vision and 2 text blocks, 64 px input (a 4x4 patch grid), and a 1-layer 16-wide head.
import type { AggregatorOptions } from '../../src/models/catseg/aggregator.js';
import type { CatSegOptions } from '../../src/models/catseg/catseg_model.js';
import type { ClipConfig } from '../../src/models/clip/clip_model.js';
import type { ClipFinetuneMode } from '../../src/models/clip/finetune/modes.js';

export const TINY_CLIP_128: ClipConfig = {
  embedDim: 32, imageResolution: 64, visionLayers: 3, visionWidth: 128, visionPatchSize: 16, visionHeads: 2,
  contextLength: 77, vocabSize: 49408, transformerWidth: 128, transformerHeads: 2, transformerLayers: 2,
};

export const TINY_AGGREGATOR: AggregatorOptions = {
  textGuidanceDim: 32, textGuidanceProjDim: 8, appearanceGuidanceDim: 32, appearanceGuidanceProjDim: 8,
  decoderDims: [16, 16], decoderGuidanceDims: [16, 8], decoderGuidanceProjDims: [4, 4],
  numLayers: 1, numHeads: 2, hiddenDim: 16, poolingSize: [2, 2], featureResolution: [4, 4], windowSize: 2,
  attentionType: 'linear', promptChannels: 1, padLen: 8,
};

export function tinyCatSegOptions(finetune: ClipFinetuneMode): CatSegOptions {
  return {
    clip: TINY_CLIP_128, aggregator: TINY_AGGREGATOR, taps: [0, 1], clipInputSize: 64, finetune,
    templates: ['A photo of a {} in the scene'], trainPooling: [2, 2], testPooling: [2, 2], sizeDivisibility: 32,
  };
}
