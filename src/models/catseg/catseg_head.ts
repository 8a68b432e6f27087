// The trainable part of CAT-Seg outside CLIP, under the detectron2 checkpoint names: the
// Aggregator at `sem_seg_head.predictor.transformer.*` and the decoder-guidance upsamplers at
// `upsample1.*` / `upsample2.*` (they live on the CATSeg model itself). Also the builders that turn
// a config, the reference's constructor kwargs, or a state dict's shapes into AggregatorOptions.
import { AhsError, check, fmtShape } from '../../errors.js';
import { Module, type ConvTranspose2d } from '../../nn/index.js';
import { tidy, type Tensor } from '../../tensor/index.js';
import { Aggregator, type AggregatorForwardOptions, type AggregatorOptions } from './aggregator.js';
import type { AttentionType } from './class_attention.js';
import { guidanceUpsampler, tokensToGrid, type TokenLayout } from './guidance_upsampler.js';

/** A module that only names its children (nests a model under a dotted checkpoint path). */
export class Namespace extends Module {
  constructor(children: Record<string, Module>) {
    super();
    for (const [k, m] of Object.entries(children)) this.child(k, m);
  }
}

export interface CatSegHeadOptions {
  aggregator: AggregatorOptions;
  /** Width of the tapped CLIP blocks (768 for ViT-B/16). */
  clipWidth: number;
  /** Kernel = stride of upsample1 / upsample2 (the reference: 2 and 4). */
  upsampleScales?: [number, number];
}

export interface CatSegHeadInputs {
  /** Dense CLIP output (B, 1 + H W, C), CLS token first. */
  denseFeatures: Tensor;
  /** Raw outputs of the two tapped CLIP blocks, with CLS, in `tapLayout`. */
  taps: [Tensor, Tensor];
  tapLayout?: TokenLayout;
  /** L2-normalised class embeddings (T, P, C), or already repeated over the batch (B, T, P, C). */
  textEmbeds: Tensor;
  /** Appearance guidance (B, C, H, W); CAT-Seg's is the dense features themselves (the default). */
  appearanceGuidance?: Tensor;
}

export class CatSegHead extends Module {
  readonly sem_seg_head: Namespace;
  readonly transformer: Aggregator;
  readonly upsample1: ConvTranspose2d;
  readonly upsample2: ConvTranspose2d;

  constructor(readonly opts: CatSegHeadOptions) {
    super();
    const a = opts.aggregator;
    const [s1, s2] = opts.upsampleScales ?? [2, 4];
    this.transformer = new Aggregator(a);
    this.sem_seg_head = this.child('sem_seg_head', new Namespace({ predictor: new Namespace({ transformer: this.transformer }) }));
    this.upsample1 = this.child('upsample1', guidanceUpsampler(opts.clipWidth, a.decoderGuidanceDims[0], s1));
    this.upsample2 = this.child('upsample2', guidanceUpsampler(opts.clipWidth, a.decoderGuidanceDims[1], s2));
  }

  /** res4 = upsample1(tap 0), res5 = upsample2(tap 1): [(B, D0, 2H, 2W), (B, D1, 4H, 4W)]. */
  decoderGuidance(taps: [Tensor, Tensor], layout: TokenLayout = 'BLC'): [Tensor, Tensor] {
    return decoderGuidance(this, taps, this.opts.aggregator.featureResolution, layout);
  }

  /** CATSeg.forward up to the logits: (B, T, 4H, 4W) (traces add res4_upsampled / res5_upsampled). */
  forward(inputs: CatSegHeadInputs, opts: AggregatorForwardOptions = {}): Tensor {
    return headForward(this, inputs, opts);
  }
}

/** The trainable parts outside CLIP, wherever they are registered (CatSegHead, CATSeg). */
export interface HeadParts { transformer: Aggregator; upsample1: ConvTranspose2d; upsample2: ConvTranspose2d }

function decoderGuidance(parts: HeadParts, taps: [Tensor, Tensor], grid: [number, number], layout: TokenLayout): [Tensor, Tensor] {
  return tidy(() => [
    parts.upsample1.forward(tokensToGrid(taps[0], grid, layout)),
    parts.upsample2.forward(tokensToGrid(taps[1], grid, layout)),
  ]);
}

/** Dense CLIP tokens + tapped blocks + class embeddings -> logits (B, T, 4H, 4W): the part of
 * CATSeg.forward after CLIP, shared by CatSegHead and the whole CATSeg model. */
