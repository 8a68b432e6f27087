// Training datasets by name: the sets CAT-Seg registers with detectron2
// (cat_seg/data/datasets/register_*.py) under their DatasetCatalog names, or a custom folder.
//
//   coco_2017_train_stuff_all_sem_seg   coco-stuff/images/train2017  coco-stuff/annotations_detectron2/train2017  (png, 255)
//   + every benchmark of benchmarks.ts by its datasetName (ade20k_150_test_sem_seg, ...), same folders.
//
// CAT-Seg registers no other training split (register_coco_stuff.py's "train"; the others are
// "test" only). Folders are relative to the root: opts.root, else $DETECTRON2_DATASETS, else
// "datasets", as detectron2 joins them.
import { join, resolve } from 'node:path';
import { AhsError } from '../errors.js';
import { BENCHMARKS, listBenchmarkSamples, loadClassNames, type BenchmarkSpec } from './benchmarks.js';
import { isDirectory, loadCustomDataset } from './custom_dataset.js';
import { pairByStem } from './dataset_pairing.js';
import type { SegDataset } from './sample.js';

/** A training split CAT-Seg registers (besides the benchmarks' test splits). */
export interface TrainSplitSpec {
  datasetName: string;
  /** The benchmark whose class list and ignore label the split shares. */
  vocabularyOf: BenchmarkSpec;
  imageDir: string;
  labelDir: string;
  imageExt: string;
  labelExt: string;
}

export const TRAIN_SPLITS: readonly TrainSplitSpec[] = Object.freeze([
  Object.freeze({
    datasetName: 'coco_2017_train_stuff_all_sem_seg',
    vocabularyOf: BENCHMARKS.coco171,
    imageDir: 'coco-stuff/images/train2017',
    labelDir: 'coco-stuff/annotations_detectron2/train2017',
    imageExt: '.jpg',
    labelExt: '.png',
  }),
]);

/** Every name resolveDataset knows, training splits first. */
export function registeredDatasetNames(): string[] {
  return [...TRAIN_SPLITS.map((s) => s.datasetName), ...Object.values(BENCHMARKS).map((b) => b.datasetName)];
}

function datasetRoot(root?: string): string {
  return root ?? process.env['DETECTRON2_DATASETS'] ?? 'datasets';
}

async function loadTrainSplit(s: TrainSplitSpec, root: string): Promise<SegDataset> {
  const items = await pairByStem({
    imageDir: join(root, s.imageDir),
    imageExts: [s.imageExt],
    labelDir: join(root, s.labelDir),
    labelExts: [s.labelExt],
    // load_sem_seg keeps the intersection of images and labels.
    imagesWithoutLabel: 'skip',
    hint:
      `${s.datasetName} expects <root>/${s.imageDir} and <root>/${s.labelDir} with root '${resolve(root)}' ` +
      `(set DETECTRON2_DATASETS or the dataset root; see CAT-Seg datasets/README.md)`,
  });
  const v = s.vocabularyOf;
  return { name: s.datasetName, classNames: await loadClassNames(v), ignoreLabel: v.ignoreLabel, items };
}

async function loadBenchmarkSplit(b: BenchmarkSpec, root: string): Promise<SegDataset> {
  const samples = await listBenchmarkSamples(b, root);
  return {
    name: b.datasetName,
    classNames: await loadClassNames(b),
    ignoreLabel: b.ignoreLabel,
    items: samples.map(({ key, imagePath, labelPath }) => ({ key, imagePath, labelPath })),
  };
}

/**
 * A registered detectron2 dataset name, or the path of a custom dataset folder (see
 * custom_dataset.ts). A registered name wins over a folder of the same name.
 */
export async function resolveDataset(nameOrPath: string, opts: { root?: string } = {}): Promise<SegDataset> {
  const root = datasetRoot(opts.root);
  const split = TRAIN_SPLITS.find((s) => s.datasetName === nameOrPath);
  if (split) return loadTrainSplit(split, root);
  const bench = Object.values(BENCHMARKS).find((b) => b.datasetName === nameOrPath);
  if (bench) return loadBenchmarkSplit(bench, root);
  if (await isDirectory(nameOrPath)) return loadCustomDataset(nameOrPath);
  const short = Object.values(BENCHMARKS).find((b) => b.name === nameOrPath);
  const hint = short ? ` (the benchmark '${short.name}' is registered as '${short.datasetName}')` : '';
  throw new AhsError(
    'AHS_ERR_DATASET',
    `'${nameOrPath}' is neither a registered dataset${hint} nor a dataset folder ('${resolve(nameOrPath)}' ` +
      `is not a directory); registered: ${registeredDatasetNames().join(', ')}`,
  );
}
