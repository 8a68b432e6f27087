// Evaluates a segmenter on one benchmark with the standard protocol: every validation image,
// arg-max over the benchmark's classes, detectron2's SemSegEvaluator. Per-image progress is saved
// as it goes (eval_state.json), so an interrupted evaluation resumes where it stopped.
import { join, resolve } from 'node:path';
import { getBenchmark, listBenchmarkSamples, loadClassNames, type BenchmarkSpec } from '../data/benchmarks.js';
import { readImage } from '../data/image_io.js';
import { readLabelMap } from '../data/label_io.js';
import { AhsError } from '../errors.js';
import { writeEvalReport, type EvalReportFiles } from '../eval/report.js';
import { ResumableRun } from '../eval/resumable_run.js';
import { SemSegEvaluator } from '../eval/sem_seg_evaluator.js';
import type { SemSegResults } from '../eval/sem_seg_metrics.js';
import { segmentImage, type Segmenter } from './segmenter.js';

export interface BenchmarkEvalOptions {
  segmenter: Segmenter;
  benchmark: string;
  /** Dataset root in detectron2's layout (default $DETECTRON2_DATASETS, else ./datasets). */
  datasetRoot?: string;
  outDir: string;
  /** Row name in results.md. */
  model: string;
  /** What identifies the model and protocol; a saved state from another run is refused. */
  fingerprint: Record<string, unknown>;
  resume?: boolean;
  /** The class names the segmenter is given, in label order (default: the benchmark's own list;
   * a training-free method's reference vocabulary, one entry per label). */
  promptClassNames?: string[];
  /** Only the first N images (sorted by name): quick checks, not reportable numbers. */
  limit?: number;
  checkpointEvery?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface BenchmarkEvalSummary {
  benchmark: BenchmarkSpec;
  results: SemSegResults;
  numImages: number;
  resumedImages: number;
  /** Wall seconds per image evaluated in this session (reading, inference, scoring). */
  secondsPerImage: number;
  files: EvalReportFiles & { state: string };
}

export async function evaluateBenchmark(opts: BenchmarkEvalOptions): Promise<BenchmarkEvalSummary> {
  const bench = getBenchmark(opts.benchmark);
  const classNames = await loadClassNames(bench);
  const prompts = opts.promptClassNames ?? classNames;
  if (prompts.length !== classNames.length) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${bench.name}: ${prompts.length} prompt class names for its ${classNames.length} classes`);
  }
  if (opts.limit !== undefined && !(Number.isSafeInteger(opts.limit) && opts.limit >= 1)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `limit must be an integer >= 1 (images per benchmark), got ${opts.limit}`);
  }
  let samples = await listBenchmarkSamples(bench, opts.datasetRoot);
  if (opts.limit !== undefined) samples = samples.slice(0, opts.limit);
  const evaluator = new SemSegEvaluator({ classNames, ignoreLabel: bench.ignoreLabel, variant: bench.evaluatorVariant });
  const statePath = join(opts.outDir, 'eval_state.json');
  const run = await ResumableRun.open({
    statePath, evaluator, resume: opts.resume,
    fingerprint: { ...opts.fingerprint, benchmark: bench.name, root: resolve(opts.datasetRoot ?? process.env.DETECTRON2_DATASETS ?? 'datasets'), images: samples.length },
    ...(opts.checkpointEvery ? { every: opts.checkpointEvery } : {}),
  });
  let done = 0;
  let fresh = 0;
  const t0 = Date.now();
  for (const s of samples) {
    if (!run.isDone(s.key)) {
      const [image, gt] = await Promise.all([readImage(s.imagePath), readLabelMap(s.labelPath)]);
      if (image.width !== gt.width || image.height !== gt.height) {
        throw new AhsError('AHS_ERR_DATASET', `image ${s.imagePath} is ${image.width}x${image.height} but its label ${s.labelPath} is ${gt.width}x${gt.height}`);
      }
      const seg = segmentImage(opts.segmenter, image, prompts);
      await run.process(seg.labels, gt.data, s.key);
      fresh++;
    }
    opts.onProgress?.(++done, samples.length);
  }
  await run.save();
  const results = evaluator.evaluate();
  const files = await writeEvalReport(opts.outDir, results, evaluator.evalClassNames, opts.model, bench.name);
  return {
    benchmark: bench, results, numImages: evaluator.numImages, resumedImages: run.resumedImages,
    secondsPerImage: fresh ? (Date.now() - t0) / 1000 / fresh : 0,
    files: { ...files, state: statePath },
  };
}
