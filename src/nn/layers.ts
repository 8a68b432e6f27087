// The basic layers, with PyTorch's parameter names and default initialisation.
import { AhsError, fmtShape } from '../errors.js';
import {
  cat, conv2d, convTranspose2d, dropout, embedding, gelu as geluOp, groupNorm, layerNorm, linear, quickGelu, tidy, zeros, type Tensor,
} from '../tensor/index.js';
import { canFuse } from '../tensor/fused.js';
import { constantInit, normalInit, uniformFanIn } from './init.js';
import { Module, type Layer } from './module.js';

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

export class Linear extends Module implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    this.weight = this.param('weight', uniformFanIn([outFeatures, inFeatures], inFeatures));
    this.bias = opts.bias ?? true ? this.param('bias', uniformFanIn([outFeatures], inFeatures)) : null;
  }
  forward(x: Tensor): Tensor {
    if (x.size(-1) !== this.inFeatures) {
      throw new AhsError('AHS_ERR_SHAPE', `Linear(${this.inFeatures}->${this.outFeatures}): input's last dim must be ${this.inFeatures}, got ${fmtShape(x.shape)}`);
    }
    return linear(x, this.weight, this.bias);
  }
}

export interface ConvOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], opts: ConvOptions = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    this.groups = opts.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `Conv2d: channels ${inChannels}->${outChannels} not divisible by groups ${this.groups}`);
    }
    const fanIn = (inChannels / this.groups) * kh * kw;
    this.weight = this.param('weight', uniformFanIn([outChannels, inChannels / this.groups, kh, kw], fanIn));
    this.bias = opts.bias ?? true ? this.param('bias', uniformFanIn([outChannels], fanIn)) : null;
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
    this.dilation = pair(opts.dilation ?? 1);
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.size(1) !== this.inChannels) {
      throw new AhsError('AHS_ERR_SHAPE', `Conv2d(${this.inChannels}->${this.outChannels}): input must be [N,${this.inChannels},H,W], got ${fmtShape(x.shape)}`);
    }
    if (this.tapwiseApplies(x)) return tidy(() => this.tapwise(x));
    return conv2d(x, this.weight, this.bias, this.stride, this.padding, this.dilation, this.groups);
  }

  /** Few outputs per tap (CAT-Seg's 3x3 head to 1 channel), stride and dilation 1, no graph to record. */
  private tapwiseApplies(x: Tensor): boolean {
    const [, , kh, kw] = this.weight.shape as [number, number, number, number];
    return this.groups === 1 && kh * kw > 1 && this.outChannels * kh * kw <= 32
      && this.stride[0] === 1 && this.stride[1] === 1 && this.dilation[0] === 1 && this.dilation[1] === 1
      && this.padding[0] < kh && this.padding[1] < kw && canFuse([x, this.weight, this.bias]);
  }

  /**
   * The convolution as one 1x1 convolution to O kh kw tap planes (a GEMM over the channels) and
   * kh kw shifted sums of those planes. With one output channel libtorch's convolution ran at
   * 11-18 GFLOP/s here (its kernels block over output channels); this is 2.4x faster. Same sums
   * in a different order.
   */
  private tapwise(x: Tensor): Tensor {
    const [N, , H, W] = x.shape as [number, number, number, number];
    const [O, C, kh, kw] = this.weight.shape as [number, number, number, number];
    const [ph, pw] = this.padding;
    const Ho = H + 2 * ph - kh + 1, Wo = W + 2 * pw - kw + 1;
    const taps = this.weight.permute([0, 2, 3, 1]).reshape([O * kh * kw, C, 1, 1]); // (O kh kw, C, 1, 1)
    const z = conv2d(x, taps, null, [1, 1], [0, 0], [1, 1], 1).contiguous().view([N, O, kh * kw, H, W]); // tap planes
    const out = this.bias ? this.bias.view([1, O, 1, 1]).expand([N, O, Ho, Wo]).contiguous() : zeros([N, O, Ho, Wo], x.dtype);
    // out[i, j] += z_tap[i + dy - ph, j + dx - pw] over the rows and columns where that is inside z.
    for (let dy = 0; dy < kh; dy++) for (let dx = 0; dx < kw; dx++) {
      const i0 = Math.max(0, ph - dy), i1 = Math.min(Ho, H + ph - dy);
      const j0 = Math.max(0, pw - dx), j1 = Math.min(Wo, W + pw - dx);
      if (i1 <= i0 || j1 <= j0) continue;
      const tap = z.select(2, dy * kw + dx).narrow(2, i0 + dy - ph, i1 - i0).narrow(3, j0 + dx - pw, j1 - j0);
      out.narrow(2, i0, i1 - i0).narrow(3, j0, j1 - j0).add_(tap);
    }
    return out;
  }
}

