// ClearCLIP (Lan et al., ECCV'24; github.com/mc-lan/ClearCLIP @ ad68a40, model_type 'ClearCLIP',
// ignore_residual True): the output of the last block is its attention alone,
// out_proj(softmax(q q^T / sqrt(d)) v) of ln_1(x): no residual, no MLP
// (open_clip/transformer.py VisionTransformer.forward, custom_attn). 448 crops (a 28 x 28 grid,
// so the positional embedding is interpolated), softmax(50 x), no PAMR.
import type { Tensor } from '../../tensor/index.js';
import type { CLIP } from '../clip/clip_model.js';
import { promptTemplates } from '../clip/prompts.js';
import type { ResidualAttentionBlock } from '../clip/residual_attention_block.js';
import type { TextEmbedder } from '../clip/text_embedder.js';
import { headProjection, outProjection, similarityAttention } from './custom_attention.js';
import type { LastBlock } from './dense_features.js';
import { MMSEG_CLIP_MEAN, MMSEG_CLIP_STD, type TrainingFreeSettings } from './settings.js';
import { TrainingFreeSegmenter } from './training_free_segmenter.js';

/** ClearCLIPSegmentation's defaults with configs/cfg_context59.py. */
export function clearclipDefaults(): TrainingFreeSettings {
  return {
    shortSide: 448, longSide: 2048, crop: 448, stride: 224, logitScale: 50, probThreshold: 0,
    templates: promptTemplates('imagenet'), mean: MMSEG_CLIP_MEAN, std: MMSEG_CLIP_STD,
    renormalize: false, pamr: null,
    // get_cls_idx splits on ',' here (NACLIP and SCLIP: ', ').
    synonymSeparator: ',', padWindowsToPatch: true, wholeUpsample: 'original', windowBatch: 4,
  };
}

/** out_proj(softmax(q q^T d^-0.5) v) of ln_1(x), the block's residual and MLP ignored. */
export class ClearClipAttention implements LastBlock {
  forward(block: ResidualAttentionBlock, x: Tensor): Tensor {
    const h = block.ln_1.forward(x);
    const q = headProjection(block.attn, h, 'q'), v = headProjection(block.attn, h, 'v');
    return outProjection(block.attn, similarityAttention(q, q, v));
  }
}

export function clearclip(clip: CLIP, text: TextEmbedder, settings: Partial<TrainingFreeSettings> = {}): TrainingFreeSegmenter {
  return new TrainingFreeSegmenter('ClearCLIP', clip, text, new ClearClipAttention(), { ...clearclipDefaults(), ...settings });
}