export function headForward(parts: HeadParts, inputs: CatSegHeadInputs, opts: AggregatorForwardOptions = {}): Tensor {
  const { denseFeatures: dense, textEmbeds } = inputs;
  const grid = parts.transformer.opts.featureResolution;
  check(dense.rank === 3, 'AHS_ERR_SHAPE', () => `CAT-Seg head: dense features must be (B, 1 + H W, C), got ${fmtShape(dense.shape)}`);
  const B = dense.size(0);
  return tidy(() => {
    const res3 = tokensToGrid(dense, grid, 'BLC'); // (B, C, H, W)
    const [res4, res5] = decoderGuidance(parts, inputs.taps, grid, inputs.tapLayout ?? 'BLC');
    opts.trace?.('res4_upsampled', res4);
    opts.trace?.('res5_upsampled', res5);
    check(textEmbeds.rank === 3 || (textEmbeds.rank === 4 && textEmbeds.size(0) === B), 'AHS_ERR_SHAPE',
      () => `CAT-Seg head: text embeddings must be (T, P, C) or (${B}, T, P, C), got ${fmtShape(textEmbeds.shape)}`);
    const text = textEmbeds.rank === 3 ? textEmbeds.unsqueeze(0).expand([B, -1, -1, -1]) : textEmbeds; // (B, T, P, C)
    return parts.transformer.forward(res3, text, inputs.appearanceGuidance ?? res3, [res4, res5], opts);
  });
}

/** get_text_embeds' normalisation: e / ||e|| (no eps), shaped (T, P, C) ((T, C) gets P = 1). */
export function normalizeClassEmbeddings(raw: Tensor): Tensor {
  check(raw.rank === 2 || raw.rank === 3, 'AHS_ERR_SHAPE', () => `normalizeClassEmbeddings: expected (T, C) or (T, P, C), got ${fmtShape(raw.shape)}`);
  return tidy(() => {
    const n = raw.div(raw.norm(2, -1, true));
    return raw.rank === 2 ? n.unsqueeze(1) : n; // (T, P, C)
  });
}

/** The MODEL.SEM_SEG_HEAD keys the head reads (src/config/defaults.ts). */
export interface CatSegHeadCfg {
  TEXT_GUIDANCE_DIM: number;
  TEXT_GUIDANCE_PROJ_DIM: number;
  APPEARANCE_GUIDANCE_DIM: number;
  APPEARANCE_GUIDANCE_PROJ_DIM: number;
  DECODER_DIMS: readonly number[];
  DECODER_GUIDANCE_DIMS: readonly number[];
  DECODER_GUIDANCE_PROJ_DIMS: readonly number[];
  NUM_LAYERS: number;
  NUM_HEADS: number;
  HIDDEN_DIMS: number;
  POOLING_SIZES: readonly number[];
  FEATURE_RESOLUTION: readonly number[];
  WINDOW_SIZES: number;
  ATTENTION_TYPE: string;
  CLASS_PAD_LEN?: number;
}

const pair = (v: readonly number[], what: string): [number, number] => {
  check(v.length === 2 && v.every((x) => Number.isInteger(x)), 'AHS_ERR_CONFIG_VALUE', () => `${what} must be two integers, got ${JSON.stringify(v)}`);
  return [v[0]!, v[1]!];
};
const attention = (v: unknown): AttentionType => {
  if (v !== 'linear' && v !== 'full') throw new AhsError('AHS_ERR_CONFIG_VALUE', `attention type must be 'linear' or 'full', got ${JSON.stringify(v)}`);
  return v;
};

/** CATSegPredictor's mapping of MODEL.SEM_SEG_HEAD to the Aggregator's arguments. */
export function aggregatorOptionsFromConfig(h: CatSegHeadCfg, extra: { promptChannels: number; poolingSize?: [number, number] | null }): AggregatorOptions {
  return {
    textGuidanceDim: h.TEXT_GUIDANCE_DIM,
    textGuidanceProjDim: h.TEXT_GUIDANCE_PROJ_DIM,
    appearanceGuidanceDim: h.APPEARANCE_GUIDANCE_DIM,
    appearanceGuidanceProjDim: h.APPEARANCE_GUIDANCE_PROJ_DIM,
    decoderDims: pair(h.DECODER_DIMS, 'DECODER_DIMS'),
    decoderGuidanceDims: pair(h.DECODER_GUIDANCE_DIMS, 'DECODER_GUIDANCE_DIMS'),
    decoderGuidanceProjDims: pair(h.DECODER_GUIDANCE_PROJ_DIMS, 'DECODER_GUIDANCE_PROJ_DIMS'),
    numLayers: h.NUM_LAYERS,
    numHeads: h.NUM_HEADS,
    hiddenDim: h.HIDDEN_DIMS,
    poolingSize: extra.poolingSize !== undefined ? extra.poolingSize : pair(h.POOLING_SIZES, 'POOLING_SIZES'),
    featureResolution: pair(h.FEATURE_RESOLUTION, 'FEATURE_RESOLUTION'),
    windowSize: h.WINDOW_SIZES,
    attentionType: attention(h.ATTENTION_TYPE),
    promptChannels: extra.promptChannels,
    padLen: h.CLASS_PAD_LEN ?? 256,
  };
}

/**
 * The reference's Aggregator kwargs (snake_case, as in the e2e fixture's `head_config`: hidden_dims,
 * num_heads, window_sizes, ...). Keys it lacks come from `rest`; a key missing from both is an error.
 */
