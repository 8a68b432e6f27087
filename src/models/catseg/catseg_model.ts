// The whole CAT-Seg model under detectron2's module tree, so that the public checkpoints load
// without renaming: CLIP at `sem_seg_head.predictor.clip_model.*` (CAT-Seg's split q/k/v
// layout), the Aggregator at `sem_seg_head.predictor.transformer.*`, the decoder-guidance
// upsamplers at `upsample1.*` / `upsample2.*`, and H-CLIP's orthogonal transforms (when
// fine-tuned that way) at `sem_seg_head.predictor.oft.*`. The AHS-Seg components, when on, sit beside
// them: `predictor.hem` (HA-HEM's strengths), `predictor.ms_fpn` / `predictor.ms_cost` (MH-FPN)
// and `predictor.dc_hsp` (DC-HSP); each is identity at initialisation.
import { check, fmtShape } from '../../errors.js';
import { Module, type ConvTranspose2d } from '../../nn/index.js';
import { interpolate, pad, tidy, type Tensor } from '../../tensor/index.js';
import type { TrainingBatch, TrainingContext, TrainingOutput } from '../seg_model.js';
import { CheckpointedClassStages } from './class_stages.js';
import { CLIP, type ClipConfig } from '../clip/clip_model.js';
import { applyClipFinetune, type ClipFinetuneMode } from '../clip/finetune/modes.js';
import type { OftRelation } from '../clip/finetune/oft_relation.js';
import { clipNormalize } from '../clip/preprocess.js';
import { TextEmbedder } from '../clip/text_embedder.js';
import { Aggregator, type AggregatorForwardOptions, type AggregatorOptions } from './aggregator.js';
import { headForward, Namespace } from './catseg_head.js';
import { guidanceUpsampler } from './guidance_upsampler.js';
import type { CatSegLossMode } from './loss.js';
import type { LoadReport } from '../../nn/module.js';
import { buildHaHem, type AhsComponentOptions } from '../ahs/components.js';
import type { HemTransform } from '../ahs/ha_hem.js';
import { MultiScaleFpn } from '../ahs/mh_fpn.js';
import { MultiScaleCost } from '../ahs/multi_scale_cost.js';
import { ClassAwareProjection } from '../ahs/dc_hsp.js';
import { trainingLosses, type ViewOutputs } from './training_losses.js';
import { tokensToGrid } from './guidance_upsampler.js';

export interface CatSegOptions {
  clip: ClipConfig;
  aggregator: AggregatorOptions;
  /** Visual blocks tapped for decoder guidance (ViT-B: 3, 7; ViT-L: 7, 15). */
  taps: [number, number];
  /** CLIP input size (clip_resolution): 384 for ViT-B/16, 336 for ViT-L/14@336px. */
  clipInputSize: number;
  finetune: ClipFinetuneMode;
  /** Prompt templates; their count is the cost volume's P channels. */
  templates: string[];
  ignoreValue?: number;
  lossIgnoreMode?: CatSegLossMode;
  /** Classes per chunk in the per-class stages at inference (bounds memory). */
  classChunk?: number;
  /** Pooling of class aggregation in training and at test ([2,2] and eval.sh's [1,1]). */
  trainPooling?: [number, number] | null;
  testPooling?: [number, number] | null;
  /** Training inputs are padded to a multiple of this before the resize to CLIP's input
   * (MODEL.MASK_FORMER.SIZE_DIVISIBILITY; 0 or 1 = none). */
  sizeDivisibility?: number;
  /** CLIP's input normalisation, RGB 0..255 (MODEL.CLIP_PIXEL_MEAN / CLIP_PIXEL_STD). */
  clipPixelMean?: readonly number[];
  clipPixelStd?: readonly number[];
  /** Activation checkpointing in training: the per-class stages run without a graph and are
   * recomputed in backward this many classes at a time (0 = off). */
  checkpointClassChunk?: number;
  /** 'oft_both': vision transforms free (H-CLIP) or Cayley (MODEL.AHS.VISION_ORTHO). */
  oftVisionTransform?: 'free' | 'cayley';
  /** 'oft_both': train the vision attention biases too (AHS-Seg's rule). */
  trainVisionAttentionBias?: boolean;
  /** AHS-Seg components (none: the CAT-Seg / H-CLIP baseline). */
  ahs?: AhsComponentOptions;
}

export class CATSeg extends Module {
  readonly clip: CLIP;
  readonly aggregator: Aggregator;
  /** The aggregator under its checkpoint name (HeadParts). */
  get transformer(): Aggregator {
    return this.aggregator;
  }
  readonly upsample1: ConvTranspose2d;
  readonly upsample2: ConvTranspose2d;
  readonly oft: OftRelation | null;
  readonly text: TextEmbedder;
  readonly hem: HemTransform | null = null;
  readonly msFpn: MultiScaleFpn | null = null;
  readonly msCost: MultiScaleCost | null = null;
  readonly dcHsp: ClassAwareProjection | null = null;

