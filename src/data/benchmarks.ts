// Registry of the open-vocabulary benchmarks, as CAT-Seg registers them with detectron2
// (cat_seg/data/datasets/register_*.py, datasets/prepare_*.py). Folders are relative to the
// DETECTRON2_DATASETS root (default "datasets"), exactly as the register scripts join them.
//
//   name     detectron2 dataset name               images                                labels (ext, ignore)
//   ade150   ade20k_150_test_sem_seg               ADEChallengeData2016/images/validation  annotations_detectron2/validation (png, 255)
//   ade847   ade20k_full_sem_seg_freq_val_all      ADE20K_2021_17_01/images_detectron2/validation  annotations_detectron2/validation (16-bit tif, 65535)
//   pc59     context_59_test_sem_seg               VOCdevkit/VOC2010/JPEGImages            annotations_detectron2/pc59_val (png, 255)
//   pc459    context_459_test_sem_seg              VOCdevkit/VOC2010/JPEGImages            annotations_detectron2/pc459_val (16-bit tif, 459)
//   voc20    voc_2012_test_sem_seg                 VOCdevkit/VOC2012/JPEGImages            annotations_detectron2/val (png, 255)
//   voc20b   voc_2012_test_background_sem_seg      VOCdevkit/VOC2012/JPEGImages            annotations_detectron2_bg/val (png, 255; background = 20)
//   coco171  coco_2017_test_stuff_all_sem_seg      coco-stuff/images/val2017               annotations_detectron2/val2017 (png, 255)

import { readdir, readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AhsError, check } from '../errors.js';

export type BenchmarkName = 'ade150' | 'ade847' | 'pc59' | 'pc459' | 'voc20' | 'voc20b' | 'coco171';

export interface BenchmarkSpec {
  name: BenchmarkName;
  /** Column title used in results tables (the papers' abbreviations). */
  title: string;
  /** Name CAT-Seg registers in detectron2's DatasetCatalog. */
  datasetName: string;
  split: 'val';
  /** Prompt vocabulary in assets/classes/, in label-index order. */
  classFile: string;
  ignoreLabel: number;
  /** 'voc20b' folds background concepts into one class (CAT-Seg's VOCbEvaluator). */
  evaluatorVariant: 'standard' | 'voc20b';
  /** Image and label folders relative to the dataset root. */
  imageDir: string;
  labelDir: string;
  imageExt: string;
  labelExt: string;
  labelBitDepth: 8 | 16;
}

function spec(s: BenchmarkSpec): BenchmarkSpec {
  return Object.freeze(s);
}

export const BENCHMARKS: Readonly<Record<BenchmarkName, BenchmarkSpec>> = Object.freeze({
  ade150: spec({
    name: 'ade150', title: 'A-150', datasetName: 'ade20k_150_test_sem_seg', split: 'val',
    classFile: 'ade150.json', ignoreLabel: 255, evaluatorVariant: 'standard',
    imageDir: 'ADEChallengeData2016/images/validation',
    labelDir: 'ADEChallengeData2016/annotations_detectron2/validation',
    imageExt: '.jpg', labelExt: '.png', labelBitDepth: 8,
  }),
  ade847: spec({
    name: 'ade847', title: 'A-847', datasetName: 'ade20k_full_sem_seg_freq_val_all', split: 'val',
    classFile: 'ade847.json', ignoreLabel: 65535, evaluatorVariant: 'standard',
    imageDir: 'ADE20K_2021_17_01/images_detectron2/validation',
    labelDir: 'ADE20K_2021_17_01/annotations_detectron2/validation',
    imageExt: '.jpg', labelExt: '.tif', labelBitDepth: 16,
  }),
  pc59: spec({
    name: 'pc59', title: 'PC-59', datasetName: 'context_59_test_sem_seg', split: 'val',
    classFile: 'pc59.json', ignoreLabel: 255, evaluatorVariant: 'standard',
    imageDir: 'VOCdevkit/VOC2010/JPEGImages',
    labelDir: 'VOCdevkit/VOC2010/annotations_detectron2/pc59_val',
    imageExt: '.jpg', labelExt: '.png', labelBitDepth: 8,
  }),
  pc459: spec({
    // register_pascal_context.py sets ignore_label=459 (one past the last class), not 65535.
    name: 'pc459', title: 'PC-459', datasetName: 'context_459_test_sem_seg', split: 'val',
    classFile: 'pc459.json', ignoreLabel: 459, evaluatorVariant: 'standard',
    imageDir: 'VOCdevkit/VOC2010/JPEGImages',
    labelDir: 'VOCdevkit/VOC2010/annotations_detectron2/pc459_val',
    imageExt: '.jpg', labelExt: '.tif', labelBitDepth: 16,
  }),
  voc20: spec({
    name: 'voc20', title: 'PAS-20', datasetName: 'voc_2012_test_sem_seg', split: 'val',
    classFile: 'voc20.json', ignoreLabel: 255, evaluatorVariant: 'standard',
    imageDir: 'VOCdevkit/VOC2012/JPEGImages',
    labelDir: 'VOCdevkit/VOC2012/annotations_detectron2/val',
    imageExt: '.jpg', labelExt: '.png', labelBitDepth: 8,
  }),
  voc20b: spec({
    name: 'voc20b', title: 'PAS-20b', datasetName: 'voc_2012_test_background_sem_seg', split: 'val',
    classFile: 'voc20b.json', ignoreLabel: 255, evaluatorVariant: 'voc20b',
    imageDir: 'VOCdevkit/VOC2012/JPEGImages',
    labelDir: 'VOCdevkit/VOC2012/annotations_detectron2_bg/val',
    imageExt: '.jpg', labelExt: '.png', labelBitDepth: 8,
  }),
  coco171: spec({
    name: 'coco171', title: 'COCO-Stuff', datasetName: 'coco_2017_test_stuff_all_sem_seg', split: 'val',
    classFile: 'coco.json', ignoreLabel: 255, evaluatorVariant: 'standard',
    imageDir: 'coco-stuff/images/val2017',
    labelDir: 'coco-stuff/annotations_detectron2/val2017',
    imageExt: '.jpg', labelExt: '.png', labelBitDepth: 8,
  }),
});

