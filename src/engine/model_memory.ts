// The size of the CAT-Seg-family model a config describes, estimated from its widths before the
// model is built: HIDDEN_DIMS 8192 with 64 layers must fail in a millisecond with the number it
// would need, not after minutes of initialising hundreds of GB. An estimate (the weight matrices
// of the layers; biases and norms are left out), within a few percent of the built model.
import { statSync } from 'node:fs';
import type { AhsConfig } from '../config/index.js';
import type { ClipConfig } from '../models/clip/clip_model.js';
import { KNOWN_CLIPS } from '../models/clip/known_models.js';
import { promptTemplates, type PromptEnsemble } from '../models/clip/prompts.js';
import { checkMemoryBudget, memoryLimitBytes } from './memory_budget.js';

/** Parameters of a CLIP: 12 w^2 per transformer block (attention 4 w^2, MLP 8 w^2), embeddings. */
export function clipParameterCount(c: ClipConfig): number {
  const vision = 12 * c.visionLayers * c.visionWidth ** 2 + 3 * c.visionPatchSize ** 2 * c.visionWidth
    + ((c.imageResolution / c.visionPatchSize) ** 2 + 1) * c.visionWidth + c.visionWidth * c.embedDim;
  const text = 12 * c.transformerLayers * c.transformerWidth ** 2 + (c.vocabSize + c.contextLength) * c.transformerWidth
    + c.transformerWidth * c.embedDim;
  return vision + text;
}

/** Parameters of the CAT-Seg head (aggregator, decoder, guidance projections and upsamplers). */
export function catSegHeadParameterCount(cfg: AhsConfig, clipWidth: number): number {
  const h = cfg.MODEL.SEM_SEG_HEAD;
  const d = h.HIDDEN_DIMS;
  const ga = h.APPEARANCE_GUIDANCE_DIM > 0 ? h.APPEARANCE_GUIDANCE_PROJ_DIM : 0;
  const gt = h.TEXT_GUIDANCE_DIM > 0 ? h.TEXT_GUIDANCE_PROJ_DIM : 0;
  const [d0, d1] = [h.DECODER_DIMS[0]!, h.DECODER_DIMS[1]!];
  const [dg0, dg1] = [h.DECODER_GUIDANCE_DIMS[0]!, h.DECODER_GUIDANCE_DIMS[1]!];
  const [gp0, gp1] = dg0 > 0 ? [h.DECODER_GUIDANCE_PROJ_DIMS[0]!, h.DECODER_GUIDANCE_PROJ_DIMS[1]!] : [0, 0];
  // Per layer: two Swin blocks (q, k over d + ga; v, proj; MLP 4d) and class aggregation (q, k
  // over d + gt; v; MLP 4d).
  const layer = 2 * (2 * d * (d + ga) + 2 * d * d + 8 * d * d) + (2 * d * (d + gt) + d * d + 8 * d * d);
  const prompts = promptTemplates(cfg.MODEL.PROMPT_ENSEMBLE_TYPE as PromptEnsemble).length;
  const decoder = 4 * d * (d - gp0) + 9 * d * d0 + 9 * d0 * d0 + 4 * d0 * (d0 - gp1) + 9 * d0 * d1 + 9 * d1 * d1 + 9 * d1;
  const guidance = 9 * h.APPEARANCE_GUIDANCE_DIM * ga + h.TEXT_GUIDANCE_DIM * gt + 9 * (dg0 * gp0 + dg1 * gp1)
    + clipWidth * (4 * dg0 + 16 * dg1);
  return h.NUM_LAYERS * layer + 49 * prompts * d + decoder + guidance;
}

/** Bytes the model's float32 weights take: the known CLIP's size, or a CLIP file's size. */
export function catSegModelBytes(cfg: AhsConfig): number {
  const name = cfg.MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED;
  const known = KNOWN_CLIPS[name];
  let clipBytes = 0;
  let clipWidth = 768;
  if (known) {
    clipBytes = 4 * clipParameterCount(known.config);
    clipWidth = known.config.visionWidth;
  } else {
    try { clipBytes = statSync(name).size; } catch { /* a missing file is reported by the builder */ }
  }
  return clipBytes + 4 * catSegHeadParameterCount(cfg, clipWidth);
}

/** Refuses a config whose model cannot fit, naming the widths that make it large; `source` is
 * the config file. */
export function checkCatSegModelFits(cfg: AhsConfig, source: string, limit = memoryLimitBytes()): void {
  const h = cfg.MODEL.SEM_SEG_HEAD;
  checkMemoryBudget(catSegModelBytes(cfg), `the model of ${source} (MODEL.SEM_SEG_HEAD.HIDDEN_DIMS ${h.HIDDEN_DIMS}, NUM_LAYERS ${h.NUM_LAYERS}, CLIP ${h.CLIP_PRETRAINED})`,
    'lower HIDDEN_DIMS or NUM_LAYERS (CAT-Seg uses 128 and 2)', limit);
}
