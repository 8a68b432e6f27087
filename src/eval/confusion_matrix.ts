// The (N+1)x(N+1) confusion matrix of detectron2's SemSegEvaluator.process:
//
//   gt[gt == ignore_label] = N
//   conf += np.bincount((N + 1) * pred + gt, minlength=(N + 1) ** 2).reshape(N + 1, N + 1)
//
// so rows are predictions, columns are ground truth, and the last column collects ignored pixels
// (the last row stays empty: predictions are class indices < N). Counts are kept in a Float64Array,
// which holds integers exactly up to 2^53 (about 9e15 pixels), far beyond any benchmark.

import { AhsError, check } from '../errors.js';

/** Per-pixel predicted class indices (argmax over the vocabulary). */
export type PredLabels = Int32Array | Uint16Array | Uint8Array;
/** Per-pixel ground-truth labels as read from the annotation file. */
export type GtLabels = Uint8Array | Uint16Array | Int32Array;

export interface AccumulateOptions {
  /** Ground-truth value that marks pixels to ignore (255, 65535 or 459 depending on the benchmark). */
  ignoreLabel: number;
  /**
   * Predictions must lie in [0, predRange). Defaults to N. VOC-20b sets it to the prompt vocabulary
   * size (59) because its model predicts over background concepts that `foldPredFrom` merges.
   */
  predRange?: number;
  /** Predictions >= this index are counted as this index (CAT-Seg VOCbEvaluator: `pred[pred >= 20] = 20`). */
  foldPredFrom?: number;
  /** Names the image in error messages. */
  key?: string;
}

/** Sparse JSON form: only non-zero cells, as [flat index, count] pairs. */
export interface ConfusionMatrixJSON {
  numClasses: number;
  cells: Array<[number, number]>;
}

export class ConfusionMatrix {
  /** N, the number of evaluated classes (the matrix is (N+1)x(N+1)). */
  readonly numClasses: number;
  /** Row-major counts: counts[(N+1) * pred + gt]. */
  readonly counts: Float64Array;

  constructor(numClasses: number) {
    check(
      Number.isInteger(numClasses) && numClasses >= 1,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`,
    );
    this.numClasses = numClasses;
    this.counts = new Float64Array((numClasses + 1) * (numClasses + 1));
  }

  /** Count of pixels predicted as `pred` whose ground truth is `gt` (gt = N: ignored pixels). */
  get(pred: number, gt: number): number {
    const s = this.numClasses + 1;
    check(
      Number.isInteger(pred) && Number.isInteger(gt) && pred >= 0 && gt >= 0 && pred < s && gt < s,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `ConfusionMatrix.get: cell (${pred}, ${gt}) is outside the ${s}x${s} matrix`,
    );
    return this.counts[s * pred + gt];
  }

  /** Total number of pixels counted, ignored ones included. */
  total(): number {
    let t = 0;
    for (let i = 0; i < this.counts.length; i++) t += this.counts[i];
    return t;
  }

  /** Adds one image. Validates the whole image before counting, so a bad image leaves the matrix unchanged. */
  add(pred: PredLabels, gt: GtLabels, opts: AccumulateOptions): void {
    const n = this.numClasses;
    const s = n + 1;
    const where = opts.key !== undefined ? ` (image '${opts.key}')` : '';
    check(
      pred.length === gt.length,
      'AHS_ERR_SHAPE',
      () => `ConfusionMatrix.add: pred has ${pred.length} pixels but gt has ${gt.length}${where}`,
    );
    const predRange = opts.predRange ?? n;
    const fold = opts.foldPredFrom ?? predRange;
    check(
      Number.isInteger(predRange) && predRange >= 1,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `ConfusionMatrix.add: predRange must be a positive integer, got ${predRange}`,
    );
    // Every prediction must land in a row < N, otherwise it would spill into other cells (numpy's
    // bincount would instead fail on reshape or silently shift counts).
    check(
      Number.isInteger(fold) && fold >= 0 && Math.min(fold, predRange - 1) < n,
      'AHS_ERR_INVALID_ARGUMENT',
      () =>
        `ConfusionMatrix.add: predictions up to ${predRange - 1} (folded from ${fold}) do not fit ` +
        `${n} classes`,
    );
    const ignore = opts.ignoreLabel;

    for (let i = 0; i < pred.length; i++) {
      const p = pred[i];
      if (p < 0 || p >= predRange) {
        throw new AhsError(
          'AHS_ERR_INVALID_ARGUMENT',
          `ConfusionMatrix.add: prediction ${p} at pixel ${i} is outside [0, ${predRange})${where}`,
        );
      }
      const g = gt[i];
      // gt == N is legal: detectron2 counts it in the ignore column, like the ignore label itself.
      if (g !== ignore && (g < 0 || g > n)) {
        throw new AhsError(
          'AHS_ERR_DATASET',
          `ConfusionMatrix.add: ground-truth label ${g} at pixel ${i} is neither a class in ` +
            `[0, ${n}) nor the ignore label ${ignore}${where}`,
        );
      }
    }

    const counts = this.counts;
    for (let i = 0; i < pred.length; i++) {
      let p = pred[i];
      if (p > fold) p = fold;
      const g = gt[i];
      counts[s * p + (g === ignore ? n : g)] += 1;
    }
  }

  /** Adds another matrix (e.g. a shard of a split run) into this one. */
  merge(other: ConfusionMatrix): void {
    check(
      other.numClasses === this.numClasses,
      'AHS_ERR_SHAPE',
      () =>
        `ConfusionMatrix.merge: cannot merge a ${other.numClasses}-class matrix into a ` +
        `${this.numClasses}-class one`,
    );
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
  }

  reset(): void {
    this.counts.fill(0);
  }

  clone(): ConfusionMatrix {
    const c = new ConfusionMatrix(this.numClasses);
    c.counts.set(this.counts);
    return c;
  }

  toJSON(): ConfusionMatrixJSON {
    const cells: Array<[number, number]> = [];
    for (let i = 0; i < this.counts.length; i++) {
      const v = this.counts[i];
      if (v !== 0) cells.push([i, v]);
    }
    return { numClasses: this.numClasses, cells };
  }

  /** Rebuilds a matrix from `toJSON()` output; `source` names the file in error messages. */
  static fromJSON(json: unknown, source = 'confusion matrix JSON'): ConfusionMatrix {
    const j = json as Partial<ConfusionMatrixJSON> | null;
    check(
      j !== null && typeof j === 'object' && Number.isInteger(j.numClasses) && Array.isArray(j.cells),
      'AHS_ERR_FILE_FORMAT',
      () => `${source}: expected {numClasses: integer, cells: [[index, count], ...]}`,
    );
    const m = new ConfusionMatrix(j.numClasses!);
    for (const cell of j.cells!) {
      const ok =
        Array.isArray(cell) &&
        cell.length === 2 &&
        Number.isInteger(cell[0]) &&
        cell[0] >= 0 &&
        cell[0] < m.counts.length &&
        Number.isInteger(cell[1]) &&
        cell[1] >= 0;
      check(
        ok,
        'AHS_ERR_FILE_FORMAT',
        () =>
          `${source}: bad cell ${JSON.stringify(cell)} for a ${j.numClasses! + 1}x` +
          `${j.numClasses! + 1} matrix (want [index < ${m.counts.length}, non-negative integer count])`,
      );
      m.counts[cell[0]] += cell[1];
    }
    return m;
  }
}
