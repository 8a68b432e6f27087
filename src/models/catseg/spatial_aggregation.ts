// Spatial aggregation (CAT-Seg's SwinTransformerBlockWrapper): each class's embedded cost map is
// refined by a pair of Swin blocks (unshifted, then shifted by window/2) that share weights across
// classes and read the LayerNorm'd appearance guidance of the image.
import { check, fmtShape } from '../../errors.js';
import { LayerNorm, Module } from '../../nn/index.js';
import { tidy, type Tensor } from '../../tensor/index.js';
import { SwinTransformerBlock } from './swin_block.js';

export interface SpatialAggregationOptions {
  dim: number;
  /** Appearance-guidance channels (0 = no guidance, no guidance_norm). */
  appearanceGuidanceDim: number;
  inputResolution: [number, number];
  numHeads: number;
  windowSize: number;
}

export class SwinTransformerBlockWrapper extends Module {
  readonly block_1: SwinTransformerBlock;
  readonly block_2: SwinTransformerBlock;
  readonly guidance_norm: LayerNorm | null;

  constructor(readonly opts: SpatialAggregationOptions) {
    super();
    const { dim, appearanceGuidanceDim: g, inputResolution, numHeads, windowSize } = opts;
    const common = { dim, guidanceDim: g, inputResolution, numHeads, windowSize };
    this.block_1 = this.child('block_1', new SwinTransformerBlock({ ...common, shiftSize: 0 }));
    this.block_2 = this.child('block_2', new SwinTransformerBlock({ ...common, shiftSize: Math.floor(windowSize / 2) }));
    this.guidance_norm = this.child('guidance_norm', g > 0 ? new LayerNorm(g) : null);
  }

  /** x (B, C, T, H, W), appearance guidance (B, Cg, H, W) or null -> (B, C, T, H, W). */
  forward(x: Tensor, guidance: Tensor | null): Tensor {
    check(x.rank === 5 && x.size(1) === this.opts.dim, 'AHS_ERR_SHAPE',
      () => `SwinTransformerBlockWrapper: x must be (B, ${this.opts.dim}, T, H, W), got ${fmtShape(x.shape)}`);
    const [B, C, T, H, W] = x.shape as [number, number, number, number, number];
    return tidy(() => {
      let g: Tensor | null = null;
      if (guidance && this.guidance_norm) {
        check(guidance.rank === 4 && guidance.size(0) === B && guidance.size(2) === H && guidance.size(3) === W, 'AHS_ERR_SHAPE',
          () => `SwinTransformerBlockWrapper: guidance must be (${B}, Cg, ${H}, ${W}), got ${fmtShape(guidance.shape)}`);
        // LayerNorm per token gives the same values whether or not the T copies exist: normalise
        // once per image and let the blocks broadcast it over the classes.
        g = this.guidance_norm.forward(guidance.flatten(2).transpose(1, 2)); // (B, H W, Cg)
      }
      let t = x.permute([0, 2, 3, 4, 1]).reshape([B * T, H * W, C]); // (B T, H W, C)
      t = this.block_1.forward(t, g);
      t = this.block_2.forward(t, g);
      return t.view([B, T, H, W, C]).permute([0, 4, 1, 2, 3]); // (B, C, T, H, W)
    });
  }
}
