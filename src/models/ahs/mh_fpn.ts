// MH-FPN, the multi-scale hyperspherical feature pyramid of AHS-Seg (modeling/multi_scale_fusion.py,
// MultiScaleHypersphericalFPN with fusion_type 'weighted'), as method-spec section 5.2 fixes it
// (MSFPN_TARGET 'guidance'). Per CLIP level l (CLS token dropped):
//   z_l   = r_l * normalize(GELU(LN(Linear(width -> dim)(h_l))))     r_l init sqrt(dim)
//   z_l   = GELU(GN(PW1x1(DW3x3(z_l))))                              (B, dim, gh, gw)
//   fused = sum_l softmax(theta)_l z_l                               theta init 0 (uniform)
//   out   = Conv1x1(GELU(GN(Conv3x3(fused))))
//   guide(res3) = res3 + gate ⊙ out                                  gate [dim] init 0
// The zero gate replaces the original's fixed 0.5 res3 + 0.5 out mix: at init guide(res3) is res3
// exactly (the baseline's guidance), yet d guide / d gate = out != 0, so training moves it.
//
// As in the original, each level has its own radius r_l ([1]); the GroupNorm right after the
// convolutions makes z_l nearly invariant to r_l (only the conv biases see its scale), so r_l
// learns slowly. GroupNorm groups default to dim / 16 (the original's out_channels // 16: 32 at 512).
import { AhsError, check, fmtShape } from '../../errors.js';
import { Conv2d, GroupNorm, LayerNorm, Linear, Module, ModuleList } from '../../nn/index.js';
import { constantInit } from '../../nn/init.js';
import { gelu, tidy, zeros, type Tensor } from '../../tensor/index.js';
import { l2Normalize } from '../catseg/cost_volume.js';
import type { TokenLayout } from '../catseg/guidance_upsampler.js';

export interface MultiScaleFpnOptions {
  /** Residual-stream width of the CLIP vision tower (768 ViT-B, 1024 ViT-L). */
  width: number;
  /** Output channels = CLIP's embed dim = the appearance-guidance width (512 ViT-B, 768 ViT-L). */
  dim: number;
  /** Number of tapped CLIP levels (MS_LAYER_INDICES.length). */
  levels: number;
  /** Patch grid of the features [gh, gw] (24x24 at 384 px, ViT-B/16). */
  grid: [number, number];
  /** GroupNorm groups; default dim / 16 as in the original. */
  groups?: number;
}

/** One pyramid level (FeaturePyramidLevel): hyperspherical alignment, then a depthwise-separable refinement. */
export class FpnLevel extends Module {
  readonly proj: Linear;
  readonly norm: LayerNorm;
  readonly radius: Tensor;
  readonly dw: Conv2d;
  readonly pw: Conv2d;
  readonly gn: GroupNorm;

  constructor(width: number, readonly dim: number, groups: number) {
    super();
    this.proj = this.child('proj', new Linear(width, dim));
    this.norm = this.child('norm', new LayerNorm(dim));
    this.radius = this.param('radius', constantInit([1], Math.sqrt(dim)));
    this.dw = this.child('dw', new Conv2d(dim, dim, 3, { padding: 1, groups: dim }));
    this.pw = this.child('pw', new Conv2d(dim, dim, 1));
    this.gn = this.child('gn', new GroupNorm(groups, dim));
  }

  /** Patch tokens (B, N, width) -> (B, dim, gh, gw). */
  forward(patches: Tensor, grid: [number, number]): Tensor {
    const [gh, gw] = grid;
    return tidy(() => {
      const B = patches.size(0);
      const x = gelu(this.norm.forward(this.proj.forward(patches))); // (B, N, dim)
      const z = l2Normalize(x, -1).mul(this.radius); // on the sphere of radius r: (B, N, dim)
      const map = z.transpose(1, 2).reshape([B, this.dim, gh, gw]); // (B, dim, gh, gw), row-major tokens
      return gelu(this.gn.forward(this.pw.forward(this.dw.forward(map)))); // (B, dim, gh, gw)
    });
  }
}

export class MultiScaleFpn extends Module {
  readonly levels: ModuleList<FpnLevel>;
  /** theta: softmax(theta) weights the levels in the fusion. */
  readonly level_logits: Tensor;
  readonly out_conv: Conv2d;
  readonly out_norm: GroupNorm;
  readonly out_proj: Conv2d;
  /** Per-channel gate on the fused features; zero at init (identity). */
  readonly gate: Tensor;
  readonly opts: Required<MultiScaleFpnOptions>;

