// Which CLIP parameters train (MODEL.SEM_SEG_HEAD.CLIP_FINETUNE): CAT-Seg's name rules
// (cat_seg/cat_seg_model.py, method-spec §2.3) and H-CLIP's "oft_both" (§3), which freezes CLIP
// and routes every attention block of both towers through an OftRelation.
import { AhsError } from '../../../errors.js';
import type { CLIP } from '../clip_model.js';
import type { MultiheadAttention } from '../multihead_attention.js';
import { OftRelation, type OftRelationOptions, type OftTower } from './oft_relation.js';

export type ClipFinetuneMode = 'none' | 'attention' | 'full' | 'oft_both';

export interface ClipFinetuneOptions {
  /** 'oft_both': generator block size (H-CLIP: 128; must divide both widths). */
  blockSize?: number;
  /** 'oft_both': vision transform, H-CLIP's 'free' (default) or 'cayley'. */
  visionTransform?: OftRelationOptions['visionTransform'];
  /** 'oft_both': the generator -> transform rule (AHS-Seg HA-HEM); overrides visionTransform. */
  transform?: OftRelationOptions['transform'];
  /** 'oft_both': see OftRelationOptions.detectChanges (default true). */
  detectChanges?: boolean;
  /** 'oft_both': also train the vision attention biases (q/k/v in_proj_bias, out_proj.bias), as
   * AHS-Seg's _setup_clip_finetune does (its rule marks every visual "attn" parameter; the
   * weights get no gradient through OFT, so the biases are what trains). */
  trainVisionAttentionBias?: boolean;
  /** 'oft_both': attach this module (e.g. restored from a checkpoint) instead of a new one. */
  oft?: OftRelation;
}

export interface ClipFinetuneResult {
  mode: ClipFinetuneMode;
  /** CLIP's own trainable parameters by state-dict name (empty for 'none', and for 'oft_both'
   * unless trainVisionAttentionBias). */
  trainable: string[];
  /** Their element count. */
  numTrainable: number;
  /** 'oft_both': the OFT module. The caller registers it as a child (so that train()/eval() and
   * state dicts reach it) and gives its parameters to the optimizer. */
  oft: OftRelation | null;
}

/**
 * CAT-Seg's rule for one CLIP parameter name: only names containing "transformer" can train;
 * 'attention' keeps those with "attn" and ("q_proj" or "v_proj") (the "position" branch of the
 * reference is kept, though no CLIP name has both "transformer" and "position"); 'full' keeps
 * every "transformer" name; anything else freezes everything.
 */
export function catsegTrainable(name: string, mode: ClipFinetuneMode): boolean {
  if (!name.includes('transformer')) return false;
  if (mode === 'full') return true;
  if (mode !== 'attention') return false;
  if (name.includes('attn')) return name.includes('q_proj') || name.includes('v_proj');
  return name.includes('position');
}

function attentionModules(clip: CLIP): { tower: OftTower; name: string; layer: number; attn: MultiheadAttention }[] {
  const out: { tower: OftTower; name: string; layer: number; attn: MultiheadAttention }[] = [];
  clip.transformer.resblocks.items.forEach((blk, i) => out.push({ tower: 'text', name: `transformer.resblocks.${i}.attn`, layer: i, attn: blk.attn }));
  clip.visual.transformer.resblocks.items.forEach((blk, i) => out.push({ tower: 'vision', name: `visual.transformer.resblocks.${i}.attn`, layer: i, attn: blk.attn }));
  return out;
}

/** Routes every attention block of both towers through `oft` (shapes must match). */
export function attachOft(clip: CLIP, oft: OftRelation): void {
  const c = clip.cfg;
  const want = [c.transformerWidth, c.visionWidth, c.transformerLayers, c.visionLayers];
  const got = [oft.textBlocks * oft.blockSize, oft.visionBlocks * oft.blockSize, oft.textLayers, oft.visionLayers];
  if (want.some((v, i) => v !== got[i])) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `attachOft: OFT module is sized for text ${got[0]}x${got[2]} / vision ${got[1]}x${got[3]} (width x layers), CLIP is text ${want[0]}x${want[2]} / vision ${want[1]}x${want[3]}`);
  }
  for (const { tower, layer, attn } of attentionModules(clip)) attn.weightOverride = () => oft.weightsFor(tower, layer, attn);
}

/** Restores the stored weights in every attention block. */
export function detachOft(clip: CLIP): void {
  for (const { attn } of attentionModules(clip)) attn.weightOverride = null;
}

/**
 * Sets which CLIP parameters train. 'none' freezes CLIP; 'attention' (CAT-Seg; needs CLIP loaded
 * with the 'split' q/k/v layout) trains the Q and V projection weights of every block of both
 * towers; 'full' trains every "transformer" parameter; 'oft_both' (H-CLIP) freezes CLIP and
 * attaches an OftRelation sized from CLIP's widths and depths, in CLIP's current mode.
 * Any previously attached OFT is detached first.
 */
export function applyClipFinetune(clip: CLIP, mode: ClipFinetuneMode, opts: ClipFinetuneOptions = {}): ClipFinetuneResult {
  detachOft(clip);
  if (mode === 'attention') {
    const packed = attentionModules(clip).find(({ attn }) => attn.layout !== 'split');
    if (packed) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `clip finetune 'attention' needs CLIP with the 'split' q/k/v layout (CAT-Seg's model_vpt q_proj_weight/v_proj_weight); ${packed.name} is '${packed.attn.layout}': load CLIP with { qkvLayout: 'split' }`);
    }
  } else if (mode !== 'none' && mode !== 'full' && mode !== 'oft_both') {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `unknown clip finetune mode '${mode as string}' (none, attention, full, oft_both)`);
  }
  const trainable: string[] = [];
  let numTrainable = 0;
  for (const [name, t] of clip.namedParameters()) {
    const on = mode === 'oft_both'
      ? (opts.trainVisionAttentionBias ?? false) && /^visual\.transformer\.resblocks\.\d+\.attn\.(in_proj_bias|out_proj\.bias)$/.test(name)
      : catsegTrainable(name, mode);
    t.requiresGrad_(on);
    if (on) { trainable.push(name); numTrainable += t.numel; }
  }
  let oft: OftRelation | null = null;
  if (mode === 'oft_both') {
    const c = clip.cfg;
    oft = opts.oft ?? new OftRelation({
      textWidth: c.transformerWidth, visionWidth: c.visionWidth, textLayers: c.transformerLayers, visionLayers: c.visionLayers,
      blockSize: opts.blockSize, visionTransform: opts.visionTransform, transform: opts.transform, detectChanges: opts.detectChanges,
    });
    oft.train(clip.training);
    attachOft(clip, oft);
  }
  return { mode, trainable, numTrainable, oft };
}
