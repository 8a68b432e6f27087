// SemSegEvaluator with detectron2's reset / process / evaluate protocol, working on label maps
// (plain typed arrays), so it needs neither the model nor the tensor engine.
//
// Two variants:
// * 'standard': detectron2 SemSegEvaluator. The metric classes are `classNames`.
// * 'voc20b': CAT-Seg's VOCbEvaluator (train_net.py) for `voc_2012_test_background_sem_seg`. The
//   model is prompted with the 59 names of voc20b.json (20 VOC classes, then background concepts
//   taken from PASCAL-Context), and `pred[pred >= 20] = 20` folds every background concept into
//   one "background" class. The dataset's metadata is the 20 VOC classes + ["background"], so
//   metrics cover 21 classes, background included, and ground truth marks background as 20
//   (prepare_voc.py: clsID 0 -> 20 in annotations_detectron2_bg).

import { AhsError, check } from '../errors.js';
import { ConfusionMatrix, type GtLabels, type PredLabels } from './confusion_matrix.js';
import {
  computeSemSegMetrics,
  toDetectron2Results,
  type MiouConvention,
  type SemSegMetrics,
  type SemSegResults,
} from './sem_seg_metrics.js';

export type SemSegVariant = 'standard' | 'voc20b';

/** Number of VOC foreground classes; VOC-20b folds every prediction >= this into background. */
export const VOC20B_NUM_FOREGROUND = 20;

export interface SemSegEvaluatorOptions {
  /**
   * 'standard': the evaluated classes, in label-index order. 'voc20b': the prompt vocabulary
   * (at least 21 names, the first 20 being the VOC classes), e.g. voc20b.json.
   */
  classNames: readonly string[];
  /** Ground-truth value to ignore; must not be a class index. */
  ignoreLabel: number;
  variant?: SemSegVariant;
  /** mIoU rule, see sem_seg_metrics.ts; default 'detectron2' (absent classes excluded). */
  convention?: MiouConvention;
}

/** Serialized evaluator state, used to resume an interrupted run. */
export interface SemSegEvaluatorState {
  format: 'ahs-seg.sem-seg-evaluator';
  version: 1;
  classNames: string[];
  ignoreLabel: number;
  variant: SemSegVariant;
  numImages: number;
  keys: string[];
  matrix: ReturnType<ConfusionMatrix['toJSON']>;
}

export class SemSegEvaluator {
  /** The names given to the constructor (the vocabulary for 'voc20b'). */
  readonly classNames: readonly string[];
  /** The classes the metrics are reported for (detectron2's `stuff_classes`). */
  readonly evalClassNames: readonly string[];
  readonly ignoreLabel: number;
  readonly variant: SemSegVariant;
  readonly convention: MiouConvention;
  private matrix: ConfusionMatrix;
  private readonly keys = new Set<string>();
  private images = 0;

  constructor(opts: SemSegEvaluatorOptions) {
    const variant = opts.variant ?? 'standard';
    check(
      variant === 'standard' || variant === 'voc20b',
      'AHS_ERR_INVALID_ARGUMENT',
      () => `SemSegEvaluator: variant must be 'standard' or 'voc20b', got '${String(variant)}'`,
    );
    check(
      Array.isArray(opts.classNames) && opts.classNames.length > 0,
      'AHS_ERR_INVALID_ARGUMENT',
      () => 'SemSegEvaluator: classNames must be a non-empty array of strings',
    );
    if (variant === 'voc20b') {
      check(
        opts.classNames.length > VOC20B_NUM_FOREGROUND,
        'AHS_ERR_INVALID_ARGUMENT',
        () =>
          `SemSegEvaluator(voc20b): classNames needs the 20 VOC classes plus at least one ` +
          `background concept, got ${opts.classNames.length} names`,
      );
    }
    this.classNames = [...opts.classNames];
    this.evalClassNames =
      variant === 'voc20b'
        ? [...opts.classNames.slice(0, VOC20B_NUM_FOREGROUND), 'background']
        : this.classNames;
    const n = this.evalClassNames.length;
    check(
      Number.isInteger(opts.ignoreLabel) && opts.ignoreLabel >= n,
      'AHS_ERR_INVALID_ARGUMENT',
      () =>
        `SemSegEvaluator: ignoreLabel ${opts.ignoreLabel} must be an integer >= the number of ` +
        `classes (${n}), or it would hide a real class`,
    );
    this.ignoreLabel = opts.ignoreLabel;
    this.variant = variant;
    this.convention = opts.convention ?? 'detectron2';
    this.matrix = new ConfusionMatrix(n);
  }

  /** Clears all accumulated counts and processed keys. */
  reset(): void {
    this.matrix.reset();
    this.keys.clear();
    this.images = 0;
  }

