// `ahs-seg prepare`: turns an official dataset download into the detectron2 layout that CAT-Seg's
// datasets/README.md describes and src/data/benchmarks.ts reads, by re-doing what CAT-Seg's
// datasets/prepare_*.py scripts compute. One converter per dataset, each in its own file; each is
// loaded only when asked for. Re-running skips finished outputs, so an interrupted run resumes.

import { AhsError } from '../../errors.js';
import type { PrepareOptions, PrepareReport } from './common.js';

export type { PrepareOptions, PrepareProgress, PrepareReport, PrepareTaskReport } from './common.js';

export interface PrepareDataset {
  name: PrepareName;
  /** The CAT-Seg script it re-does. */
  script: string;
  /** Benchmarks (src/data/benchmarks.ts) it produces; COCO-Stuff also gives the training set. */
  benchmarks: readonly string[];
  run(opts: PrepareOptions): Promise<PrepareReport>;
}

export const PREPARE_NAMES = ['coco-stuff', 'ade150', 'ade847', 'pc59', 'pc459', 'voc'] as const;
export type PrepareName = (typeof PREPARE_NAMES)[number];

export const PREPARE_DATASETS: Readonly<Record<PrepareName, PrepareDataset>> = Object.freeze({
  'coco-stuff': {
    name: 'coco-stuff', script: 'prepare_coco_stuff.py', benchmarks: ['coco171'],
    run: async (o) => (await import('./coco_stuff.js')).prepareCocoStuff(o),
  },
  ade150: {
    name: 'ade150', script: 'prepare_ade20k_150.py', benchmarks: ['ade150'],
    run: async (o) => (await import('./ade20k_150.js')).prepareAde150(o),
  },
  ade847: {
    name: 'ade847', script: 'prepare_ade20k_full.py', benchmarks: ['ade847'],
    run: async (o) => (await import('./ade20k_847.js')).prepareAde847(o),
  },
  pc59: {
    name: 'pc59', script: 'prepare_pascal_context_59.py', benchmarks: ['pc59'],
    run: async (o) => (await import('./pascal_context_59.js')).preparePc59(o),
  },
  pc459: {
    name: 'pc459', script: 'prepare_pascal_context_459.py', benchmarks: ['pc459'],
    run: async (o) => (await import('./pascal_context_459.js')).preparePc459(o),
  },
  voc: {
    name: 'voc', script: 'prepare_voc.py', benchmarks: ['voc20', 'voc20b'],
    run: async (o) => (await import('./voc.js')).prepareVoc(o),
  },
});

/** The converter for `name`; an unknown name lists the choices. */
export function getPrepareDataset(name: string): PrepareDataset {
  if (!(PREPARE_NAMES as readonly string[]).includes(name)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `unknown dataset '${name}' for prepare; expected one of ${PREPARE_NAMES.join(', ')}`);
  }
  return PREPARE_DATASETS[name as PrepareName];
}

/** Converts the download in `opts.src` for `name` into the layout under `opts.root`. */
export async function prepareDataset(name: string, opts: PrepareOptions): Promise<PrepareReport> {
  if (typeof opts.src !== 'string' || opts.src.length === 0) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `prepare ${name}: --src (the unpacked official download) is required`);
  }
  if (typeof opts.root !== 'string' || opts.root.length === 0) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `prepare ${name}: --root (the datasets folder, $DETECTRON2_DATASETS) is required`);
  }
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency >= 1)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `prepare ${name}: concurrency must be a positive integer, got ${opts.concurrency}`);
  }
  return getPrepareDataset(name).run(opts);
}