export class ConvTranspose2d extends Module implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly stride: [number, number];
  readonly padding: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number],
    opts: { stride?: number | [number, number]; padding?: number | [number, number]; bias?: boolean } = {}) {
    super();
    const [kh, kw] = pair(kernelSize);
    // PyTorch computes fan_in from weight dim 1 (= out channels) for transposed convs.
    const fanIn = outChannels * kh * kw;
    this.weight = this.param('weight', uniformFanIn([inChannels, outChannels, kh, kw], fanIn));
    this.bias = opts.bias ?? true ? this.param('bias', uniformFanIn([outChannels], fanIn)) : null;
    this.stride = pair(opts.stride ?? 1);
    this.padding = pair(opts.padding ?? 0);
  }
  forward(x: Tensor): Tensor {
    this.checkInput(x);
    return tidy(() => {
      const patches = this.patches(x);
      if (!patches) return convTranspose2d(x, this.weight, this.bias, this.stride, this.padding);
      const [N, H, kh, W, kw, O] = patches.shape as [number, number, number, number, number, number];
      return patches.reshape([N, H * kh, W * kw, O]).permute([0, 3, 1, 2]); // (N, O, H kh, W kw), channels-last
    });
  }

  private checkInput(x: Tensor): void {
    if (x.rank !== 4 || x.size(1) !== this.inChannels) {
      throw new AhsError('AHS_ERR_SHAPE', `ConvTranspose2d(${this.inChannels}->${this.outChannels}): input must be [N,${this.inChannels},H,W], got ${fmtShape(x.shape)}`);
    }
  }

  /**
   * Kernel == stride, no padding (CAT-Seg's 2x2/s2 and 4x4/s4 upsamplers): every input pixel
   * writes its own kh x kw output patch, so the transposed convolution is one GEMM
   * [N H W, C] @ [C, kh kw O] (bias included) and a reshuffle. libtorch's CPU kernel for it ran
   * at ~16 GFLOP/s here; the GEMM runs at BLAS speed. Same result up to summation order.
   * Returns the (N, H, kh, W, kw, O) strided view of the GEMM's output: one copy makes it the
   * channels-last (N, H kh, W kw, O) map (forward does that; Up's concatenation copies it straight
   * into its own layout). The input is read channels-last, so a channels-last x costs no copy.
   * Null when the kernel is not the stride.
   */
  patches(x: Tensor): Tensor | null {
    const [kh, kw] = [this.weight.size(2), this.weight.size(3)];
    if (kh !== this.stride[0] || kw !== this.stride[1] || this.padding[0] !== 0 || this.padding[1] !== 0) return null;
    this.checkInput(x);
    return tidy(() => {
      const [N, , H, W] = x.shape as [number, number, number, number];
      const O = this.outChannels;
      const w = this.weight.permute([2, 3, 1, 0]).reshape([kh * kw * O, this.inChannels]); // (kh kw O, C)
      const b = this.bias ? this.bias.view([1, O]).expand([kh * kw, O]).reshape([-1]) : null; // bias of each (i, j, o)
      return linear(x.permute([0, 2, 3, 1]), w, b) // (N, H, W, kh kw O)
        .view([N, H, W, kh, kw, O])
        .permute([0, 1, 3, 2, 4, 5]); // (N, H, kh, W, kw, O)
    });
  }
}

export class LayerNorm extends Module implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly eps = 1e-5) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    this.weight = this.param('weight', constantInit(this.normalizedShape, 1));
    this.bias = this.param('bias', constantInit(this.normalizedShape, 0));
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

export class GroupNorm extends Module implements Layer {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5) {
    super();
    if (numChannels % numGroups) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `GroupNorm: ${numChannels} channels not divisible by ${numGroups} groups`);
    this.weight = this.param('weight', constantInit([numChannels], 1));
    this.bias = this.param('bias', constantInit([numChannels], 0));
  }
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}

export class Embedding extends Module {
  readonly weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly dim: number) {
    super();
    this.weight = this.param('weight', normalInit([numEmbeddings, dim], 1));
  }
  forward(indices: Tensor): Tensor {
    return embedding(this.weight, indices);
  }
}

export class Dropout extends Module implements Layer {
  constructor(readonly p = 0.5) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? dropout(x, this.p, true) : x.view(x.shape);
  }
}

export class Identity extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return x.view(x.shape);
  }
}

export class GELU extends Module implements Layer {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return geluOp(x, this.approximate);
  }
}

export class ReLU extends Module implements Layer {
  /** inplace: overwrite the input (nn.ReLU(inplace=True)); valid where nothing else reads it,
   * e.g. after a normalisation whose backward needs only its own input. Saves one activation. */
  constructor(readonly inplace = false) {
    super();
  }
  forward(x: Tensor): Tensor {
    return this.inplace ? x.relu_() : x.relu();
  }
}

/** CLIP's activation: x * sigmoid(1.702 x). */
export class QuickGELU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return quickGelu(x);
  }
}

/**
 * Several Linear layers applied to the same input as one GEMM (weights stacked along the output
 * dim), returned as views into the shared result. Each output element is the same dot product as
 * in the separate layers; one wider GEMM runs faster than two narrow ones on the same rows.
 */
export function fusedLinear(layers: Linear[], x: Tensor): Tensor[] {
  return tidy(() => {
    const w = cat(layers.map((l) => l.weight), 0);
    const b = layers.every((l) => l.bias) ? cat(layers.map((l) => l.bias!), 0) : null;
    if (!b && layers.some((l) => l.bias)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'fusedLinear: layers must all have a bias or none');
    const y = linear(x, w, b);
    let start = 0;
    return layers.map((l) => {
      const part = y.narrow(-1, start, l.outFeatures);
      start += l.outFeatures;
      return part;
    });
  });
}
