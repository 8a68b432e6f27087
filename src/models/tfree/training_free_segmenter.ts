// What NACLIP, SCLIP and ClearCLIP share around their CLIP forward (their segmentors'
// `forward_feature`, `forward_slide`, `predict`, `postprocess_result`): prompt-averaged text
// embeddings per synonym, the mmseg resize and normalisation, cosine logits per patch upsampled to
// each window, the sliding window (or the whole image), the resize back to the image, optional
// PAMR, softmax with the method's logit scale, the max over synonyms and the arg-max.
import { AhsError, fmtShape } from '../../errors.js';
import { interpolate, noGrad, pad, stack, tensor, tidy, type Tensor } from '../../tensor/index.js';
import type { CLIP } from '../clip/clip_model.js';
import type { TextEmbedder } from '../clip/text_embedder.js';
import { denseFeatures, type DenseFeatures, type LastBlock } from './dense_features.js';
import { forwardSlide, slideWindows, type Window } from './forward_slide.js';
import { mmsegResize } from './mmseg_resize.js';
import { Pamr } from './pamr.js';
import type { TrainingFreeSettings } from './settings.js';

/** Class names split into the queries the text tower sees. */
export interface Queries {
  texts: string[];
  /** The class of each query. */
  classOf: number[];
}

/** Every stage of one image, as the reference's tensors name them. */
export interface TrainingFreeOutput {
  /** uint8 [3, h', w'] after the mmseg resize. */
  resized: Tensor;
  /** The windows on the resized image (empty in whole-image mode). */
  windows: Window[];
  /** [Q, H, W] at the image's size, before PAMR (`seg_logits`). */
  logits: Tensor;
  /** PAMR's guide [3, H, W] and output [Q, H, W] when PAMR is on. */
  guide: Tensor | null;
  refined: Tensor | null;
  /** [T, H, W] per-class scores (`seg_probs`). */
  probs: Tensor;
  /** [H, W] int64 (`seg_pred`). */
  labels: Tensor;
}

