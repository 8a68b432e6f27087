// The segmenters that need nothing but CLIP's weights, by name: MaskCLIP and the training-free
// methods (NACLIP, SCLIP, ClearCLIP), each optionally refined by PAMR. What `ahs-seg segment`
// runs without --weights and `ahs-seg eval --method` evaluates.
import { AhsError } from '../errors.js';
import type { CLIP } from '../models/clip/clip_model.js';
import { MaskClipSegmenter } from '../models/clip/maskclip.js';
import { promptTemplates, type PromptEnsemble } from '../models/clip/prompts.js';
import type { TextEmbedder } from '../models/clip/text_embedder.js';
import { buildTrainingFree, isTrainingFreeMethod, REFERENCE_PAMR, TRAINING_FREE_METHODS, trainingFreeDefaults } from '../models/tfree/methods.js';
import { PamrRefined, type ScoreMapSegmenter } from '../models/tfree/pamr_refined.js';
import type { TrainingFreeSettings } from '../models/tfree/settings.js';
import type { Segmenter } from './segmenter.js';

export const ZERO_SHOT_METHODS = ['maskclip', ...TRAINING_FREE_METHODS] as const;
export type ZeroShotMethod = (typeof ZERO_SHOT_METHODS)[number];
/** NACLIP with PAMR: the best published mIoU of these on ADE-150, PC-59 and VOC-20 (README). */
export const DEFAULT_ZERO_SHOT_METHOD: ZeroShotMethod = 'naclip';

export interface ZeroShotOptions {
  method: string;
  /** PAMR on or off; undefined = the method's own default (on for NACLIP only). */
  pamr?: boolean;
  /** Prompt templates instead of the method's (all default to the ImageNet 80). */
  prompts?: PromptEnsemble;
  /** Shorter image side instead of the method's (MaskCLIP 448, NACLIP 336, SCLIP 336, ClearCLIP 448). */
  shortSide?: number;
  /** Further settings of a training-free method (a reference's per-benchmark configuration). */
  settings?: Partial<TrainingFreeSettings>;
}

export interface ZeroShotSegmenter extends Segmenter, ScoreMapSegmenter {
  /** Frees the segmenter's caches (not the CLIP weights). */
  dispose(): void;
}

export function isZeroShotMethod(name: string): name is ZeroShotMethod {
  return (ZERO_SHOT_METHODS as readonly string[]).includes(name);
}

/** The method's display name with its refinement, e.g. "NACLIP+PAMR" (results tables). */
export function zeroShotName(method: ZeroShotMethod, pamr: boolean): string {
  const base = { maskclip: 'MaskCLIP', naclip: 'NACLIP', sclip: 'SCLIP', clearclip: 'ClearCLIP' }[method];
  return pamr ? `${base}+PAMR` : base;
}

/** Whether PAMR runs for these options. */
export function zeroShotUsesPamr(method: ZeroShotMethod, pamr: boolean | undefined, settings: Partial<TrainingFreeSettings> = {}): boolean {
  if (pamr !== undefined) return pamr;
  if (method === 'maskclip') return false;
  return (settings.pamr ?? trainingFreeDefaults(method).pamr) !== null;
}

export function zeroShotSegmenter(clip: CLIP, text: TextEmbedder, opts: ZeroShotOptions): ZeroShotSegmenter {
  const method = opts.method;
  if (!isZeroShotMethod(method)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--method '${method}' is not one of ${ZERO_SHOT_METHODS.join(', ')}`);
  if (opts.shortSide !== undefined && (!Number.isInteger(opts.shortSide) || opts.shortSide < 1)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--short-side must be a positive integer, got ${opts.shortSide}`);
  }
  const pamr = zeroShotUsesPamr(method, opts.pamr, opts.settings);
  if (!isTrainingFreeMethod(method)) {
    const maskclip = new MaskClipSegmenter(clip, text, { prompts: opts.prompts, shortSide: opts.shortSide });
    const seg: Segmenter & ScoreMapSegmenter = pamr ? new PamrRefined(maskclip, REFERENCE_PAMR) : maskclip;
    return { scores: (i, c) => seg.scores(i, c), labels: (i, c) => seg.labels(i, c), dispose: () => {} };
  }
  const settings: Partial<TrainingFreeSettings> = { ...opts.settings, pamr: pamr ? (opts.settings?.pamr ?? trainingFreeDefaults(method).pamr ?? REFERENCE_PAMR) : null };
  if (opts.prompts) settings.templates = promptTemplates(opts.prompts);
  if (opts.shortSide !== undefined) settings.shortSide = opts.shortSide;
  return buildTrainingFree(method, clip, text, settings);
}