  constructor(readonly opts: CatSegOptions, textCacheDir: string | null = null) {
    super();
    check(opts.aggregator.promptChannels === opts.templates.length, 'AHS_ERR_CONFIG_VALUE',
      () => `the cost volume has ${opts.aggregator.promptChannels} prompt channels but ${opts.templates.length} templates are given`);
    this.clip = new CLIP(opts.clip, { qkvLayout: 'split' });
    this.aggregator = new Aggregator(opts.aggregator);
    const c = opts.clip;
    const ahs = opts.ahs ?? {};
    if (ahs.hem) {
      check(opts.finetune === 'oft_both', 'AHS_ERR_INVALID_ARGUMENT', () => `HA-HEM modulates H-CLIP's orthogonal transforms: it needs CLIP fine-tuning 'oft_both', got '${opts.finetune}'`);
      this.hem = buildHaHem(ahs.hem, Math.max(c.transformerLayers, c.visionLayers), 128);
    }
    const ft = applyClipFinetune(this.clip, opts.finetune, {
      ...(this.hem ? { transform: this.hem } : { visionTransform: opts.oftVisionTransform }),
      trainVisionAttentionBias: opts.trainVisionAttentionBias,
    });
    this.oft = ft.oft;
    const predictor: Record<string, Module> = { clip_model: this.clip, transformer: this.aggregator };
    if (this.oft) predictor.oft = this.oft;
    if (this.hem) predictor.hem = this.hem;
    if (ahs.msfpn) {
      for (const l of ahs.msfpn.layers) {
        check(Number.isInteger(l) && l >= 0 && l < c.visionLayers, 'AHS_ERR_INVALID_ARGUMENT', () => `MH-FPN: layer ${l} is not a CLIP vision block (0..${c.visionLayers - 1})`);
      }
      const a = opts.aggregator;
      if (ahs.msfpn.target === 'guidance') {
        this.msFpn = new MultiScaleFpn({ width: c.visionWidth, dim: a.appearanceGuidanceDim, levels: ahs.msfpn.layers.length, grid: a.featureResolution });
        predictor.ms_fpn = this.msFpn;
      } else {
        this.msCost = new MultiScaleCost({ levels: ahs.msfpn.layers.length, promptChannels: a.promptChannels, hiddenDim: a.hiddenDim });
        predictor.ms_cost = this.msCost;
      }
    }
    if (ahs.dchsp) {
      this.dcHsp = new ClassAwareProjection({ dim: c.embedDim, mode: ahs.dchsp.mode });
      predictor.dc_hsp = this.dcHsp;
    }
    this.child('sem_seg_head', new Namespace({ predictor: new Namespace(predictor) }));
    const [d0, d1] = opts.aggregator.decoderGuidanceDims;
    this.upsample1 = this.child('upsample1', guidanceUpsampler(opts.clip.visionWidth, d0, 2));
    this.upsample2 = this.child('upsample2', guidanceUpsampler(opts.clip.visionWidth, d1, 4));
    this.text = new TextEmbedder(this.clip, { cacheDir: textCacheDir });
  }

  /** Training uses the training pooling; eval uses the test pooling and forgets cached text
   * embeddings, since training may have changed the text tower. */
  override train(on = true): this {
    super.train(on);
    this.aggregator.setPoolingSize((on ? this.opts.trainPooling : this.opts.testPooling) ?? null);
    if (!on) this.text.invalidate();
    return this;
  }

  override loadStateDict(sd: Map<string, Tensor>, opts: { strict?: boolean; source?: string } = {}): LoadReport {
    const report = super.loadStateDict(sd, opts);
    this.text.invalidate();
    this.oft?.invalidate();
    return report;
  }

  /** CLIP-normalised images (B, 3, H, W) from RGB on the 0..255 scale. */
  normalize(images: Tensor): Tensor {
    return clipNormalize(images, this.opts.clipPixelMean, this.opts.clipPixelStd);
  }

  /** Whether the text tower changes during training (then text is encoded with autograd). */
  get textTrainable(): boolean {
    for (const [n, t] of this.clip.namedParameters()) if (!n.startsWith('visual.') && t.requiresGrad) return true;
    return this.oft !== null;
  }

  /** Unit class embeddings [T, P, D]: cached in eval, recomputed with gradients in training. */
  classEmbeddings(classNames: string[]): Tensor {
    const cached = !(this.training && this.textTrainable);
    return this.text.classEmbeddings(classNames, this.opts.templates, { cached });
  }

