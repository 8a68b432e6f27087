// Evaluation of a model on registered or custom datasets (DATASETS.TEST), in memory: used during
// training (TEST.EVAL_PERIOD) and by `ahs-seg train --eval-only`. The benchmark CLI keeps its own
// resumable loop (evaluate_benchmark.ts); this one is for datasets of any layout.
import { join } from 'node:path';
import { BENCHMARKS } from '../data/benchmarks.js';
import { readImage } from '../data/image_io.js';
import { readLabelMap } from '../data/label_io.js';
import type { SegDataset } from '../data/sample.js';
import { AhsError } from '../errors.js';
import { writeEvalReport, writePerClassCsv, writeResultsJson } from '../eval/report.js';
import { SemSegEvaluator, type SemSegEvaluatorState } from '../eval/sem_seg_evaluator.js';
import type { SemSegResults } from '../eval/sem_seg_metrics.js';
import type { PixelLabeler } from '../models/seg_model.js';
import { segmentImage } from './segmenter.js';

export interface DatasetEvalOptions {
  /** Where results.json, per_class.csv and results.md go (one sub-folder per dataset). */
  outDir?: string;
  model?: string;
  onProgress?: (dataset: string, done: number, total: number) => void;
  /** Data-parallel evaluation: this rank takes images rank, rank + worldSize, ...; the ranks'
   * confusion matrices are then gathered and summed (detectron2's SemSegEvaluator.evaluate). */
  shard?: EvalShard;
}

export interface EvalShard {
  rank: number;
  worldSize: number;
  /** Every rank's evaluator state, by rank. */
  allGather(state: SemSegEvaluatorState): Promise<SemSegEvaluatorState[]>;
}

/** detectron2's inference_on_dataset with SemSegEvaluator: every image, arg-max, confusion matrix. */
export async function evaluateDataset(labeler: PixelLabeler, ds: SegDataset, opts: DatasetEvalOptions = {}): Promise<SemSegResults> {
  const bench = Object.values(BENCHMARKS).find((b) => b.datasetName === ds.name);
  let evaluator = new SemSegEvaluator({ classNames: ds.classNames, ignoreLabel: ds.ignoreLabel, variant: bench?.evaluatorVariant ?? 'standard' });
  const shard = opts.shard;
  const items = shard ? ds.items.filter((_, i) => i % shard.worldSize === shard.rank) : ds.items;
  let done = 0;
  for (const item of items) {
    const [image, gt] = await Promise.all([readImage(item.imagePath), readLabelMap(item.labelPath)]);
    if (image.width !== gt.width || image.height !== gt.height) {
      throw new AhsError('AHS_ERR_DATASET', `image ${item.imagePath} is ${image.width}x${image.height} but its label ${item.labelPath} is ${gt.width}x${gt.height}`);
    }
    const seg = segmentImage(labeler, image, ds.classNames);
    evaluator.process(seg.labels, gt.data, item.key);
    opts.onProgress?.(ds.name, ++done, items.length);
  }
  if (shard && shard.worldSize > 1) {
    // merge() refuses an image counted twice, so overlapping shards cannot pass unnoticed.
    const states = await shard.allGather(evaluator.toJSON());
    evaluator = SemSegEvaluator.fromJSON(states[0], `rank 0's evaluation of ${ds.name}`);
    for (const [r, st] of states.entries()) if (r > 0) evaluator.merge(SemSegEvaluator.fromJSON(st, `rank ${r}'s evaluation of ${ds.name}`));
  }
  const results = evaluator.evaluate();
  if (opts.outDir) {
    const dir = join(opts.outDir, safeName(ds.name));
    if (bench) await writeEvalReport(dir, results, evaluator.evalClassNames, opts.model ?? 'model', bench.name);
    else {
      await writeResultsJson(join(dir, 'results.json'), results);
      await writePerClassCsv(join(dir, 'per_class.csv'), results, evaluator.evalClassNames);
    }
  }
  return results;
}

/** A dataset name as a folder name (custom datasets are named by their path). */
export function safeName(name: string): string {
  return name.replace(/^[./]+/, '').replace(/[^A-Za-z0-9_.-]+/g, '_') || 'dataset';
}

/** detectron2's flatten_results_dict: {'sem_seg': {'mIoU': 1}} -> {'sem_seg/mIoU': 1}; with
 * several datasets each key is prefixed by the dataset's name. */
export function flattenResults(byDataset: Map<string, SemSegResults>): Record<string, number> {
  const out: Record<string, number> = {};
  const single = byDataset.size === 1;
  for (const [name, r] of byDataset) {
    for (const [k, v] of Object.entries(r.sem_seg)) {
      if (typeof v !== 'number' || k.startsWith('IoU-') || k.startsWith('ACC-')) continue;
      out[single ? `sem_seg/${k}` : `${name}/sem_seg/${k}`] = v;
    }
  }
  return out;
}
