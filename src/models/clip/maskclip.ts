// Training-free dense segmentation with CLIP alone (MaskCLIP, Zhou et al. ECCV'22): dense features
// from the last block's value path with a per-token residual, cosine against prompt-ensembled
// class embeddings, upsampled to the image. One of `ahs-seg segment --method`'s zero-shot methods
// (the others, NACLIP, SCLIP and ClearCLIP, are in models/tfree).
import { AhsError, fmtShape } from '../../errors.js';
import { interpolate, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import type { CLIP } from './clip_model.js';
import { clipInput } from './preprocess.js';
import { promptTemplates, type PromptEnsemble } from './prompts.js';
import type { TextEmbedder } from './text_embedder.js';

export interface MaskClipOptions {
  /** Prompt templates averaged per class (MaskCLIP uses the ImageNet 80). */
  prompts?: PromptEnsemble;
  /** Shorter image side fed to CLIP, rounded to the patch size (default 448). */
  shortSide?: number;
  /** Longest side fed to CLIP (default 4 x shortSide): the short side shrinks to keep a very
   * wide or tall image under it, as detectron2's MAX_SIZE_TEST does. */
  maxLongSide?: number;
}

export class MaskClipSegmenter {
  readonly prompts: PromptEnsemble;
  readonly shortSide: number;
  readonly maxLongSide: number;
  constructor(readonly clip: CLIP, readonly text: TextEmbedder, opts: MaskClipOptions = {}) {
    this.prompts = opts.prompts ?? 'imagenet';
    this.shortSide = opts.shortSide ?? 448;
    this.maxLongSide = opts.maxLongSide ?? 4 * this.shortSide;
    for (const [k, v] of [['shortSide', this.shortSide], ['maxLongSide', this.maxLongSide]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `MaskCLIP: ${k} must be a positive integer, got ${v}`);
    }
  }

  /** CLIP input size keeping the aspect ratio, both sides multiples of the patch size; the long
   * side at most maxLongSide (a 1 x 1000 image must not become 448 x 448,000). */
  inputSize(height: number, width: number): [number, number] {
    const p = this.clip.visual.cfg.patchSize;
    const s = Math.min(this.shortSide / Math.min(height, width), this.maxLongSide / Math.max(height, width));
    const side = (n: number) => Math.max(p, Math.min(Math.floor(this.maxLongSide / p) * p, Math.round((n * s) / p) * p));
    return [side(height), side(width)];
  }

  /** Bytes of the largest tensors for an image and class count: the patch tokens' attention
   * maps (one block at a time) and the class scores at the image's size. */
  memoryBytes(height: number, width: number, numClasses: number): number {
    const [h, w] = this.inputSize(height, width);
    const p = this.clip.visual.cfg.patchSize;
    const tokens = (h / p) * (w / p) + 1;
    const attention = 4 * this.clip.visual.cfg.heads * tokens * tokens;
    return attention + 2 * 4 * numClasses * height * width;
  }

  /** Per-class cosine scores [T, H, W] at the image's size, for a uint8 image [3, H, W]. */
  scores(image: Tensor, classNames: string[]): Tensor {
    if (image.rank !== 3 || image.size(0) !== 3) throw new AhsError('AHS_ERR_SHAPE', `MaskCLIP: image must be [3, H, W], got ${fmtShape(image.shape)}`);
    if (classNames.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'MaskCLIP: give at least one class name');
    const [H, W] = [image.size(1), image.size(2)];
    return noGrad(() => tidy(() => {
      const txt = this.text.ensembleEmbeddings(classNames, promptTemplates(this.prompts)); // (T, D)
      const x = clipInput(image, this.inputSize(H, W));
      const { tokens, grid } = this.clip.visual.dense(x, { residual: 'token' }); // (1, 1+gh*gw, D)
      const patches = tokens.narrow(1, 1, grid[0] * grid[1]).squeeze(0); // (gh*gw, D)
      const unit = patches.div(patches.norm(2, -1, true));
      const cos = txt.matmul(unit.transpose(0, 1)).view([1, classNames.length, grid[0], grid[1]]); // (1, T, gh, gw)
      return interpolate(cos, { size: [H, W], mode: 'bilinear', alignCorners: false }).squeeze(0);
    }));
  }

  /** The arg-max class per pixel [H, W]. */
  labels(image: Tensor, classNames: string[]): Tensor {
    return tidy(() => this.scores(image, classNames).argmax(0));
  }
}
