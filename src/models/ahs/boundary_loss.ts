// MH-FPN's boundary loss as method-spec section 5.2 defines it (BOUNDARY_MODE weighted_bce): the
// CAT-Seg BCE restricted to boundary pixels. b(x) = 1 where the pixel is valid and some 3x3
// neighbour inside the image has a different VALID label (ignore pixels neither are boundaries nor
// make their neighbours ones), computed at the label resolution. Then
//   loss_boundary = sum_{B, T, H, W} b(x) BCE(x) / (B T H W)
// with the logits resized and the targets built exactly as CAT-Seg's loss (loss.ts): bilinear,
// align_corners false, one-hot, all-zero targets at ignore pixels. So, with CAT-Seg's zero_target
// BCE as loss_sem_seg (same B T H W denominator), the total is spec 5.2's
//   loss_sem_seg + w_b loss_boundary = mean((1 + w_b b(x)) BCE(x)),   w_b = BOUNDARY_LOSS_WEIGHT,
// and loss_boundary is exactly 0 on a label map of one class (no boundary pixel).
import { check, fmtShape } from '../../errors.js';
import { binaryCrossEntropyWithLogits, interpolate, pad, tidy, type Tensor } from '../../tensor/index.js';
import { oneHotTargets } from '../catseg/loss.js';

export interface BoundaryLossOptions {
  /** Label value of pixels without a class (255). */
  ignoreValue?: number;
  /** b(x) from boundaryMap, when the caller computes it once for several class chunks. */
  boundary?: Tensor;
}

/** labels (B, H, W) integer -> b (B, H, W) float: 1 on valid pixels with a differently labelled valid 3x3 neighbour. */
export function boundaryMap(labels: Tensor, ignoreValue = 255): Tensor {
  check(labels.rank === 3, 'AHS_ERR_SHAPE', () => `boundaryMap: labels must be (B, H, W), got ${fmtShape(labels.shape)}`);
  const [, H, W] = labels.shape as [number, number, number];
  return tidy(() => {
    const lab = labels.long();
    // Outside the image counts as ignore, so the border makes no boundary.
    const padded = pad(lab, [1, 1, 1, 1], 'constant', ignoreValue); // (B, H + 2, W + 2)
    let edge: Tensor | null = null;
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) {
      if (dy === 1 && dx === 1) continue;
      const nb = padded.narrow(1, dy, H).narrow(2, dx, W); // neighbour (dy - 1, dx - 1) of each pixel
      const differs = nb.ne(lab).logicalAnd(nb.ne(ignoreValue));
      edge = edge ? edge.logicalOr(differs) : differs;
    }
    return edge!.logicalAnd(lab.ne(ignoreValue)).float(); // (B, H, W)
  });
}

/**
 * The part of the boundary loss from classes [classStart, classStart + c), for their logits
 * (B, c, h, w): summed over a partition of the classes it gives boundaryLoss, so it can be
 * computed one class chunk at a time (as catSegLossPart).
 */
export function boundaryLossPart(logits: Tensor, labels: Tensor, o: BoundaryLossOptions & { classStart: number; numClasses: number }): Tensor {
  check(logits.rank === 4 && labels.rank === 3 && logits.size(0) === labels.size(0), 'AHS_ERR_SHAPE',
    () => `boundaryLossPart: expected logits (B, c, h, w) and labels (B, H, W), got ${fmtShape(logits.shape)} and ${fmtShape(labels.shape)}`);
  check(o.classStart >= 0 && o.classStart + logits.size(1) <= o.numClasses, 'AHS_ERR_INVALID_ARGUMENT',
    () => `boundaryLossPart: classes [${o.classStart}, ${o.classStart + logits.size(1)}) are not within the ${o.numClasses} classes`);
  const ignore = o.ignoreValue ?? 255;
  const [B, c] = logits.shape as [number, number];
  const [H, W] = [labels.size(1), labels.size(2)];
  if (o.boundary) {
    check(o.boundary.rank === 3 && o.boundary.size(0) === B && o.boundary.size(1) === H && o.boundary.size(2) === W, 'AHS_ERR_SHAPE',
      () => `boundaryLossPart: boundary must be (${B}, ${H}, ${W}) like the labels, got ${fmtShape(o.boundary!.shape)}`);
  }
  return tidy(() => {
    const b = o.boundary ?? boundaryMap(labels, ignore); // (B, H, W)
    const target = oneHotTargets(labels, o.numClasses, ignore, { start: o.classStart, count: c }); // (B, c, H, W)
    const up = interpolate(logits, { size: [H, W], mode: 'bilinear', alignCorners: false }); // (B, c, H, W)
    // b as BCE's element weight (broadcast over the classes): sum of b(x) BCE(x).
    const sum = binaryCrossEntropyWithLogits(up, target, b.unsqueeze(1).toDType(up.dtype), null, 'sum');
    return sum.div(B * o.numClasses * H * W);
  });
}

/** logits (B, T, h, w), labels (B, H, W) integer -> the boundary-weighted BCE over all T classes (scalar). */
export function boundaryLoss(logits: Tensor, labels: Tensor, o: BoundaryLossOptions = {}): Tensor {
  check(logits.rank === 4, 'AHS_ERR_SHAPE', () => `boundaryLoss: logits must be (B, T, h, w), got ${fmtShape(logits.shape)}`);
  return boundaryLossPart(logits, labels, { ...o, classStart: 0, numClasses: logits.size(1) });
}