  /**
   * Adds one image: `pred` holds class indices into `classNames`, `gt` the annotation values.
   * `key` (e.g. the file stem) names the image in errors and guards against counting it twice.
   */
  process(pred: PredLabels, gt: GtLabels, key?: string): void {
    if (key !== undefined && this.keys.has(key)) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `SemSegEvaluator.process: image '${key}' was already processed`);
    }
    this.matrix.add(pred, gt, {
      ignoreLabel: this.ignoreLabel,
      predRange: this.classNames.length,
      ...(this.variant === 'voc20b' ? { foldPredFrom: VOC20B_NUM_FOREGROUND } : {}),
      ...(key !== undefined ? { key } : {}),
    });
    if (key !== undefined) this.keys.add(key);
    this.images++;
  }

  /** Whether an image with this key has been processed. */
  has(key: string): boolean {
    return this.keys.has(key);
  }

  get numImages(): number {
    return this.images;
  }

  /** The accumulated matrix (live object: do not modify). */
  get confusionMatrix(): ConfusionMatrix {
    return this.matrix;
  }

  /** Adds the counts of another evaluator with the same configuration (e.g. another shard). */
  merge(other: SemSegEvaluator): void {
    this.checkSameConfig(other, 'SemSegEvaluator.merge');
    for (const k of other.keys) {
      check(!this.keys.has(k), 'AHS_ERR_INVALID_ARGUMENT', () => `SemSegEvaluator.merge: image '${k}' is in both evaluators`);
    }
    this.matrix.merge(other.matrix);
    for (const k of other.keys) this.keys.add(k);
    this.images += other.images;
  }

  /** Per-class and mean metrics in percent. */
  metrics(): SemSegMetrics {
    return computeSemSegMetrics(this.matrix, this.convention);
  }

  /** detectron2's `{sem_seg: {mIoU, fwIoU, IoU-<c>, mACC, pACC, ACC-<c>}}`. */
  evaluate(): SemSegResults {
    return toDetectron2Results(this.metrics(), this.evalClassNames);
  }

  toJSON(): SemSegEvaluatorState {
    return {
      format: 'ahs-seg.sem-seg-evaluator',
      version: 1,
      classNames: [...this.classNames],
      ignoreLabel: this.ignoreLabel,
      variant: this.variant,
      numImages: this.images,
      keys: [...this.keys],
      matrix: this.matrix.toJSON(),
    };
  }

  /** Rebuilds an evaluator from `toJSON()`; `source` names the file in errors. */
  static fromJSON(state: unknown, source = 'evaluator state', convention?: MiouConvention): SemSegEvaluator {
    const s = validateState(state, source);
    const ev = new SemSegEvaluator({
      classNames: s.classNames,
      ignoreLabel: s.ignoreLabel,
      variant: s.variant,
      ...(convention !== undefined ? { convention } : {}),
    });
    ev.restore(s, source);
    return ev;
  }

  /** Replaces this evaluator's counts with a saved state made with the same configuration. */
  loadState(state: unknown, source = 'evaluator state'): void {
    const s = validateState(state, source);
    this.checkSameConfig(s, source);
    this.restore(s, source);
  }

  private restore(s: SemSegEvaluatorState, source: string): void {
    const m = ConfusionMatrix.fromJSON(s.matrix, source);
    check(
      m.numClasses === this.evalClassNames.length,
      'AHS_ERR_FILE_FORMAT',
      () => `${source}: matrix has ${m.numClasses} classes but the class list gives ${this.evalClassNames.length}`,
    );
    this.matrix = m;
    this.keys.clear();
    for (const k of s.keys) this.keys.add(k);
    this.images = s.numImages;
  }

  private checkSameConfig(
    s: { classNames: readonly string[]; ignoreLabel: number; variant: SemSegVariant },
    source: string,
  ): void {
    const diffs: string[] = [];
    if (s.variant !== this.variant) diffs.push(`variant '${s.variant}' vs '${this.variant}'`);
    if (s.ignoreLabel !== this.ignoreLabel) diffs.push(`ignoreLabel ${s.ignoreLabel} vs ${this.ignoreLabel}`);
    if (s.classNames.length !== this.classNames.length) {
      diffs.push(`${s.classNames.length} class names vs ${this.classNames.length}`);
    } else {
      const i = s.classNames.findIndex((c, j) => c !== this.classNames[j]);
      if (i >= 0) diffs.push(`class ${i} '${s.classNames[i]}' vs '${this.classNames[i]}'`);
    }
    check(
      diffs.length === 0,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `${source}: saved evaluator does not match this one (${diffs.join('; ')})`,
    );
  }
}

function validateState(state: unknown, source: string): SemSegEvaluatorState {
  const s = state as Partial<SemSegEvaluatorState> | null;
  const fail = (what: string): never => {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${source}: not a SemSegEvaluator state (${what})`);
  };
  if (s === null || typeof s !== 'object') return fail('not an object');
  if (s.format !== 'ahs-seg.sem-seg-evaluator') return fail(`format is ${JSON.stringify(s.format)}`);
  if (s.version !== 1) return fail(`unsupported version ${JSON.stringify(s.version)}`);
  if (!Array.isArray(s.classNames) || !s.classNames.every((c) => typeof c === 'string')) return fail('classNames');
  if (!Number.isInteger(s.ignoreLabel)) return fail('ignoreLabel');
  if (s.variant !== 'standard' && s.variant !== 'voc20b') return fail(`variant ${JSON.stringify(s.variant)}`);
  if (!Number.isInteger(s.numImages) || s.numImages! < 0) return fail('numImages');
  if (!Array.isArray(s.keys) || !s.keys.every((k) => typeof k === 'string')) return fail('keys');
  if (s.matrix === undefined) return fail('matrix missing');
  return s as SemSegEvaluatorState;
}
