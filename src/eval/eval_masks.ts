// Scores prediction label maps already on disk against a benchmark's ground truth: the same
// evaluator, metrics and report files as the model evaluation, no model needed. Predictions are
// 8- or 16-bit grayscale PNGs of 0-based class indices (into the benchmark's prompt vocabulary),
// named like the ground truth (`<stem>.png`). The run is resumable (see resumable_run.ts).

import { basename, join, resolve } from 'node:path';
import { getBenchmark, listFilesByStem, loadClassNames, type BenchmarkSpec } from '../data/benchmarks.js';
import { readLabelMap } from '../data/label_io.js';
import { AhsError, check } from '../errors.js';
import { writeEvalReport } from './report.js';
import { ResumableRun } from './resumable_run.js';
import { SemSegEvaluator, VOC20B_NUM_FOREGROUND } from './sem_seg_evaluator.js';
import type { MiouConvention, SemSegResults } from './sem_seg_metrics.js';
import { writeSideBySide } from './visualize.js';

export interface EvalProgress {
  /** Images finished so far, resumed ones included. */
  done: number;
  total: number;
  key: string;
  /** True when the image was already counted by an earlier, interrupted run. */
  resumed: boolean;
}

export interface EvalMasksOptions {
  predDir: string;
  gtDir: string;
  /** Benchmark name ('ade150', ...) or detectron2 dataset name. */
  benchmark: string;
  outDir: string;
  /** Overrides the benchmark's class list (the vocabulary the predictions index into). */
  classNames?: readonly string[];
  /** Overrides the benchmark's ignore label. */
  ignoreLabel?: number;
  /** Ground-truth file extension; default the benchmark's ('.png' or '.tif'). */
  gtExt?: string;
  convention?: MiouConvention;
  /** Row name in results.md; default the prediction folder's name. */
  model?: string;
  /** Resume from `<outDir>/eval_state.json` when present (default true). */
  resume?: boolean;
  /** Snapshot the state every this many images (default 25). */
  checkpointEvery?: number;
  onProgress?: (p: EvalProgress) => void;
  /** Also write `<outDir>/vis/<stem>.png` (image | gt | prediction) for the first `max` images. */
  visualize?: { imageDir: string; imageExt?: string; max?: number };
}

export interface EvalMasksSummary {
  results: SemSegResults;
  benchmark: BenchmarkSpec;
  numImages: number;
  resumedImages: number;
  files: { results: string; perClassCsv: string; table: string; state: string; visualizations: string[] };
}

const STATE_FILE = 'eval_state.json';

/**
 * Scores a folder of prediction PNGs; writes results.json, per_class.csv and results.md to outDir.
 *
 *   const { results } = await evalMasks({
 *     predDir: 'out/ade150_pred', gtDir: 'datasets/ADEChallengeData2016/annotations_detectron2/validation',
 *     benchmark: 'ade150', outDir: 'out/ade150_eval',
 *   });
 *   results.sem_seg.mIoU; // e.g. 31.8
 */
