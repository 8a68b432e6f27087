// From DATASETS.TRAIN / DATASETS.TEST to what the trainer consumes: datasets resolved, checked
// before the first step, the class vocabulary (TRAIN_CLASS_JSON / TEST_CLASS_JSON when they name
// a file), and the threaded loader with the MaskFormer semantic mapper, collated into tensors.
import { existsSync, readFileSync } from 'node:fs';
import type { AhsConfig } from '../../config/index.js';
import { parseClassList } from '../../data/custom_dataset.js';
import { validateDataset } from '../../data/dataset_validation.js';
import { resolveDataset } from '../../data/datasets.js';
import { TrainLoader } from '../../data/loader.js';
import type { SegDataset } from '../../data/sample.js';
import type { SemanticMapperOptions } from '../../data/semantic_mapper.js';
import { AhsError } from '../../errors.js';
import { dispose, type Device } from '../../tensor/index.js';
import { collate } from './collate.js';
import type { BatchSource } from './trainer.js';

/** A class JSON named by the config replaces the dataset's own list when the file exists (CAT-Seg
 * reads only the JSON); it must name as many classes as the labels index. */
function withClassJson(ds: SegDataset, key: string, path: string, log: (l: string) => void): SegDataset {
  if (!path || !existsSync(path)) {
    if (path) log(`[data] ${key} '${path}' does not exist: using the class list of ${ds.name} (${ds.classNames.length} classes)`);
    return ds;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${key} '${path}' is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const { classNames: classes } = parseClassList(parsed, path);
  if (classes.length !== ds.classNames.length) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `${key} '${path}' names ${classes.length} classes but the labels of ${ds.name} index ${ds.classNames.length}`);
  }
  return { ...ds, classNames: classes };
}

/** DATASETS.TRAIN merged into one dataset (they must share one vocabulary), checked. */
export async function resolveTrainDatasets(cfg: AhsConfig, root: string | undefined, log: (l: string) => void): Promise<SegDataset> {
  const names = cfg.DATASETS.TRAIN;
  if (names.length === 0) throw new AhsError('AHS_ERR_CONFIG_VALUE', 'DATASETS.TRAIN is empty: name a registered dataset (e.g. coco_2017_train_stuff_all_sem_seg) or a custom dataset folder');
  const sets = await Promise.all(names.map((n) => resolveDataset(n, { root })));
  const first = sets[0]!;
  for (const s of sets.slice(1)) {
    if (s.classNames.join('\n') !== first.classNames.join('\n') || s.ignoreLabel !== first.ignoreLabel) {
      throw new AhsError('AHS_ERR_CONFIG_VALUE', `DATASETS.TRAIN: ${s.name} and ${first.name} have different class lists or ignore labels; train on datasets of one vocabulary`);
    }
  }
  const merged: SegDataset = { ...first, name: names.join('+'), items: sets.flatMap((s) => s.items) };
  const ds = withClassJson(merged, 'MODEL.SEM_SEG_HEAD.TRAIN_CLASS_JSON', cfg.MODEL.SEM_SEG_HEAD.TRAIN_CLASS_JSON, log);
  for (const s of sets) {
    const summary = await validateDataset(s);
    log(`[data] ${summary.description}`);
  }
  return ds;
}

/** DATASETS.TEST, each with its own vocabulary (TEST_CLASS_JSON applies when there is one). */
export async function resolveTestDatasets(cfg: AhsConfig, root?: string): Promise<SegDataset[]> {
  const names = cfg.DATASETS.TEST;
  const sets = await Promise.all(names.map((n) => resolveDataset(n, { root })));
  const json = cfg.MODEL.SEM_SEG_HEAD.TEST_CLASS_JSON;
  return sets.map((s) => (sets.length === 1 ? withClassJson(s, 'MODEL.SEM_SEG_HEAD.TEST_CLASS_JSON', json, () => undefined) : s));
}

export interface TrainingData extends BatchSource {
  /** The loader position to store in a checkpoint (the batches handed out so far). */
  state(): unknown;
  close(): Promise<void>;
}

export async function openTrainingData(cfg: AhsConfig, ds: SegDataset, mapper: SemanticMapperOptions, o: { seed: number; batchSize: number; resume?: unknown; rank?: number; worldSize?: number; device?: Device }): Promise<TrainingData> {
  const modelIgnore = cfg.MODEL.SEM_SEG_HEAD.IGNORE_VALUE;
  if (modelIgnore !== ds.ignoreLabel && modelIgnore < ds.classNames.length) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.SEM_SEG_HEAD.IGNORE_VALUE ${modelIgnore} is a class index of ${ds.name} (${ds.classNames.length} classes); set it to the dataset's ignore label ${ds.ignoreLabel}`);
  }
  const loader = new TrainLoader({
    dataset: ds,
    batchSize: o.batchSize,
    seed: o.seed,
    rank: o.rank ?? 0,
    worldSize: o.worldSize ?? 1, // each process takes its shard of the one shuffled stream
    numWorkers: cfg.DATALOADER.NUM_WORKERS,
    aspectRatioGrouping: cfg.DATALOADER.ASPECT_RATIO_GROUPING,
    mapper: { module: new URL('../../data/semantic_mapper.js', import.meta.url).href, exportName: 'mapSemanticSample', options: mapper },
    ...(o.resume !== undefined ? { resume: o.resume as never } : {}),
  });
  return {
    async next() {
      const { samples, dataTimeMs } = await loader.next();
      let { images, labels } = collate(samples, { datasetIgnore: ds.ignoreLabel, modelIgnore });
      if (o.device && o.device !== 'cpu') {
        const cpu = [images, labels];
        [images, labels] = [images.to(o.device), labels.to(o.device)];
        dispose(cpu);
      }
      return { batch: { images, labels, classNames: ds.classNames }, dataTimeMs, dispose: () => dispose([images, labels]) };
    },
    state: () => loader.state(),
    close: () => loader.close(),
  };
}