/** Column order of the CAT-Seg / AHS-Seg main results table. */
export const MAIN_TABLE_BENCHMARKS: readonly BenchmarkName[] = ['ade847', 'pc459', 'ade150', 'pc59', 'voc20', 'voc20b'];

/** Looks a benchmark up by short name ('ade150') or detectron2 dataset name. */
export function getBenchmark(name: string): BenchmarkSpec {
  const all = Object.values(BENCHMARKS);
  const found = all.find((b) => b.name === name || b.datasetName === name);
  if (!found) {
    throw new AhsError(
      'AHS_ERR_INVALID_ARGUMENT',
      `unknown benchmark '${name}'; expected one of ${all.map((b) => b.name).join(', ')} ` +
        `(or their detectron2 names ${all.map((b) => b.datasetName).join(', ')})`,
    );
  }
  return found;
}

// The module sits two levels below the package root in both src/data and dist/data.
const CLASSES_DIR = fileURLToPath(new URL('../../assets/classes/', import.meta.url));

/** Absolute path of the benchmark's class list. */
export function classListPath(benchmark: BenchmarkSpec | string): string {
  const b = typeof benchmark === 'string' ? getBenchmark(benchmark) : benchmark;
  return join(CLASSES_DIR, b.classFile);
}

/** The benchmark's prompt vocabulary, in label-index order. */
export async function loadClassNames(benchmark: BenchmarkSpec | string): Promise<string[]> {
  const path = classListPath(benchmark);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'AHS_ERR_FILE_NOT_FOUND' : 'AHS_ERR_FILE_FORMAT';
    throw new AhsError(code, `class list '${path}' could not be read: ${(err as Error).message}`, { cause: err });
  }
  check(
    Array.isArray(parsed) && parsed.length > 0 && parsed.every((c) => typeof c === 'string'),
    'AHS_ERR_FILE_FORMAT',
    () => `class list '${path}' must be a non-empty JSON array of strings`,
  );
  return parsed;
}

/**
 * Files in `dir` (not recursive) ending in `ext`, keyed by file name without `ext`, sorted by
 * stem. `what` names the folder's role in the error raised when it is missing.
 */
export async function listFilesByStem(dir: string, ext: string, what: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AhsError('AHS_ERR_DATASET', `${what} folder '${resolve(dir)}' does not exist`, { cause: err });
    }
    throw err;
  }
  const out = new Map<string, string>();
  for (const f of names.sort()) {
    if (extname(f) === ext) out.set(f.slice(0, -ext.length), join(dir, f));
  }
  return out;
}

export interface BenchmarkSample {
  /** File stem shared by image and label, e.g. 'ADE_val_00000001'. */
  key: string;
  imagePath: string;
  labelPath: string;
}

/**
 * Pairs images with labels by stem, sorted by stem. Like detectron2's load_sem_seg, images without
 * a label are skipped (VOC's JPEGImages holds the whole trainval set); unlike it, a label
 * without its image is an error, because silently dropping ground truth changes the score.
 */
export async function listBenchmarkSamples(
  benchmark: BenchmarkSpec | string,
  root: string = process.env['DETECTRON2_DATASETS'] ?? 'datasets',
): Promise<BenchmarkSample[]> {
  const b = typeof benchmark === 'string' ? getBenchmark(benchmark) : benchmark;
  const layout = `${b.name} (${b.datasetName}) expects <root>/${b.imageDir} and <root>/${b.labelDir} with root '${resolve(root)}' (set DETECTRON2_DATASETS; see CAT-Seg datasets/README.md)`;
  const imageDir = join(root, b.imageDir);
  const labelDir = join(root, b.labelDir);
  const withLayout = async (dir: string, ext: string, what: string): Promise<Map<string, string>> => {
    try {
      return await listFilesByStem(dir, ext, what);
    } catch (err) {
      if (err instanceof AhsError) throw new AhsError(err.code, `${err.message}; ${layout}`, { cause: err });
      throw err;
    }
  };
  const labels = await withLayout(labelDir, b.labelExt, 'label');
  const images = await withLayout(imageDir, b.imageExt, 'image');
  check(labels.size > 0, 'AHS_ERR_DATASET', () => `no '*${b.labelExt}' labels in '${resolve(labelDir)}'; ${layout}`);
  const missing = [...labels.keys()].filter((k) => !images.has(k));
  check(
    missing.length === 0,
    'AHS_ERR_DATASET',
    () =>
      `${missing.length} of ${labels.size} labels in '${resolve(labelDir)}' have no '${b.imageExt}' image in ` +
      `'${resolve(imageDir)}' (e.g. ${missing.slice(0, 5).join(', ')})`,
  );
  return [...labels].map(([key, labelPath]) => ({ key, imagePath: images.get(key)!, labelPath }));
}
