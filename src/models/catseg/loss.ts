// CAT-Seg's training loss (cat_seg_model.py, CATSeg.forward): the logits are resized to the label
// size (bilinear, align_corners=False), every pixel gets a one-hot target over the T classes and
// ignore pixels get an ALL-ZERO target (they are not excluded: they push every class down), then
// binary cross-entropy with logits is averaged over all B*H*W*T elements.
//
// `exclude` mode is our deviation, not the reference: ignore pixels are dropped from the mean
// (sum over valid pixels / (valid pixels * T)); a batch with no valid pixel gives 0.
import { AhsError, check, fmtShape } from '../../errors.js';
import { arange, binaryCrossEntropyWithLogits, interpolate, tidy, type Tensor } from '../../tensor/index.js';

export type CatSegLossMode = 'zero_target' | 'exclude';

export interface CatSegLossOptions {
  /** Label value that marks pixels without a class (255). */
  ignoreValue?: number;
  /** 'zero_target' = the reference; 'exclude' = ignore pixels left out of the mean. */
  mode?: CatSegLossMode;
}

/** The per-class targets (B, T, H, W) float: one-hot of labels, all zero at ignore pixels; with
 * `range`, only classes [start, start + count) (B, count, H, W). Labels are checked against all
 * numClasses either way. */
export function oneHotTargets(labels: Tensor, numClasses: number, ignoreValue = 255, range: { start: number; count: number } = { start: 0, count: numClasses }): Tensor {
  check(labels.rank === 3, 'AHS_ERR_SHAPE', () => `oneHotTargets: labels must be (B, H, W), got ${fmtShape(labels.shape)}`);
  return tidy(() => {
    const lab = labels.long();
    const valid = lab.ne(ignoreValue); // (B, H, W)
    const known = lab.maskedFill(valid.logicalNot(), 0);
    const lo = known.amin().item(), hi = known.amax().item();
    if (lo < 0 || hi >= numClasses) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `CAT-Seg loss: labels must be in [0, ${numClasses}) or ${ignoreValue} (ignore), found values in [${lo}, ${hi}]`);
    }
    const classes = arange(range.start, range.start + range.count, 1, 'int64', lab.device).view([1, range.count, 1, 1]);
    return lab.unsqueeze(1).eq(classes).logicalAnd(valid.unsqueeze(1)).float(); // (B, count, H, W)
  });
}

/** logits (B, T, h, w), labels (B, H, W) integer -> scalar loss. */
export function catSegLoss(logits: Tensor, labels: Tensor, opts: CatSegLossOptions = {}): Tensor {
  check(logits.rank === 4 && labels.rank === 3 && logits.size(0) === labels.size(0), 'AHS_ERR_SHAPE',
    () => `catSegLoss: expected logits (B, T, h, w) and labels (B, H, W), got ${fmtShape(logits.shape)} and ${fmtShape(labels.shape)}`);
  const mode = opts.mode ?? 'zero_target';
  const ignore = opts.ignoreValue ?? 255;
  return tidy(() => {
    const [, T] = logits.shape as [number, number];
    const up = interpolate(logits, { size: [labels.size(1), labels.size(2)], mode: 'bilinear', alignCorners: false }); // (B, T, H, W)
    const target = oneHotTargets(labels, T, ignore); // (B, T, H, W)
    if (mode === 'zero_target') return binaryCrossEntropyWithLogits(up, target); // mean over B*T*H*W
    if (mode !== 'exclude') throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `catSegLoss: mode must be 'zero_target' or 'exclude', got '${String(mode)}'`);
    const perElem = binaryCrossEntropyWithLogits(up, target, null, null, 'none'); // (B, T, H, W)
    const valid = labels.long().ne(ignore).unsqueeze(1).float(); // (B, 1, H, W)
    const count = valid.sum().item() * T;
    return perElem.mul(valid).sum().div(Math.max(count, 1));
  });
}

/**
 * The part of catSegLoss that classes [classStart, classStart + c) contribute, for logits of those
 * classes only (B, c, h, w): summing the parts over a partition of the classes gives catSegLoss
 * (activation checkpointing computes the loss one class chunk at a time this way).
 */
export function catSegLossPart(logits: Tensor, labels: Tensor, o: CatSegLossOptions & { classStart: number; numClasses: number }): Tensor {
  check(logits.rank === 4 && labels.rank === 3 && logits.size(0) === labels.size(0), 'AHS_ERR_SHAPE',
    () => `catSegLossPart: expected logits (B, c, h, w) and labels (B, H, W), got ${fmtShape(logits.shape)} and ${fmtShape(labels.shape)}`);
  const mode = o.mode ?? 'zero_target';
  const ignore = o.ignoreValue ?? 255;
  return tidy(() => {
    const [B, c] = logits.shape as [number, number];
    const [H, W] = [labels.size(1), labels.size(2)];
    const target = oneHotTargets(labels, o.numClasses, ignore, { start: o.classStart, count: c }); // (B, c, H, W)
    const up = interpolate(logits, { size: [H, W], mode: 'bilinear', alignCorners: false }); // (B, c, H, W)
    const perElem = binaryCrossEntropyWithLogits(up, target, null, null, 'none');
    if (mode === 'zero_target') return perElem.sum().div(B * o.numClasses * H * W);
    if (mode !== 'exclude') throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `catSegLossPart: mode must be 'zero_target' or 'exclude', got '${String(mode)}'`);
    const valid = labels.long().ne(ignore);
    const count = valid.sum().item() * o.numClasses;
    return perElem.mul(valid.unsqueeze(1).float()).sum().div(Math.max(count, 1));
  });
}
