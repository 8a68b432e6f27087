// Training-free dense segmentation with CLIP alone (MaskCLIP, Zhou et al. ECCV'22): dense features
// from the last block's value path with a per-token residual, cosine against prompt-ensembled
// class embeddings, upsampled to the image. What `ahs-seg segment` can do with CLIP weights only.
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
}

export class MaskClipSegmenter {
  readonly prompts: PromptEnsemble;
  readonly shortSide: number;
  constructor(readonly clip: CLIP, readonly text: TextEmbedder, opts: MaskClipOptions = {}) {
    this.prompts = opts.prompts ?? 'imagenet';
    this.shortSide = opts.shortSide ?? 448;
  }

  /** CLIP input size keeping the aspect ratio, both sides multiples of the patch size. */
  inputSize(height: number, width: number): [number, number] {
    const p = this.clip.visual.cfg.patchSize;
    const s = this.shortSide / Math.min(height, width);
    return [Math.max(p, Math.round((height * s) / p) * p), Math.max(p, Math.round((width * s) / p) * p)];
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
