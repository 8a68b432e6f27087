// The builder that reads the config (detectron2's from_config): MODEL.* keys -> CatSegOptions.
// Modules themselves take typed options only.
import { existsSync } from 'node:fs';
import { AhsError } from '../../errors.js';
import type { AhsConfig } from '../../config/index.js';
import { readStateDict } from '../../io/state_dict.js';
import { clipConfigFromShapes, type ClipConfig } from '../clip/clip_model.js';
import { KNOWN_CLIPS } from '../clip/known_models.js';
import { promptTemplates, type PromptEnsemble } from '../clip/prompts.js';
import { aggregatorOptionsFromConfig } from './catseg_head.js';
import { CATSeg, type CatSegOptions } from './catseg_model.js';

export interface ClipSpec { config: ClipConfig; taps: [number, number]; inputSize: number; weightsPath?: string }

/**
 * MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED: one of CAT-Seg's names (ViT-B/16, ViT-L/14@336px), or a
 * path to CLIP weights (its sizes read from the file's shapes; taps at 1/3 and 2/3 of the depth,
 * which gives CAT-Seg's 3, 7 for 12 blocks and 7, 15 for 24; input = feature grid x patch).
 */
export function clipSpecFromConfig(cfg: AhsConfig): ClipSpec {
  const name = cfg.MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED;
  const known = KNOWN_CLIPS[name];
  if (known) return { config: { ...known.config }, taps: known.taps, inputSize: known.inputSize };
  if (!existsSync(name)) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED '${name}' is neither ${Object.keys(KNOWN_CLIPS).join(' nor ')} nor an existing weights file`);
  }
  const sd = readStateDict(name);
  const shapes = new Map([...sd].map(([k, t]) => [k.replace(/^sem_seg_head\.predictor\.clip_model\./, ''), t.shape]));
  const config = clipConfigFromShapes(shapes);
  const L = config.visionLayers;
  const taps: [number, number] = [Math.round(L / 3) - 1, Math.round((2 * L) / 3) - 1];
  const inputSize = cfg.MODEL.SEM_SEG_HEAD.FEATURE_RESOLUTION[0]! * config.visionPatchSize;
  return { config, taps, inputSize, weightsPath: name };
}

export function catsegOptionsFromConfig(cfg: AhsConfig, clip: ClipSpec = clipSpecFromConfig(cfg)): CatSegOptions {
  const h = cfg.MODEL.SEM_SEG_HEAD;
  const templates = promptTemplates(cfg.MODEL.PROMPT_ENSEMBLE_TYPE as PromptEnsemble);
  const pooling: [number, number] = [h.POOLING_SIZES[0]!, h.POOLING_SIZES[1]!];
  const grid = clip.inputSize / clip.config.visionPatchSize;
  if (grid !== h.FEATURE_RESOLUTION[0] || grid !== h.FEATURE_RESOLUTION[1]) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.SEM_SEG_HEAD.FEATURE_RESOLUTION [${h.FEATURE_RESOLUTION}] does not match CLIP's ${grid}x${grid} patch grid at ${clip.inputSize}px`);
  }
  if (h.APPEARANCE_GUIDANCE_DIM !== clip.config.embedDim || h.TEXT_GUIDANCE_DIM !== clip.config.embedDim) {
    throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.SEM_SEG_HEAD.APPEARANCE_GUIDANCE_DIM (${h.APPEARANCE_GUIDANCE_DIM}) and TEXT_GUIDANCE_DIM (${h.TEXT_GUIDANCE_DIM}) must equal CLIP's embedding width ${clip.config.embedDim}`);
  }
  return {
    clip: clip.config,
    aggregator: aggregatorOptionsFromConfig(h, { promptChannels: templates.length, poolingSize: pooling }),
    taps: clip.taps,
    clipInputSize: clip.inputSize,
    finetune: h.CLIP_FINETUNE,
    templates,
    ignoreValue: h.IGNORE_VALUE,
    lossIgnoreMode: h.LOSS_IGNORE_MODE,
    classChunk: 8,
    // One POOLING_SIZES serves training and test, as in CAT-Seg (eval.sh overrides it to [1, 1]).
    trainPooling: pooling,
    testPooling: pooling,
  };
}

/** CATSeg from a config, randomly initialised (load weights with loadCatSegCheckpoint). */
export function buildCatSeg(cfg: AhsConfig, opts: { textCacheDir?: string | null } = {}): CATSeg {
  return new CATSeg(catsegOptionsFromConfig(cfg), opts.textCacheDir ?? null);
}

/** The overrides of CAT-Seg's eval.sh: sliding window, class-aggregation pooling 1x1. */
export const EVAL_SH_OVERRIDES = ['TEST.SLIDING_WINDOW', 'True', 'MODEL.SEM_SEG_HEAD.POOLING_SIZES', '[1,1]'];
