// MH-FPN in cosine space (MSFPN_TARGET 'cost', method-spec section 5.2): the cost volumes of the
// tapped CLIP levels, corr_l = <normalize(proj(ln_post(h_l))), t>, enter CAT-Seg's cost embedding
// as extra input channels. CAT-Seg embeds its cost volume (B, P, T, H, W) with a 7x7 conv1; a conv
// over [P + L P] channels equals conv1 on the P channels plus a conv over the L P level channels.
// This module is that second conv, kept apart and zero-initialised, so CAT-Seg's conv1 key loads
// unchanged and the embedding at init is CAT-Seg's exactly. It has no bias: conv1's bias is the
// widened conv's bias already.
import { check, fmtShape } from '../../errors.js';
import { Conv2d, Module } from '../../nn/index.js';
import { cat, noGrad, tidy, type Tensor } from '../../tensor/index.js';
import { correlation, embedCost } from '../catseg/cost_volume.js';

export interface MultiScaleCostOptions {
  /** Number of tapped CLIP levels. */
  levels: number;
  /** Prompt templates per class P (the cost volume's channel count). */
  promptChannels: number;
  /** The Aggregator's hidden dim (128): the cost embedding's channel count. */
  hiddenDim: number;
}

export class MultiScaleCost extends Module {
  /** Conv2d(levels P -> hiddenDim, 7x7, padding 3, no bias), zero at init. */
  readonly conv: Conv2d;

  constructor(readonly opts: MultiScaleCostOptions) {
    super();
    for (const [k, v] of Object.entries(opts)) {
      check(Number.isInteger(v) && v > 0, 'AHS_ERR_INVALID_ARGUMENT', () => `MultiScaleCost: ${k} must be a positive integer, got ${String(v)}`);
    }
    this.conv = this.child('conv', new Conv2d(opts.levels * opts.promptChannels, opts.hiddenDim, 7, { padding: 3, bias: false }));
    noGrad(() => this.conv.weight.zero_());
  }

  /**
   * The cost volume of one level: cosine of every pixel with every class prompt.
   * levelFeats (B, C, H, W), text (B, T, P, C) -> (B, P, T, H, W); both L2-normalised over C.
   */
  static levelCorrelation(levelFeats: Tensor, text: Tensor): Tensor {
    return correlation(levelFeats, text);
  }

  /**
   * The level cost volumes stacked as channels, level-major (level 0's P prompts first):
   * L x (B, P, T, H, W) -> (B, L P, T, H, W), the layout `embed` expects.
   */
  stackLevels(corrs: Tensor[]): Tensor {
    check(corrs.length === this.opts.levels, 'AHS_ERR_SHAPE', () => `MultiScaleCost: expected ${this.opts.levels} level cost volumes, got ${corrs.length}`);
    corrs.forEach((c, l) => check(c.rank === 5 && c.size(1) === this.opts.promptChannels, 'AHS_ERR_SHAPE',
      () => `MultiScaleCost: level ${l} cost volume must be (B, P=${this.opts.promptChannels}, T, H, W), got ${fmtShape(c.shape)}`));
    return cat(corrs, 1); // (B, L P, T, H, W)
  }

  /** corr (B, L P, T, H, W) -> (B, hiddenDim, T, H, W), the conv applied per class; add it to conv1's embedding. */
  embed(corr: Tensor): Tensor {
    return tidy(() => embedCost(this.conv, corr));
  }
}

/** Parameter count of MultiScaleCost: levels P hiddenDim 49. */
export function multiScaleCostParameterCount(o: MultiScaleCostOptions): number {
  return o.levels * o.promptChannels * o.hiddenDim * 49;
}