export async function evalMasks(opts: EvalMasksOptions): Promise<EvalMasksSummary> {
  const bench = getBenchmark(opts.benchmark);
  const vmax = opts.visualize?.max;
  check(vmax === undefined || (Number.isSafeInteger(vmax) && vmax >= 1), 'AHS_ERR_INVALID_ARGUMENT',
    () => `visualize.max must be an integer >= 1 (side-by-side images), got ${vmax}`);
  const classNames = opts.classNames ? [...opts.classNames] : await loadClassNames(bench);
  const ignoreLabel = opts.ignoreLabel ?? bench.ignoreLabel;
  const gtExt = opts.gtExt ?? bench.labelExt;

  const gts = await listFilesByStem(opts.gtDir, gtExt, 'ground-truth');
  check(gts.size > 0, 'AHS_ERR_DATASET', () => `no '*${gtExt}' ground-truth files in '${resolve(opts.gtDir)}'`);
  const preds = await listFilesByStem(opts.predDir, '.png', 'prediction');
  const missing = [...gts.keys()].filter((k) => !preds.has(k));
  check(
    missing.length === 0,
    'AHS_ERR_FILE_NOT_FOUND',
    () =>
      `${missing.length} of ${gts.size} ground-truth images have no prediction '<stem>.png' in ` +
      `'${resolve(opts.predDir)}' (e.g. ${missing.slice(0, 5).join(', ')})`,
  );

  const evaluator = new SemSegEvaluator({
    classNames,
    ignoreLabel,
    variant: bench.evaluatorVariant,
    ...(opts.convention ? { convention: opts.convention } : {}),
  });
  const statePath = join(opts.outDir, STATE_FILE);
  const run = await ResumableRun.open({
    statePath,
    evaluator,
    // What makes two runs the same run; paths are resolved so `./a` and `a` agree.
    fingerprint: {
      benchmark: bench.name,
      predDir: resolve(opts.predDir),
      gtDir: resolve(opts.gtDir),
      gtExt,
      classNames,
      ignoreLabel,
      variant: bench.evaluatorVariant,
    },
    ...(opts.checkpointEvery !== undefined ? { every: opts.checkpointEvery } : {}),
    ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
  });

  const keys = [...gts.keys()];
  let done = 0;
  for (const key of keys) {
    const resumed = run.isDone(key);
    if (!resumed) {
      const gtPath = gts.get(key)!;
      const predPath = preds.get(key)!;
      const [gt, pred] = await Promise.all([readLabelMap(gtPath), readLabelMap(predPath)]);
      check(
        gt.width === pred.width && gt.height === pred.height,
        'AHS_ERR_SHAPE',
        () => `prediction '${predPath}' is ${pred.width}x${pred.height} but ground truth '${gtPath}' is ${gt.width}x${gt.height}`,
      );
      try {
        await run.process(pred.data, gt.data, key);
      } catch (err) {
        // The evaluator names the image by stem; add both files so the culprit can be opened.
        if (err instanceof AhsError) {
          throw new AhsError(err.code, `${err.message} [prediction '${predPath}', ground truth '${gtPath}']`, { cause: err });
        }
        throw err;
      }
    }
    opts.onProgress?.({ done: ++done, total: keys.length, key, resumed });
  }
  await run.save();

  const results = evaluator.evaluate();
  const model = opts.model ?? basename(resolve(opts.predDir));
  const report = await writeEvalReport(opts.outDir, results, evaluator.evalClassNames, model, bench.name);
  const files = { ...report, state: statePath, visualizations: [] as string[] };

  if (opts.visualize) {
    files.visualizations = await visualizeFirst(opts.visualize, keys, gts, preds, evaluator, opts.outDir);
  }
  return { results, benchmark: bench, numImages: evaluator.numImages, resumedImages: run.resumedImages, files };
}

async function visualizeFirst(
  vis: NonNullable<EvalMasksOptions['visualize']>,
  keys: string[],
  gts: Map<string, string>,
  preds: Map<string, string>,
  evaluator: SemSegEvaluator,
  outDir: string,
): Promise<string[]> {
  const images = await listFilesByStem(vis.imageDir, vis.imageExt ?? '.jpg', 'image');
  const written: string[] = [];
  for (const key of keys.slice(0, vis.max ?? 20)) {
    const image = images.get(key);
    if (image === undefined) continue; // visualization is best effort; scoring already happened
    const [gt, pred] = await Promise.all([readLabelMap(gts.get(key)!), readLabelMap(preds.get(key)!)]);
    // Show what was scored: VOC-20b's background concepts appear as the one background class.
    const predData =
      evaluator.variant === 'voc20b' ? pred.data.map((v) => Math.min(v, VOC20B_NUM_FOREGROUND)) : pred.data;
    const outPath = join(outDir, 'vis', `${key}.png`);
    await writeSideBySide({
      image,
      gt,
      pred: { width: pred.width, height: pred.height, data: predData },
      classNames: evaluator.evalClassNames,
      ignoreLabel: evaluator.ignoreLabel,
      outPath,
    });
    written.push(outPath);
  }
  return written;
}
