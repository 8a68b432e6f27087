// NACLIP (Hajimiri, Ben Ayed, Dolz, WACV'25; github.com/sinahmr/NACLIP @ 0cac3a6): CLIP's last
// block reduced to its attention, no residual and no MLP (arch 'reduced'), with the attention
// softmax(k k^T / sqrt(d) + Omega) v: key-key similarity plus a Gaussian neighbourhood prior over
// the patch grid (attn_strategy 'naclip', clip/model.py custom_attn). Then PAMR (10 steps,
// dilations 8 and 16) guided by the image, softmax(40 x) and one more renormalisation.
import { keep, type Tensor } from '../../tensor/index.js';
import type { CLIP } from '../clip/clip_model.js';
import { promptTemplates } from '../clip/prompts.js';
import type { ResidualAttentionBlock } from '../clip/residual_attention_block.js';
import type { TextEmbedder } from '../clip/text_embedder.js';
import { headProjection, outProjection, similarityAttention } from './custom_attention.js';
import type { LastBlock } from './dense_features.js';
import { gaussianAttentionAddition } from './gaussian_window.js';
import { MMSEG_CLIP_MEAN, MMSEG_CLIP_STD, type TrainingFreeSettings } from './settings.js';
import { TrainingFreeSegmenter } from './training_free_segmenter.js';

/** NACLIP.__init__'s defaults with configs/cfg_context59.py (the README's main setting). */
export function naclipDefaults(): TrainingFreeSettings {
  return {
    shortSide: 336, longSide: 2048, crop: 224, stride: 112, logitScale: 40, probThreshold: 0,
    templates: promptTemplates('imagenet'), mean: MMSEG_CLIP_MEAN, std: MMSEG_CLIP_STD,
    renormalize: true, pamr: { steps: 10, dilations: [8, 16] },
    synonymSeparator: ', ', padWindowsToPatch: false, wholeUpsample: 'resized', windowBatch: 8,
  };
}

export const NACLIP_GAUSSIAN_STD = 5;

/** `x = custom_attn(blk.attn, blk.ln_1(x))`: out_proj(softmax(k k^T d^-0.5 + Omega) v). */
export class NaclipAttention implements LastBlock {
  // Whole-image inference meets a new grid with almost every image size: keep the last few.
  readonly #omega = new Map<string, Tensor>();
  constructor(readonly gaussianStd: number = NACLIP_GAUSSIAN_STD) {}

  private omega(gh: number, gw: number, x: Tensor): Tensor {
    const key = `${gh}x${gw}@${x.device}`;
    let o = this.#omega.get(key);
    if (!o) {
      o = keep(gaussianAttentionAddition(gh, gw, this.gaussianStd, x.device));
      this.#omega.set(key, o);
      if (this.#omega.size > 4) {
        const [oldest, t] = this.#omega.entries().next().value as [string, Tensor];
        this.#omega.delete(oldest);
        t.dispose();
      }
    }
    return o;
  }

  forward(block: ResidualAttentionBlock, x: Tensor, grid: [number, number]): Tensor {
    const h = block.ln_1.forward(x);
    const k = headProjection(block.attn, h, 'k'), v = headProjection(block.attn, h, 'v'); // (B, H, L, hd)
    return outProjection(block.attn, similarityAttention(k, k, v, this.omega(grid[0], grid[1], x))); // q is not used
  }

  dispose(): void {
    for (const t of this.#omega.values()) t.dispose();
    this.#omega.clear();
  }
}

export function naclip(clip: CLIP, text: TextEmbedder, settings: Partial<TrainingFreeSettings> = {}, gaussianStd = NACLIP_GAUSSIAN_STD): TrainingFreeSegmenter {
  return new TrainingFreeSegmenter('NACLIP', clip, text, new NaclipAttention(gaussianStd), { ...naclipDefaults(), ...settings });
}
