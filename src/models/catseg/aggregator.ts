// CAT-Seg's cost aggregation head (cat_seg/modeling/transformer/model.py: Aggregator,
// AggregatorLayer): cosine cost volume -> 7x7 conv embedding -> N x (spatial Swin aggregation,
// class aggregation) -> two-stage upsampling decoder with CLIP guidance -> one logit map per class.
import { AhsError, check, fmtShape } from '../../errors.js';
import { Conv2d, Linear, Module, ModuleList, ReLU, Sequential } from '../../nn/index.js';
import { cat, einsum, tidy, type Tensor } from '../../tensor/index.js';
import { ClassTransformerLayer } from './class_aggregation.js';
import type { AttentionType } from './class_attention.js';
import { classCostMax, correlation, embedCost, gatherClasses, l2Normalize, scatterClassLogits, selectTopClasses } from './cost_volume.js';
import { SwinTransformerBlockWrapper } from './spatial_aggregation.js';
import { Up } from './upsampling_decoder.js';
import { PlainClassStages, type ClassStages } from './class_stages.js';

/** The Aggregator's constructor arguments (the reference's names in comments). */
export interface AggregatorOptions {
  textGuidanceDim: number; // text_guidance_dim (CLIP text width; 0 = no text guidance)
  textGuidanceProjDim: number; // text_guidance_proj_dim
  appearanceGuidanceDim: number; // appearance_guidance_dim (CLIP dense width; 0 = none)
  appearanceGuidanceProjDim: number; // appearance_guidance_proj_dim
  decoderDims: [number, number]; // decoder_dims
  decoderGuidanceDims: [number, number]; // decoder_guidance_dims (0 first = none)
  decoderGuidanceProjDims: [number, number]; // decoder_guidance_proj_dims
  numLayers: number; // num_layers
  numHeads: number; // nheads
  hiddenDim: number; // hidden_dim
  poolingSize: [number, number] | null; // pooling_size (training [2, 2]; eval.sh [1, 1])
  featureResolution: [number, number]; // feature_resolution
  windowSize: number; // window_size
  attentionType: AttentionType; // attention_type
  promptChannels: number; // prompt_channel: P templates per class
  padLen: number; // pad_len: class padding and top-k pruning size (256)
}

/**
 * Receives intermediates during forward (the parity fixtures' names). The tensor is freed when
 * forward returns: copy what you need. Class-chunked stages report each chunk with its offset.
 */
export type Trace = (name: string, t: Tensor, info?: { classStart: number }) => void;

export interface AggregatorForwardOptions {
  trace?: Trace;
  /** Run the per-class stages (cost embedding, spatial aggregation, decoder) this many classes
   * at a time to bound memory; class aggregation always sees every class. */
  classChunk?: number;
  /** How the per-class stages run (default: PlainClassStages(classChunk)); training with
   * activation checkpointing passes CheckpointedClassStages. */
  stages?: ClassStages;
  /** More cost volumes for the cost embedding (AHS-Seg MH-FPN, MSFPN_TARGET cost). */
  costExtension?: CostExtension;
}

/**
 * Extra image features whose cosine cost volumes with the class text (after any class pruning)
 * join CAT-Seg's: their embedding is added to conv1's, which is the same as conv1 with more input
 * channels. A zero-initialised `embed` leaves the head as it was.
 */
export interface CostExtension {
  /** (B, C, H, W) each, C = the text width. */
  features: Tensor[];
  /** (B, n·P, T, H, W) -> (B, hidden, T, H, W), n = features.length. */
  embed(corr: Tensor): Tensor;
}

export class AggregatorLayer extends Module {
  readonly swin_block: SwinTransformerBlockWrapper;
  readonly attention: ClassTransformerLayer;
  constructor(o: AggregatorOptions) {
    super();
    this.swin_block = this.child('swin_block', new SwinTransformerBlockWrapper({
      dim: o.hiddenDim, appearanceGuidanceDim: o.appearanceGuidanceDim > 0 ? o.appearanceGuidanceProjDim : 0,
      inputResolution: o.featureResolution, numHeads: o.numHeads, windowSize: o.windowSize,
    }));
    this.attention = this.child('attention', new ClassTransformerLayer({
      hiddenDim: o.hiddenDim, guidanceDim: o.textGuidanceDim > 0 ? o.textGuidanceProjDim : 0, numHeads: o.numHeads,
      attentionType: o.attentionType, poolingSize: o.poolingSize, padLen: o.padLen,
    }));
  }

