// PAMR on top of any segmenter that gives per-class score maps (MaskCLIP's cosines, CAT-Seg's
// probabilities, a training-free method run without it): the scores refined with the image as
// the guide, then the arg-max. PAMR's affinities are invariant to a per-channel scale and shift
// of the guide (up to its 1e-8), so the uint8 image serves as it is, whatever normalisation the
// inner segmenter uses.
import { AhsError, fmtShape } from '../../errors.js';
import { noGrad, tidy, type Tensor } from '../../tensor/index.js';
import { Pamr, type PamrOptions } from './pamr.js';

export interface ScoreMapSegmenter {
  /** Per-class scores [T, h, w] for a uint8 image [3, H, W] (any h, w: PAMR resizes them). */
  scores(image: Tensor, classNames: string[]): Tensor;
}

export class PamrRefined {
  readonly pamr: Pamr;
  constructor(readonly inner: ScoreMapSegmenter, opts: PamrOptions) {
    this.pamr = new Pamr(opts);
  }

  /** Refined scores [T, H, W]. */
  scores(image: Tensor, classNames: string[]): Tensor {
    if (image.rank !== 3 || image.size(0) !== 3) throw new AhsError('AHS_ERR_SHAPE', `PAMR: image must be [3, H, W], got ${fmtShape(image.shape)}`);
    return noGrad(() => tidy(() => this.pamr.refine(image.float(), this.inner.scores(image, classNames))));
  }

  /** The arg-max class per pixel [H, W] of the refined scores. */
  labels(image: Tensor, classNames: string[]): Tensor {
    return tidy(() => this.scores(image, classNames).argmax(0));
  }
}
