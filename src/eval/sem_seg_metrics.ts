// detectron2 SemSegEvaluator.evaluate, formula by formula, on a ConfusionMatrix.
//
// Source: facebookresearch/detectron2 detectron2/evaluation/sem_seg_evaluation.py (main branch,
// the version with Boundary IoU). With M = the (N+1)x(N+1) matrix, rows = pred, cols = gt:
//
//   tp          = M.diagonal()[:-1]
//   pos_gt      = M[:-1, :-1].sum(axis=0)        # gt pixels per class, ignore row/col dropped
//   pos_pred    = M[:-1, :-1].sum(axis=1)        # predicted pixels per class on non-ignored gt
//   class_weights = pos_gt / pos_gt.sum()
//   acc_valid   = pos_gt > 0;  acc[acc_valid] = tp / pos_gt          (NaN elsewhere)
//   union       = pos_gt + pos_pred - tp
//   iou_valid   = acc_valid & (union > 0);  iou[iou_valid] = tp / union   (NaN elsewhere)
//   mACC = sum(acc[acc_valid]) / count(acc_valid)
//   mIoU = sum(iou[iou_valid]) / count(iou_valid)
//   fwIoU = sum(iou[iou_valid] * class_weights[iou_valid])
//   pACC = sum(tp) / sum(pos_gt)
//   res = {mIoU, fwIoU, IoU-<c>..., mACC, pACC, ACC-<c>...}, every value x100
//
// So classes absent from the ground truth are left out of mIoU even when predicted.
//
// The 'detectron2-legacy' convention is the older code (still in the prebuilt detectron2 0.6
// wheels, which is why CAT-Seg issue #24 and fc-clip issue #27 see PC-459 numbers move with the
// detectron2 install):
//
//   iou_valid = (pos_gt + pos_pred) > 0;  iou[acc_valid] = tp / union
//   mIoU = sum(iou[acc_valid]) / count(iou_valid)   # predicted-but-absent classes count as 0
//   fwIoU = sum(iou[acc_valid] * class_weights[acc_valid])
//
// Which convention a given wheel has is inferred from those issue threads, not verified against
// the wheel itself. Sums use numpy's pairwise summation so the numbers match numpy bit for bit.

import { check } from '../errors.js';
import type { ConfusionMatrix } from './confusion_matrix.js';

export type MiouConvention = 'detectron2' | 'detectron2-legacy';

export interface SemSegMetrics {
  /** Percent; NaN when no class is valid (detectron2 divides 0 by 0). */
  mIoU: number;
  fwIoU: number;
  mACC: number;
  pACC: number;
  /** Per-class IoU and accuracy in percent, NaN where detectron2 leaves NaN. */
  iou: Float64Array;
  acc: Float64Array;
  tp: Float64Array;
  posGt: Float64Array;
  posPred: Float64Array;
}

/** detectron2's `{"sem_seg": res}` result: metric name -> value in percent (NaN kept as NaN). */
export interface SemSegResults {
  sem_seg: Record<string, number>;
}

const PW_BLOCKSIZE = 128;

/**
 * numpy's float64 `np.sum` (pairwise summation, numpy/core/src/umath/loops_utils.h.src), so
 * sums of IoUs round exactly as numpy rounds them.
 */
export function numpySum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    }
    // prettier-ignore
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, start, n2) + numpySum(a, start + n2, n - n2);
}

/** Elements of `values` where `mask` is true, in order (numpy's boolean indexing). */
function select(values: Float64Array, mask: boolean[]): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (mask[i]) out.push(values[i]);
  return Float64Array.from(out);
}

function countTrue(mask: boolean[]): number {
  let c = 0;
  for (const m of mask) if (m) c++;
  return c;
}

/** Computes detectron2's metrics from an accumulated matrix. */
export function computeSemSegMetrics(
  matrix: ConfusionMatrix,
  convention: MiouConvention = 'detectron2',
): SemSegMetrics {
  const n = matrix.numClasses;
  const s = n + 1;
  const m = matrix.counts;
  const tp = new Float64Array(n);
  const posGt = new Float64Array(n);
  const posPred = new Float64Array(n);
  // Integer sums of counts are exact in float64, so their order does not matter.
  for (let p = 0; p < n; p++) {
    tp[p] = m[s * p + p];
    for (let g = 0; g < n; g++) {
      const v = m[s * p + g];
      posGt[g] += v;
      posPred[p] += v;
    }
  }
  const totalGt = numpySum(posGt);
  const classWeights = posGt.map((v) => v / totalGt);

  const acc = new Float64Array(n).fill(NaN);
  const iou = new Float64Array(n).fill(NaN);
  const accValid = Array.from(posGt, (v) => v > 0);
  const union = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    union[c] = posGt[c] + posPred[c] - tp[c];
    if (accValid[c]) acc[c] = tp[c] / posGt[c];
  }

  let iouValid: boolean[];
  let iouSumMask: boolean[];
  if (convention === 'detectron2') {
    iouValid = accValid.map((v, c) => v && union[c] > 0);
    iouSumMask = iouValid;
  } else {
    check(
      convention === 'detectron2-legacy',
      'AHS_ERR_INVALID_ARGUMENT',
      () => `computeSemSegMetrics: unknown convention '${String(convention)}'`,
    );
    iouValid = Array.from(posGt, (v, c) => v + posPred[c] > 0);
    iouSumMask = accValid;
  }
  for (let c = 0; c < n; c++) if (iouSumMask[c]) iou[c] = tp[c] / union[c];

  const mACC = numpySum(select(acc, accValid)) / countTrue(accValid);
  const mIoU = numpySum(select(iou, iouSumMask)) / countTrue(iouValid);
  const ious = select(iou, iouSumMask);
  const weights = select(classWeights, iouSumMask);
  const fwIoU = numpySum(ious.map((v, i) => v * weights[i]));
  const pACC = numpySum(tp) / totalGt;

  return {
    mIoU: 100 * mIoU,
    fwIoU: 100 * fwIoU,
    mACC: 100 * mACC,
    pACC: 100 * pACC,
    iou: iou.map((v) => 100 * v),
    acc: acc.map((v) => 100 * v),
    tp,
    posGt,
    posPred,
  };
}

/** Lays the metrics out with detectron2's key names and order. */
export function toDetectron2Results(metrics: SemSegMetrics, classNames: readonly string[]): SemSegResults {
  check(
    classNames.length === metrics.iou.length,
    'AHS_ERR_SHAPE',
    () => `toDetectron2Results: ${classNames.length} class names for ${metrics.iou.length} classes`,
  );
  const res: Record<string, number> = {};
  res['mIoU'] = metrics.mIoU;
  res['fwIoU'] = metrics.fwIoU;
  classNames.forEach((name, i) => (res[`IoU-${name}`] = metrics.iou[i]));
  res['mACC'] = metrics.mACC;
  res['pACC'] = metrics.pACC;
  classNames.forEach((name, i) => (res[`ACC-${name}`] = metrics.acc[i]));
  return { sem_seg: res };
}