  /**
   * Logits [B, T, 4g, 4g] for CLIP-normalised views [B, 3, S, S] (S = clipInputSize) and unit
   * class embeddings [T, P, D]: dense CLIP features, decoder guidance from the taps, aggregation.
   */
  forwardViews(clipImages: Tensor, text: Tensor, fwd: AggregatorForwardOptions = {}): Tensor {
    return tidy(() => this.views(clipImages, text, fwd).logits);
  }

  /** forwardViews with what the components' losses read: the dense tokens and the class text the
   * cost volume used (DC-HSP's t'). */
  views(clipImages: Tensor, text: Tensor, fwd: AggregatorForwardOptions = {}): ViewOutputs {
    const S = this.opts.clipInputSize;
    check(clipImages.rank === 4 && clipImages.size(2) === S && clipImages.size(3) === S, 'AHS_ERR_SHAPE',
      () => `CATSeg: CLIP views must be [B, 3, ${S}, ${S}], got ${fmtShape(clipImages.shape)}`);
    return tidy(() => {
      const levels = this.opts.ahs?.msfpn?.layers ?? [];
      const last = this.opts.clip.visionLayers - 1;
      const wanted = [...new Set([...this.opts.taps, ...levels.filter((l) => l !== last)])];
      const { tokens, taps, residual } = this.clip.visual.dense(clipImages, { residual: 'cls', taps: wanted });
      // MH-FPN's deepest level is the dense forward's own final residual stream (no hook).
      const levelFeats = levels.map((l) => (l === last ? residual : taps.get(l)!));
      const classText = this.dcHsp ? this.dcHsp.forward(text) : text;
      const grid = this.opts.aggregator.featureResolution;
      const appearanceGuidance = this.msFpn ? this.msFpn.guide(tokensToGrid(tokens, grid), levelFeats) : undefined;
      const costExtension = this.msCost ? {
        // Each level through CLIP's own (frozen) ln_post and proj, into the text space.
        features: levelFeats.map((h) => tokensToGrid(this.clip.visual.ln_post.forward(h).matmul(this.clip.visual.proj), grid)),
        embed: (corr: Tensor) => this.msCost!.embed(corr),
      } : undefined;
      const [a, b] = this.opts.taps;
      const logits = headForward(this, { denseFeatures: tokens, taps: [taps.get(a)!, taps.get(b)!], textEmbeds: classText, appearanceGuidance },
        { classChunk: this.training ? undefined : this.opts.classChunk, ...fwd, ...(costExtension ? { costExtension } : {}) });
      return { logits, tokens, classText };
    });
  }

  /**
   * CATSeg.forward in training (the training contract, src/models/seg_model.ts): images
   * [B, 3, H, W] RGB on the 0..255 scale, already cropped to one size; labels [B, H, W] (ignore =
   * ignoreValue). CLIP-normalised, padded to sizeDivisibility (zeros after normalisation, as
   * detectron2's ImageList) and resized to CLIP's input; the loss is taken at label resolution.
   */
  forwardTrain(batch: TrainingBatch, ctx: TrainingContext = {}): TrainingOutput {
    const { images, labels, classNames } = batch;
    check(images.rank === 4 && images.size(1) === 3 && labels.rank === 3 && labels.size(0) === images.size(0), 'AHS_ERR_SHAPE',
      () => `CATSeg.forwardTrain: images [B,3,H,W] and labels [B,H,W], got ${fmtShape(images.shape)} and ${fmtShape(labels.shape)}`);
    const chunk = this.opts.checkpointClassChunk ?? 0;
    const stages = ctx.tape && chunk > 0 ? new CheckpointedClassStages(ctx.tape, chunk) : null;
    return tidy(() => {
      const S = this.opts.clipInputSize;
      let x = this.normalize(images);
      const d = this.opts.sizeDivisibility ?? 0;
      // Labels covering the padded field of view, for losses taken on the feature grid.
      let gridLabels = labels;
      if (d > 1) {
        const [h, w] = [x.size(2), x.size(3)];
        const ph = Math.ceil(h / d) * d - h, pw = Math.ceil(w / d) * d - w;
        if (ph || pw) {
          x = pad(x, [0, pw, 0, ph], 'constant', 0);
          gridLabels = pad(labels, [0, pw, 0, ph], 'constant', this.opts.ignoreValue ?? 255);
        }
      }
      const clip = interpolate(x, { size: [S, S], mode: 'bilinear', alignCorners: false });
      const out = this.views(clip, this.classEmbeddings(classNames), stages ? { stages } : {});
      return { logits: out.logits, losses: trainingLosses(this, out, { labels, gridLabels }, stages) };
    });
  }

  /** Every trainable tensor under its state-dict name (the optimizer's parameter groups read the
   * names: CLIP_MULTIPLIER applies to CLIP and its orthogonal transforms). */
  trainableParameters(): [string, Tensor][] {
    return [...this.namedParameters()].filter(([, t]) => t.requiresGrad);
  }
}
