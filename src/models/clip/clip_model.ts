// CLIP (OpenAI clip/model.py) with the ViT image tower: the image encoder under `visual.*`, the
// text encoder's parts at the top level as in OpenAI's state dict.
import { AhsError, fmtShape } from '../../errors.js';
import { Embedding, LayerNorm, Module } from '../../nn/index.js';
import { arange, full, tidy, type Tensor } from '../../tensor/index.js';
import { constantInit, normalInit } from '../../nn/init.js';
import type { QkvLayout } from './multihead_attention.js';
import { Transformer } from './transformer.js';
import { VisionTransformer } from './vision_transformer.js';

/** The hyper-parameters openai/CLIP's build_model reads off a state dict. */
export interface ClipConfig {
  embedDim: number;
  imageResolution: number;
  visionLayers: number;
  visionWidth: number;
  visionPatchSize: number;
  visionHeads: number;
  contextLength: number;
  vocabSize: number;
  transformerWidth: number;
  transformerHeads: number;
  transformerLayers: number;
}

export class CLIP extends Module {
  readonly visual: VisionTransformer;
  readonly transformer: Transformer;
  readonly token_embedding: Embedding;
  readonly positional_embedding: Tensor;
  readonly ln_final: LayerNorm;
  readonly text_projection: Tensor;
  readonly logit_scale: Tensor;
  #causalMask: Tensor | null = null;

  constructor(readonly cfg: ClipConfig, opts: { qkvLayout?: QkvLayout } = {}) {
    super();
    const layout = opts.qkvLayout ?? 'packed';
    this.visual = this.child('visual', new VisionTransformer({
      width: cfg.visionWidth, layers: cfg.visionLayers, heads: cfg.visionHeads, patchSize: cfg.visionPatchSize,
      imageResolution: cfg.imageResolution, outputDim: cfg.embedDim,
    }, layout));
    this.transformer = this.child('transformer', new Transformer(cfg.transformerWidth, cfg.transformerLayers, cfg.transformerHeads, layout));
    this.token_embedding = this.child('token_embedding', new Embedding(cfg.vocabSize, cfg.transformerWidth));
    this.positional_embedding = this.param('positional_embedding', normalInit([cfg.contextLength, cfg.transformerWidth], 0.01));
    this.ln_final = this.child('ln_final', new LayerNorm(cfg.transformerWidth));
    this.text_projection = this.param('text_projection', normalInit([cfg.transformerWidth, cfg.embedDim], cfg.transformerWidth ** -0.5));
    this.logit_scale = this.param('logit_scale', constantInit([], Math.log(1 / 0.07)));
  }

  /** The additive causal mask of the text transformer ([L, L], -inf above the diagonal). */
  private causalMask(): Tensor {
    if (!this.#causalMask) {
      const L = this.cfg.contextLength;
      this.#causalMask = this.buffer('attn_mask', tidy(() => full([L, L], -Infinity, undefined, this.token_embedding.weight.device).triu(1)), false);
    }
    return this.#causalMask;
  }

  /** Pooled image embeddings [B, embedDim] (not normalised). */
  encodeImage(images: Tensor): Tensor {
    return this.visual.forward(images);
  }

  /** Text embeddings at the end token [N, embedDim] (not normalised), from ids [N, context] on
   * the CPU (the tokenizer's) or on the model's device. */
  encodeText(tokens: Tensor): Tensor {
    if (tokens.rank !== 2 || tokens.size(1) !== this.cfg.contextLength) {
      throw new AhsError('AHS_ERR_SHAPE', `encodeText: tokens must be [N, ${this.cfg.contextLength}], got ${fmtShape(tokens.shape)}`);
    }
    const mask = this.causalMask();
    return tidy(() => {
      const ids = tokens.dtype === 'int64' ? tokens : tokens.long();
      // The end token has the largest id in every sequence (49407), so argmax finds it. With a
      // causal mask nothing after the last end token can reach it, so the sequence is cut there:
      // same result, and short class prompts (~10 of 77 tokens) encode several times faster.
      // The cut is found where the ids are (the tokenizer's CPU tensor: no device sync), then the
      // ids go to the weights' device.
      const dev = this.token_embedding.weight.device;
      const eotAt = ids.argmax(-1); // (N)
      const L = eotAt.amax().item() + 1;
      const eotIdx = eotAt.to(dev);
      const cut = ids.narrow(1, 0, L).to(dev);
      const x = this.token_embedding.forward(cut).add(this.positional_embedding.narrow(0, 0, L)); // (N, L, W)
      const { out } = this.transformer.run(x, { mask: mask.narrow(0, 0, L).narrow(1, 0, L) });
      const h = this.ln_final.forward(out);
      const eot = h.index([arange(0, ids.size(0), 1, 'int64', dev), eotIdx]); // (N, W)
      return eot.matmul(this.text_projection);
    });
  }
}

/** openai/CLIP build_model: every size from the weights' shapes and key names. */
export function clipConfigFromShapes(shapes: Map<string, number[]>): ClipConfig {
  const need = (k: string): number[] => {
    const s = shapes.get(k);
    if (!s) throw new AhsError('AHS_ERR_STATE_DICT', `CLIP weights lack '${k}' (needed to infer the model size)`);
    return s;
  };
  const countBlocks = (prefix: string): number => {
    const ids = new Set<number>();
    for (const k of shapes.keys()) {
      const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}(\\d+)\\.`).exec(k);
      if (m) ids.add(Number(m[1]));
    }
    return ids.size;
  };
  const conv = need('visual.conv1.weight');
  const visionWidth = conv[0]!;
  const visionPatchSize = conv[3]!;
  const grid = Math.round(Math.sqrt(need('visual.positional_embedding')[0]! - 1));
  const transformerWidth = need('ln_final.weight')[0]!;
  // OpenAI's rule: one head per 64 channels (Hugging Face configs say it explicitly instead).
  for (const [k, w] of [['visual.conv1.weight', visionWidth], ['ln_final.weight', transformerWidth]] as const) {
    if (w % 64 !== 0) throw new AhsError('AHS_ERR_STATE_DICT', `CLIP width ${w} (from '${k}') is not a multiple of 64, so the head count cannot be inferred the way openai/CLIP does; give a config.json with num_attention_heads`);
  }
  return {
    embedDim: need('text_projection')[1]!,
    imageResolution: visionPatchSize * grid,
    visionLayers: countBlocks('visual.transformer.resblocks.'),
    visionWidth,
    visionPatchSize,
    visionHeads: visionWidth / 64,
    contextLength: need('positional_embedding')[0]!,
    vocabSize: need('token_embedding.weight')[0]!,
    transformerWidth,
    transformerHeads: transformerWidth / 64,
    transformerLayers: countBlocks('transformer.resblocks.'),
  };
}
