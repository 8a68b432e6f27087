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
import { loadCatSegCheckpoint, loadClipIntoCatSeg } from './checkpoint.js';
import { checkCatSegModelConfig } from './supported_config.js';
import { CatSegPredictor, type CatSegInferenceOptions, type InferenceProtocol } from './inference.js';
import type { BuiltModel } from '../seg_model.js';
import type { AhsComponentOptions, BoundaryMode, DcHspMode, MsFpnTarget } from '../ahs/components.js';
import type { HemMode } from '../ahs/ha_hem.js';

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
  checkCatSegModelConfig(cfg);
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
    sizeDivisibility: cfg.MODEL.MASK_FORMER.SIZE_DIVISIBILITY,
    checkpointClassChunk: h.CHECKPOINT_CLASS_CHUNK,
    clipPixelMean: [...cfg.MODEL.CLIP_PIXEL_MEAN],
    clipPixelStd: [...cfg.MODEL.CLIP_PIXEL_STD],
    oftVisionTransform: cfg.MODEL.AHS.VISION_ORTHO ? 'cayley' : 'free',
    trainVisionAttentionBias: cfg.MODEL.AHS.VISION_ATTN_BIAS_TRAINABLE,
    ahs: ahsComponentsFromConfig(cfg, clip),
  };
}

/** MODEL.SEM_SEG_HEAD.USE_* and MODEL.AHS.* -> which AHS-Seg components the model has. */
export function ahsComponentsFromConfig(cfg: AhsConfig, clip: ClipSpec): AhsComponentOptions {
  const h = cfg.MODEL.SEM_SEG_HEAD, a = cfg.MODEL.AHS;
  const out: AhsComponentOptions = {};
  if (h.USE_ADAPTIVE_ENERGY) {
    if (h.CLIP_FINETUNE !== 'oft_both') {
      throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.SEM_SEG_HEAD.USE_ADAPTIVE_ENERGY: HA-HEM modulates H-CLIP's orthogonal transforms, so it needs MODEL.SEM_SEG_HEAD.CLIP_FINETUNE "oft_both" (got "${h.CLIP_FINETUNE}")`);
    }
    out.hem = { mode: a.HEM_MODE as HemMode, visionOrtho: a.VISION_ORTHO };
  }
  if (h.USE_MULTI_SCALE_FUSION) {
    const L = clip.config.visionLayers;
    const layers = [...h.MS_LAYER_INDICES];
    if (layers.length === 0 || layers.some((l) => !Number.isInteger(l) || l < 0 || l >= L) || new Set(layers).size !== layers.length) {
      throw new AhsError('AHS_ERR_CONFIG_VALUE', `MODEL.SEM_SEG_HEAD.MS_LAYER_INDICES [${layers}] must be distinct CLIP vision blocks in 0..${L - 1} (ViT-B: [3, 7, 11], ViT-L: [7, 15, 23])`);
    }
    out.msfpn = { target: a.MSFPN_TARGET as MsFpnTarget, layers, boundary: a.BOUNDARY_MODE as BoundaryMode };
  }
  if (h.USE_CLASS_AWARE_PROJECTION) out.dchsp = { mode: a.DCHSP_MODE as DcHspMode };
  return out;
}

/** The weight of every loss term the model returns (MODEL.SEM_SEG_HEAD.*_LOSS_WEIGHT). */
export function catsegLossWeights(cfg: AhsConfig, ahs: AhsComponentOptions): Record<string, number> {
  const h = cfg.MODEL.SEM_SEG_HEAD;
  const w: Record<string, number> = { loss_sem_seg: h.SEM_SEG_LOSS_WEIGHT };
  if (ahs.hem) w.loss_energy = h.ENERGY_LOSS_WEIGHT;
  if (ahs.msfpn) w.loss_boundary = h.BOUNDARY_LOSS_WEIGHT;
  if (ahs.dchsp) w.loss_contrastive = h.CONTRASTIVE_LOSS_WEIGHT;
  return w;
}

/** CATSeg from a config, randomly initialised (load weights with loadCatSegCheckpoint). */
export function buildCatSeg(cfg: AhsConfig, opts: { textCacheDir?: string | null } = {}): CATSeg {
  return new CATSeg(catsegOptionsFromConfig(cfg), opts.textCacheDir ?? null);
}

/**
 * META_ARCHITECTURE 'CATSeg' (also H-CLIP, which differs only in CLIP_FINETUNE): the model, its
 * loss weights, its pretrained CLIP, checkpoint loading and the evaluation predictors.
 */
export function buildCatSegModel(cfg: AhsConfig, opts: { textCacheDir?: string | null } = {}): BuiltModel<CATSeg> {
  const clip = clipSpecFromConfig(cfg);
  const options = catsegOptionsFromConfig(cfg, clip);
  const model = new CATSeg(options, opts.textCacheDir ?? null);
  const ahs = options.ahs ?? {};
  const warnings = ahs.hem?.mode === 'readme_convex'
    ? ['MODEL.AHS.HEM_MODE "readme_convex" is the AHS-Seg README formula (1-s)I + sR, kept for ablation: it is NOT orthogonal (it contracts the attention weights); use "geodesic" to train']
    : [];
  return {
    model,
    lossWeights: catsegLossWeights(cfg, ahs),
    warnings,
    pretrained: {
      source: clip.weightsPath ?? KNOWN_CLIPS[cfg.MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED]!.hubName,
      load: (path) => loadClipIntoCatSeg(model, path),
    },
    loadCheckpoint: (path, o = {}) => loadCatSegCheckpoint(model, path, o),
    predictor: (protocol) => new CatSegPredictor(model, catsegInferenceOptions(cfg, protocol)),
  };
}

/** The inference protocol's settings from the config (TEST.*, MASK_FORMER, MIN/MAX_SIZE_TEST);
 * the protocol defaults to TEST.SLIDING_WINDOW's. */
export function catsegInferenceOptions(cfg: AhsConfig, protocol: InferenceProtocol = cfg.TEST.SLIDING_WINDOW ? 'sliding' : 'whole'): CatSegInferenceOptions {
  const t = cfg.TEST;
  return {
    protocol,
    slidingResolution: [t.SLIDING_WINDOW_RESOLUTION[0]!, t.SLIDING_WINDOW_RESOLUTION[1]!],
    overlap: t.SLIDING_WINDOW_OVERLAP,
    sizeDivisibility: cfg.MODEL.MASK_FORMER.SIZE_DIVISIBILITY,
    testResize: { minSize: cfg.INPUT.MIN_SIZE_TEST, maxSize: cfg.INPUT.MAX_SIZE_TEST },
  };
}

/** The overrides of CAT-Seg's eval.sh: sliding window, class-aggregation pooling 1x1. */
export const EVAL_SH_OVERRIDES = ['TEST.SLIDING_WINDOW', 'True', 'MODEL.SEM_SEG_HEAD.POOLING_SIZES', '[1,1]'];