export class TrainingFreeSegmenter {
  readonly pamr: Pamr | null;
  constructor(readonly method: string, readonly clip: CLIP, readonly text: TextEmbedder, readonly lastBlock: LastBlock, readonly settings: TrainingFreeSettings) {
    const s = settings;
    for (const [k, v] of [['shortSide', s.shortSide], ['longSide', s.longSide], ['stride', s.stride], ['windowBatch', s.windowBatch]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${method}: ${k} must be a positive integer, got ${v}`);
    }
    if (!Number.isInteger(s.crop) || s.crop < 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${method}: crop must be 0 (whole image) or a positive integer, got ${s.crop}`);
    if (s.templates.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${method}: no prompt templates`);
    if (s.mean.length !== 3 || s.std.length !== 3) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${method}: mean and std need 3 values each`);
    this.pamr = s.pamr ? new Pamr(s.pamr) : null;
  }

  /** Each class name split on the synonym separator (get_cls_idx in the references). */
  queries(classNames: string[]): Queries {
    if (classNames.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${this.method}: give at least one class name`);
    const texts: string[] = [], classOf: number[] = [];
    classNames.forEach((name, c) => {
      for (const q of name.split(this.settings.synonymSeparator)) { texts.push(q); classOf.push(c); }
    });
    return { texts, classOf };
  }

  /** The query embeddings [Q, D]: each prompt normalised, averaged over templates, renormalised. */
  textEmbeddings(queries: string[]): Tensor {
    return noGrad(() => this.text.ensembleEmbeddings(queries, [...this.settings.templates]));
  }

  resize(image: Tensor): Tensor {
    return mmsegResize(image, [this.settings.longSide, this.settings.shortSide]);
  }

  /** uint8 [3, h, w] -> float32 [1, 3, h, w], (x - mean) / std. */
  normalize(image: Tensor): Tensor {
    return tidy(() => {
      const m = tensor(Float32Array.from(this.settings.mean), { shape: [1, 3, 1, 1], device: image.device });
      const s = tensor(Float32Array.from(this.settings.std), { shape: [1, 3, 1, 1], device: image.device });
      return image.unsqueeze(0).float().sub(m).div(s);
    });
  }

  windows(height: number, width: number): Window[] {
    return slideWindows(height, width, this.settings.crop, this.settings.stride);
  }

  denseFeatures(images: Tensor): DenseFeatures {
    return noGrad(() => denseFeatures(this.clip.visual, images, this.lastBlock));
  }

  /** `forward_feature` before its upsampling: cosine of each patch with each query [B, Q, gh, gw]. */
  patchLogits(images: Tensor, text: Tensor): Tensor {
    return noGrad(() => tidy(() => {
      const { feats, grid } = this.denseFeatures(images); // (B, n, D)
      const unit = feats.div(feats.norm(2, -1, true));
      return unit.matmul(text.transpose(0, 1)).permute([0, 2, 1]).reshape([images.size(0), text.size(0), grid[0], grid[1]]);
    }));
  }

  /** Window crops [n, 3, ch, cw] -> their logits at the window size [n, Q, ch, cw]. */
  windowLogits(crops: Tensor, text: Tensor): Tensor {
    return tidy(() => {
      const [H, W] = [crops.size(2), crops.size(3)];
      const [l, r, t, b] = this.settings.padWindowsToPatch ? padToPatch(H, W, this.clip.visual.cfg.patchSize) : [0, 0, 0, 0];
      const input = l + r + t + b > 0 ? pad(crops, [l, r, t, b]) : crops;
      const up = interpolate(this.patchLogits(input, text), { size: [input.size(2), input.size(3)], mode: 'bilinear', alignCorners: false });
      return l + r + t + b > 0 ? up.narrow(2, t, H).narrow(3, l, W) : up;
    });
  }

  /** All stages for a uint8 image [3, H, W] and query embeddings [Q, D]; `classOf` maps queries
   * to classes (default: one query per class). */
  infer(image: Tensor, text: Tensor, classOf?: readonly number[]): TrainingFreeOutput {
    if (image.rank !== 3 || image.size(0) !== 3) throw new AhsError('AHS_ERR_SHAPE', `${this.method}: image must be [3, H, W], got ${fmtShape(image.shape)}`);
    if (text.rank !== 2 || text.size(1) !== this.clip.cfg.embedDim) {
      throw new AhsError('AHS_ERR_SHAPE', `${this.method}: text embeddings must be [Q, ${this.clip.cfg.embedDim}], got ${fmtShape(text.shape)}`);
    }
    if (classOf && classOf.length !== text.size(0)) throw new AhsError('AHS_ERR_SHAPE', `${this.method}: ${classOf.length} query classes for ${text.size(0)} queries`);
    const [H, W] = [image.size(1), image.size(2)];
    const s = this.settings;
    return noGrad(() => tidy(() => {
      const resized = this.resize(image.dtype === 'uint8' ? image : image.round().clamp(0, 255).toDType('uint8'));
      const x = this.normalize(resized); // (1, 3, h', w')
      const toImage = (t: Tensor) => interpolate(t, { size: [H, W], mode: 'bilinear', alignCorners: false });
      let windows: Window[] = [];
      let logits: Tensor;
      if (s.crop > 0) {
        windows = this.windows(x.size(2), x.size(3));
        logits = toImage(forwardSlide(x, windows, (crops) => this.windowLogits(crops, text), s.windowBatch).unsqueeze(0));
      } else {
        const patch = this.patchLogits(x, text);
        const atResized = s.wholeUpsample === 'resized' ? interpolate(patch, { size: [x.size(2), x.size(3)], mode: 'bilinear', alignCorners: false }) : patch;
        logits = toImage(atResized);
      }
      logits = logits.squeeze(0); // (Q, H, W)
      const guide = this.pamr ? toImage(x).squeeze(0) : null;
      const refined = this.pamr ? this.pamr.refine(guide!, logits) : null;
      const { probs, labels } = this.postprocess(refined ?? logits, classOf);
      return { resized, windows, logits, guide, refined, probs, labels };
    }));
  }

  /** `postprocess_result`: softmax(logit scale x logits) over queries, max over each class's
   * queries, arg-max (prob_thd), and NACLIP's renormalisation. */
  postprocess(logits: Tensor, classOf?: readonly number[]): { probs: Tensor; labels: Tensor } {
    const s = this.settings;
    return tidy(() => {
      let probs = logits.mul(s.logitScale).softmax(0);
      if (classOf && classOf.some((c, i) => c !== i)) probs = maxOverSynonyms(probs, classOf);
      let labels = probs.argmax(0);
      if (s.probThreshold > 0) labels = labels.maskedFill(probs.amax(0).lt(s.probThreshold), 0);
      if (s.renormalize) probs = probs.div(probs.sum(0, true));
      return { probs, labels };
    });
  }

  /** Per-class scores [T, H, W] for a uint8 image [3, H, W]. */
  scores(image: Tensor, classNames: string[]): Tensor {
    return tidy(() => this.run(image, classNames).probs);
  }

  /** The label map [H, W] (int64). */
  labels(image: Tensor, classNames: string[]): Tensor {
    return tidy(() => this.run(image, classNames).labels);
  }

  /** Frees the last block's caches (the CLIP weights belong to the caller). */
  dispose(): void {
    this.lastBlock.dispose?.();
  }

  private run(image: Tensor, classNames: string[]): TrainingFreeOutput {
    const q = this.queries(classNames);
    return tidy(() => this.infer(image, this.textEmbeddings(q.texts), q.classOf));
  }
}

/** ClearCLIP's compute_padsize: (left, right, top, bottom) up to a multiple of the patch size. */
function padToPatch(H: number, W: number, p: number): [number, number, number, number] {
  const lr = W % p ? p - (W % p) : 0, tb = H % p ? p - (H % p) : 0;
  return [Math.floor(lr / 2), lr - Math.floor(lr / 2), Math.floor(tb / 2), tb - Math.floor(tb / 2)];
}

/** [Q, H, W] -> [T, H, W]: each class the max over its queries. */
function maxOverSynonyms(probs: Tensor, classOf: readonly number[]): Tensor {
  return tidy(() => {
    const T = Math.max(...classOf) + 1;
    const rows: Tensor[] = [];
    for (let c = 0; c < T; c++) {
      const idx = classOf.flatMap((k, i) => (k === c ? [i] : []));
      if (idx.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `class ${c} has no query`);
      rows.push(idx.length === 1 ? probs.select(0, idx[0]!) : probs.indexSelect(0, tensor(idx, { dtype: 'int64', device: probs.device })).amax(0));
    }
    return stack(rows, 0);
  });
}