  /** x (B, C, T, H, W) -> (B, C, T, H, W); `onSpatial` sees the output of spatial aggregation. */
  forward(x: Tensor, appearance: Tensor | null, text: Tensor | null, opts: { stages?: ClassStages; onSpatial?: (t: Tensor) => void } = {}): Tensor {
    const stages = opts.stages ?? new PlainClassStages();
    return tidy(() => {
      const s = stages.map(x, 2, 2, (xc) => this.swin_block.forward(xc, appearance)); // (B, C, T, H, W)
      opts.onSpatial?.(s);
      return this.attention.forward(s, text); // (B, C, T, H, W)
    });
  }
}

export class Aggregator extends Module {
  readonly layers: ModuleList<AggregatorLayer>;
  readonly conv1: Conv2d;
  readonly guidance_projection: Sequential | null;
  readonly text_guidance_projection: Sequential | null;
  readonly decoder_guidance_projection: ModuleList<Sequential> | null;
  readonly decoder1: Up;
  readonly decoder2: Up;
  readonly head: Conv2d;

  constructor(readonly opts: AggregatorOptions) {
    super();
    const o = opts;
    for (const [k, v] of Object.entries({ numLayers: o.numLayers, numHeads: o.numHeads, hiddenDim: o.hiddenDim, windowSize: o.windowSize, promptChannels: o.promptChannels })) {
      if (!Number.isInteger(v) || v < 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `Aggregator: ${k} must be a positive integer, got ${v}`);
    }
    if (!Number.isInteger(o.padLen) || o.padLen < 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `Aggregator: padLen must be an integer >= 0, got ${o.padLen}`);
    this.layers = this.child('layers', new ModuleList(Array.from({ length: o.numLayers }, () => new AggregatorLayer(o))));
    this.conv1 = this.child('conv1', new Conv2d(o.promptChannels, o.hiddenDim, 7, { padding: 3 }));
    this.guidance_projection = this.child('guidance_projection', o.appearanceGuidanceDim > 0
      ? new Sequential(new Conv2d(o.appearanceGuidanceDim, o.appearanceGuidanceProjDim, 3, { padding: 1 }), new ReLU()) : null);
    this.text_guidance_projection = this.child('text_guidance_projection', o.textGuidanceDim > 0
      ? new Sequential(new Linear(o.textGuidanceDim, o.textGuidanceProjDim), new ReLU()) : null);
    this.decoder_guidance_projection = this.child('decoder_guidance_projection', o.decoderGuidanceDims[0] > 0
      ? new ModuleList(o.decoderGuidanceDims.map((d, i) => new Sequential(new Conv2d(d, o.decoderGuidanceProjDims[i]!, 3, { padding: 1 }), new ReLU())))
      : null);
    this.decoder1 = this.child('decoder1', new Up(o.hiddenDim, o.decoderDims[0], o.decoderGuidanceProjDims[0]));
    this.decoder2 = this.child('decoder2', new Up(o.decoderDims[0], o.decoderDims[1], o.decoderGuidanceProjDims[1]));
    this.head = this.child('head', new Conv2d(o.decoderDims[1], 1, 3, { padding: 1 }));
  }

  /** Changes the class-aggregation pooling (the reference sets it by config: train [2, 2], eval.sh [1, 1]). */
  setPoolingSize(size: [number, number] | null): this {
    for (const l of this.layers.items) l.attention.poolingSize = size;
    return this;
  }

