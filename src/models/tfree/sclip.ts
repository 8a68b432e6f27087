// SCLIP (Wang, Mei, Yuille, ECCV'24; github.com/wangf3014/SCLIP @ b56bd30): the last block keeps
// its residual and MLP, only its attention changes to correlative self-attention,
// (softmax(q q^T / sqrt(d)) + softmax(k k^T / sqrt(d))) v, a sum whose rows add up to 2
// (clip/model.py forward(csa=True), custom_attn). No PAMR by default; softmax(40 x).
import { tidy, type Tensor } from '../../tensor/index.js';
import type { CLIP } from '../clip/clip_model.js';
import { promptTemplates } from '../clip/prompts.js';
import type { ResidualAttentionBlock } from '../clip/residual_attention_block.js';
import type { TextEmbedder } from '../clip/text_embedder.js';
import { headProjection, outProjection, similarityAttention } from './custom_attention.js';
import type { LastBlock } from './dense_features.js';
import { MMSEG_CLIP_MEAN, MMSEG_CLIP_STD, type TrainingFreeSettings } from './settings.js';
import { TrainingFreeSegmenter } from './training_free_segmenter.js';

/** CLIPForSegmentation.__init__'s defaults with configs/cfg_context59.py. */
export function sclipDefaults(): TrainingFreeSettings {
  return {
    shortSide: 336, longSide: 2048, crop: 224, stride: 112, logitScale: 40, probThreshold: 0,
    templates: promptTemplates('imagenet'), mean: MMSEG_CLIP_MEAN, std: MMSEG_CLIP_STD,
    renormalize: false, pamr: null,
    synonymSeparator: ', ', padWindowsToPatch: false, wholeUpsample: 'original', windowBatch: 8,
  };
}

/** x + out_proj((softmax(q q^T d^-0.5) + softmax(k k^T d^-0.5)) v) of ln_1(x), then x + mlp(ln_2(x)). */
export class CorrelativeSelfAttention implements LastBlock {
  forward(block: ResidualAttentionBlock, x: Tensor): Tensor {
    return tidy(() => {
      const h = block.ln_1.forward(x);
      const [q, k, v] = (['q', 'k', 'v'] as const).map((w) => headProjection(block.attn, h, w)) as [Tensor, Tensor, Tensor];
      const y = x.add(outProjection(block.attn, similarityAttention(q, q, v).add(similarityAttention(k, k, v))));
      return y.add(block.mlp.forward(block.ln_2.forward(y)));
    });
  }
}

export function sclip(clip: CLIP, text: TextEmbedder, settings: Partial<TrainingFreeSettings> = {}): TrainingFreeSegmenter {
  return new TrainingFreeSegmenter('SCLIP', clip, text, new CorrelativeSelfAttention(), { ...sclipDefaults(), ...settings });
}