export function aggregatorOptionsFromHeadConfig(cfg: Record<string, unknown>, rest: Partial<AggregatorOptions> = {}): AggregatorOptions {
  const pick = <K extends keyof AggregatorOptions>(key: K, names: string[], conv: (v: unknown) => AggregatorOptions[K]): AggregatorOptions[K] => {
    for (const n of names) if (cfg[n] !== undefined) return conv(cfg[n]);
    const r = rest[key];
    if (r === undefined) throw new AhsError('AHS_ERR_CONFIG_KEY', `head config lacks '${names[0]}' and no default for ${String(key)} was given`);
    return r;
  };
  const num = (v: unknown) => { check(typeof v === 'number', 'AHS_ERR_CONFIG_TYPE', () => `head config: expected a number, got ${JSON.stringify(v)}`); return v; };
  const two = (v: unknown) => pair(v as number[], 'head config pair');
  const twoOrNull = (v: unknown) => (v === null ? null : two(v));
  return {
    textGuidanceDim: pick('textGuidanceDim', ['text_guidance_dim'], num),
    textGuidanceProjDim: pick('textGuidanceProjDim', ['text_guidance_proj_dim'], num),
    appearanceGuidanceDim: pick('appearanceGuidanceDim', ['appearance_guidance_dim'], num),
    appearanceGuidanceProjDim: pick('appearanceGuidanceProjDim', ['appearance_guidance_proj_dim'], num),
    decoderDims: pick('decoderDims', ['decoder_dims'], two),
    decoderGuidanceDims: pick('decoderGuidanceDims', ['decoder_guidance_dims'], two),
    decoderGuidanceProjDims: pick('decoderGuidanceProjDims', ['decoder_guidance_proj_dims'], two),
    numLayers: pick('numLayers', ['num_layers'], num),
    numHeads: pick('numHeads', ['num_heads', 'nheads'], num),
    hiddenDim: pick('hiddenDim', ['hidden_dims', 'hidden_dim'], num),
    poolingSize: pick('poolingSize', ['pooling_sizes', 'pooling_size'], twoOrNull),
    featureResolution: pick('featureResolution', ['feature_resolution'], two),
    windowSize: pick('windowSize', ['window_sizes', 'window_size'], num),
    attentionType: pick('attentionType', ['attention_type'], attention),
    promptChannels: pick('promptChannels', ['prompt_channel'], num),
    padLen: pick('padLen', ['pad_len'], num),
  };
}

/**
 * Every width of the Aggregator read off a state dict's shapes (keys under `prefix`, e.g.
 * 'sem_seg_head.predictor.transformer.'); what shapes cannot tell (heads, pooling, attention
 * type, pad_len) comes from `rest`. The feature grid is taken as square (side = window * sqrt(nW)).
 */
export function aggregatorOptionsFromShapes(shapes: Map<string, number[]>, prefix: string,
  rest: Pick<AggregatorOptions, 'numHeads' | 'poolingSize' | 'attentionType' | 'padLen'>): AggregatorOptions {
  const need = (k: string): number[] => {
    const s = shapes.get(prefix + k);
    if (!s) throw new AhsError('AHS_ERR_STATE_DICT', `CAT-Seg weights lack '${prefix}${k}' (needed to infer the head's size)`);
    return s;
  };
  const layerIds = new Set<number>();
  for (const k of shapes.keys()) {
    const m = k.startsWith(prefix) ? /^layers\.(\d+)\./.exec(k.slice(prefix.length)) : null;
    if (m) layerIds.add(Number(m[1]));
  }
  const conv1 = need('conv1.weight');
  const app = shapes.get(`${prefix}guidance_projection.0.weight`);
  const txt = shapes.get(`${prefix}text_guidance_projection.0.weight`);
  const dg0 = shapes.get(`${prefix}decoder_guidance_projection.0.0.weight`);
  const dg1 = shapes.get(`${prefix}decoder_guidance_projection.1.0.weight`);
  const mask = need('layers.0.swin_block.block_2.attn_mask'); // (nW, ws*ws, ws*ws)
  const ws = Math.round(Math.sqrt(mask[1]!));
  const side = ws * Math.round(Math.sqrt(mask[0]!));
  const up1 = need('decoder1.up.weight'); // (hidden, hidden - g0, 2, 2)
  const up2 = need('decoder2.up.weight'); // (d0, d0 - g1, 2, 2)
  return {
    textGuidanceDim: txt ? txt[1]! : 0,
    textGuidanceProjDim: txt ? txt[0]! : 0,
    appearanceGuidanceDim: app ? app[1]! : 0,
    appearanceGuidanceProjDim: app ? app[0]! : 0,
    decoderDims: [need('decoder1.conv.double_conv.3.weight')[0]!, need('decoder2.conv.double_conv.3.weight')[0]!],
    decoderGuidanceDims: [dg0 ? dg0[1]! : 0, dg1 ? dg1[1]! : 0],
    decoderGuidanceProjDims: [up1[0]! - up1[1]!, up2[0]! - up2[1]!],
    numLayers: layerIds.size,
    hiddenDim: conv1[0]!,
    promptChannels: conv1[1]!,
    featureResolution: [side, side],
    windowSize: ws,
    ...rest,
  };
}