  constructor(o: MultiScaleFpnOptions) {
    super();
    const groups = o.groups ?? Math.floor(o.dim / 16);
    for (const [k, v] of [['width', o.width], ['dim', o.dim], ['levels', o.levels], ['grid[0]', o.grid[0]], ['grid[1]', o.grid[1]], ['groups', groups]] as const) {
      check(Number.isInteger(v) && v > 0, 'AHS_ERR_INVALID_ARGUMENT', () => `MultiScaleFpn: ${k} must be a positive integer, got ${v}`);
    }
    check(o.dim % groups === 0, 'AHS_ERR_INVALID_ARGUMENT', () => `MultiScaleFpn: dim ${o.dim} is not divisible by ${groups} GroupNorm groups`);
    this.opts = { ...o, groups };
    this.levels = this.child('levels', new ModuleList(Array.from({ length: o.levels }, () => new FpnLevel(o.width, o.dim, groups))));
    this.level_logits = this.param('level_logits', zeros([o.levels]));
    this.out_conv = this.child('out_conv', new Conv2d(o.dim, o.dim, 3, { padding: 1 }));
    this.out_norm = this.child('out_norm', new GroupNorm(groups, o.dim));
    this.out_proj = this.child('out_proj', new Conv2d(o.dim, o.dim, 1));
    this.gate = this.param('gate', zeros([o.dim]));
  }

  /** Softmax level weights (levels). */
  levelWeights(): Tensor {
    return this.level_logits.softmax(0);
  }

  /**
   * The fused pyramid features (B, dim, gh, gw) from the tapped block outputs, each
   * (B, 1 + gh*gw, width) with the CLS token first ('LBC': (1 + gh*gw, B, width)).
   */
  forward(levels: Tensor[], layout: TokenLayout = 'BLC'): Tensor {
    const { width, grid: [gh, gw] } = this.opts;
    check(levels.length === this.levels.length, 'AHS_ERR_SHAPE', () => `MultiScaleFpn: expected ${this.levels.length} level features, got ${levels.length}`);
    const tokenShape = (h: Tensor): number[] => (layout === 'BLC' || h.rank !== 3 ? h.shape : [h.size(1), h.size(0), h.size(2)]);
    const B = tokenShape(levels[0]!)[0];
    levels.forEach((h, l) => {
      const s = tokenShape(h);
      check(s.length === 3 && s[0] === B && s[1] === 1 + gh * gw && s[2] === width, 'AHS_ERR_SHAPE',
        () => `MultiScaleFpn: level ${l} must be ${layout === 'BLC' ? `(B=${B}, 1 + ${gh}*${gw}, ${width})` : `(1 + ${gh}*${gw}, B=${B}, ${width})`} tokens with the CLS token first, got ${fmtShape(h.shape)}`);
    });
    return tidy(() => {
      const w = this.levelWeights(); // (levels)
      let fused: Tensor | null = null;
      for (let l = 0; l < levels.length; l++) {
        const tokens = layout === 'BLC' ? levels[l]! : levels[l]!.transpose(0, 1); // (B, 1 + N, width)
        const z = this.levels.at(l).forward(tokens.narrow(1, 1, gh * gw), [gh, gw]).mul(w.select(0, l)); // (B, dim, gh, gw)
        fused = fused ? fused.add(z) : z;
      }
      const y = gelu(this.out_norm.forward(this.out_conv.forward(fused!)));
      return this.out_proj.forward(y); // (B, dim, gh, gw)
    });
  }

  /** The appearance guidance res3 (B, dim, gh, gw) plus the gated pyramid features: res3 + gate ⊙ out. */
  guide(res3: Tensor, levels: Tensor[], layout: TokenLayout = 'BLC'): Tensor {
    const { dim, grid: [gh, gw] } = this.opts;
    if (res3.rank !== 4 || res3.size(1) !== dim || res3.size(2) !== gh || res3.size(3) !== gw) {
      throw new AhsError('AHS_ERR_SHAPE', `MultiScaleFpn.guide: res3 must be (B, ${dim}, ${gh}, ${gw}), got ${fmtShape(res3.shape)}`);
    }
    return tidy(() => {
      const out = this.forward(levels, layout);
      check(out.size(0) === res3.size(0), 'AHS_ERR_SHAPE', () => `MultiScaleFpn.guide: res3 has batch ${res3.size(0)}, the level features ${out.size(0)}`);
      return res3.add(out.mul(this.gate.view([1, dim, 1, 1]))); // (B, dim, gh, gw)
    });
  }
}

/** Parameter count of MultiScaleFpn: L (width dim + dim^2 + 16 dim + 1) + 10 dim^2 + 5 dim + L. */
export function multiScaleFpnParameterCount(o: Pick<MultiScaleFpnOptions, 'width' | 'dim' | 'levels'>): number {
  const { width, dim, levels } = o;
  const perLevel = width * dim + dim /* proj */ + 2 * dim /* LN */ + 1 /* r */ + 10 * dim /* DW */ + dim * dim + dim /* PW */ + 2 * dim /* GN */;
  return levels * perLevel + levels /* theta */ + 9 * dim * dim + dim /* 3x3 */ + 2 * dim /* GN */ + dim * dim + dim /* 1x1 */ + dim /* gate */;
}
