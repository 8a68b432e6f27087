// The training-free segmenters by name, with each one's reference defaults, and the settings and
// class names each reference repository evaluates a benchmark with (its configs/cfg_<dataset>.py
// and configs/cls_<dataset>.txt), so that `ahs-seg eval --method` reproduces its protocol.
import { readFileSync } from 'node:fs';
import { AhsError } from '../../errors.js';
import type { CLIP } from '../clip/clip_model.js';
import type { TextEmbedder } from '../clip/text_embedder.js';
import { clearclip, clearclipDefaults } from './clearclip.js';
import { naclip, naclipDefaults } from './naclip.js';
import type { PamrOptions } from './pamr.js';
import { sclip, sclipDefaults } from './sclip.js';
import type { TrainingFreeSettings } from './settings.js';
import type { TrainingFreeSegmenter } from './training_free_segmenter.js';

export const TRAINING_FREE_METHODS = ['naclip', 'sclip', 'clearclip'] as const;
export type TrainingFreeMethod = (typeof TRAINING_FREE_METHODS)[number];

const BUILDERS: Record<TrainingFreeMethod, {
  defaults: () => TrainingFreeSettings;
  build: (clip: CLIP, text: TextEmbedder, settings: Partial<TrainingFreeSettings>) => TrainingFreeSegmenter;
}> = {
  naclip: { defaults: naclipDefaults, build: (c, t, s) => naclip(c, t, s) },
  sclip: { defaults: sclipDefaults, build: sclip },
  clearclip: { defaults: clearclipDefaults, build: clearclip },
};

/** NACLIP's PAMR setting, what `--pamr` turns on for any method. */
export const REFERENCE_PAMR: PamrOptions = { steps: 10, dilations: [8, 16] };

export function isTrainingFreeMethod(name: string): name is TrainingFreeMethod {
  return (TRAINING_FREE_METHODS as readonly string[]).includes(name);
}

function check(method: string): TrainingFreeMethod {
  if (!isTrainingFreeMethod(method)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `unknown training-free method '${method}' (${TRAINING_FREE_METHODS.join(', ')})`);
  return method;
}

export function trainingFreeDefaults(method: string): TrainingFreeSettings {
  return BUILDERS[check(method)].defaults();
}

export function buildTrainingFree(method: string, clip: CLIP, text: TextEmbedder, settings: Partial<TrainingFreeSettings> = {}): TrainingFreeSegmenter {
  return BUILDERS[check(method)].build(clip, text, settings);
}

/** What each reference's configs/cfg_<dataset>.py changes from its PC-59 defaults, for the
 * benchmarks the repositories cover with ahs-seg's label order. */
const DATASET_CONFIGS: Record<TrainingFreeMethod, Record<string, Partial<TrainingFreeSettings>>> = {
  naclip: { ade150: {}, pc59: {}, voc20: { crop: 0 }, coco171: {} }, // cfg_voc20.py: slide_crop=0
  sclip: { ade150: {}, pc59: {}, voc20: {}, coco171: { shortSide: 448 } }, // cfg_coco_stuff164k.py: Resize (2048, 448)
  clearclip: { ade150: {}, pc59: {}, voc20: {}, coco171: {} },
};

let vocabularies: Record<string, { benchmarks: Record<string, string[]> }> | undefined;

/** The reference's settings and class names for a benchmark, or null where it has none. */
export function referenceBenchmarkSetup(method: string, benchmark: string): { settings: Partial<TrainingFreeSettings>; classNames: string[] } | null {
  const m = check(method);
  const settings = DATASET_CONFIGS[m][benchmark];
  if (!settings) return null;
  vocabularies ??= JSON.parse(readFileSync(new URL('../../../assets/classes/training_free.json', import.meta.url), 'utf8')) as typeof vocabularies;
  const classNames = vocabularies![m]?.benchmarks[benchmark];
  if (!classNames) throw new AhsError('AHS_ERR_FILE_FORMAT', `assets/classes/training_free.json has no ${m} class list for ${benchmark}`);
  return { settings, classNames };
}