  /**
   * imgFeats (B, Ci, H, W) dense CLIP features; textFeats (B, T, P, Ct) class embeddings (the
   * reference gives them L2-normalised); appearanceGuidance (B, Ca, H, W) (CAT-Seg: the same dense
   * features); decoderGuidance [(B, D0, 2H, 2W), (B, D1, 4H, 4W)] -> logits (B, T, 4H, 4W), with
   * -100 for classes pruned when T > padLen.
   */
  forward(imgFeats: Tensor, textFeats: Tensor, appearanceGuidance: Tensor | null, decoderGuidance: (Tensor | null)[], opts: AggregatorForwardOptions = {}): Tensor {
    const o = this.opts;
    const [Hf, Wf] = o.featureResolution;
    check(imgFeats.rank === 4 && imgFeats.size(2) === Hf && imgFeats.size(3) === Wf, 'AHS_ERR_SHAPE',
      () => `Aggregator: image features must be (B, C, ${Hf}, ${Wf}), got ${fmtShape(imgFeats.shape)}`);
    check(textFeats.rank === 4 && textFeats.size(0) === imgFeats.size(0) && textFeats.size(2) === o.promptChannels, 'AHS_ERR_SHAPE',
      () => `Aggregator: text features must be (B=${imgFeats.size(0)}, T, P=${o.promptChannels}, C), got ${fmtShape(textFeats.shape)}`);
    const { trace } = opts;
    const stages = opts.stages ?? new PlainClassStages(opts.classChunk);
    return tidy(() => {
      const T = textFeats.size(1);
      trace?.('agg_text_feats', textFeats);
      let text = textFeats;
      let corr = correlation(imgFeats, textFeats); // (B, P, T, H, W)
      trace?.('corr', corr);
      let classes: Tensor | null = null;
      if (o.padLen > 0 && T > o.padLen) {
        const costMax = classCostMax(corr); // (B, T)
        trace?.('corr_max', costMax);
        classes = selectTopClasses(costMax, o.padLen); // (B, pad_len)
        trace?.('kept_classes', classes);
        // The reference continues with the normalised text of the kept classes (also for the
        // text guidance below) and recomputes the cost volume from it.
        text = gatherClasses(l2Normalize(textFeats, -1), classes); // (B, pad_len, P, C)
        corr.dispose();
        corr = einsum('bchw,btpc->bpthw', l2Normalize(imgFeats, 1), text); // (B, P, pad_len, H, W)
      }
      let x = stages.map(stages.boundary(corr), 2, 2, (c) => embedCost(this.conv1, c)); // (B, C, T', H, W)
      const ext = opts.costExtension;
      if (ext) {
        const extra = cat(ext.features.map((f) => correlation(f, text)), 1); // (B, n P, T', H, W)
        x = x.add(stages.map(stages.boundary(extra), 2, 2, (c) => ext.embed(c)));
      }
      trace?.('corr_embed', x);

      let appearance = this.guidance_projection && appearanceGuidance ? this.guidance_projection.forward(appearanceGuidance) : null; // (B, Ca', H, W)
      if (appearance) trace?.('appearance_guidance_proj', appearance);
      if (appearance) appearance = stages.boundary(appearance);
      const decoderProj: (Tensor | null)[] = [null, null];
      if (this.decoder_guidance_projection) {
        check(decoderGuidance.length === 2, 'AHS_ERR_SHAPE', () => `Aggregator: expected 2 decoder guidance maps, got ${decoderGuidance.length}`);
        this.decoder_guidance_projection.items.forEach((proj, i) => {
          const g = decoderGuidance[i];
          decoderProj[i] = g ? stages.boundary(proj.forward(g)) : null;
          if (decoderProj[i]) trace?.(`decoder_guidance_proj${i}`, decoderProj[i]!);
        });
      }
      let textGuidance: Tensor | null = null;
      if (this.text_guidance_projection) {
        const m = text.mean(-2); // (B, T', Ct)
        textGuidance = this.text_guidance_projection.forward(m.div(m.norm(2, -1, true))); // (B, T', Ct')
        trace?.('text_guidance_proj', textGuidance);
        textGuidance = stages.boundary(textGuidance);
      }

      this.layers.items.forEach((layer, i) => {
        const next = layer.forward(x, appearance, textGuidance, { stages, onSpatial: (s) => trace?.(`layer${i}_after_spatial`, s) });
        x.dispose();
        x = next; // (B, C, T', H, W)
        trace?.(`layer${i}_out`, x);
      });

      const logits = stages.map(x, 2, 1, (xc, start) => this.decode(xc, decoderProj, trace, start)); // (B, T', 4H, 4W)
      return classes ? scatterClassLogits(logits, classes, T) : logits; // (B, T, 4H, 4W)
    });
  }

  /** Aggregator.conv_decoder: x (B, C, T, H, W) -> (B, T, 4H, 4W). */
  decode(x: Tensor, guidance: (Tensor | null)[], trace?: Trace, classStart = 0): Tensor {
    return tidy(() => {
      const [B, C, T, H, W] = x.shape as [number, number, number, number, number];
      const y0 = x.permute([0, 2, 3, 4, 1]).reshape([B * T, H, W, C]).permute([0, 3, 1, 2]); // (B T, C, H, W), channels-last for the decoder
      const y1 = this.decoder1.forward(y0, guidance[0] ?? null); // (B T, D0, 2H, 2W)
      trace?.('decoder1_out', y1, { classStart });
      const y2 = this.decoder2.forward(y1, guidance[1] ?? null); // (B T, D1, 4H, 4W)
      const out = this.head.forward(y2); // (B T, 1, 4H, 4W)
      return out.view([B, T, out.size(2), out.size(3)]);
    });
  }
}
