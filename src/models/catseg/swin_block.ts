// CAT-Seg's guidance-conditioned Swin block (cat_seg/modeling/transformer/model.py:
// WindowAttention, SwinTransformerBlock). Differences from timm's Swin, reproduced exactly:
// no relative position bias; q and k read the LayerNorm'd tokens concatenated with the appearance
// guidance, v reads the tokens only; the shifted block's -100 mask is a persistent buffer
// `attn_mask` (it is in the checkpoints), absent (not registered) on the unshifted block.
// The guidance is rolled and partitioned once per image and concatenated to each class's windows.
import { AhsError, check, fmtShape } from '../../errors.js';
import { GELU, LayerNorm, Linear, Module, fusedLinear } from '../../nn/index.js';
import { mlp, multiHeadAttention, tensor, tidy, type Tensor } from '../../tensor/index.js';
import { guidedProjections } from './guidance_concat.js';

/**
 * The shifted-window mask: tokens from different regions of the rolled image may not attend to
 * each other (-100), as SwinTransformerBlock.__init__ builds it. Returns [nW, ws*ws, ws*ws].
 */
export function shiftedWindowMask(H: number, W: number, ws: number, shift: number): Tensor {
  const region = new Int32Array(H * W);
  const bands = (n: number): [number, number][] => [[0, n - ws], [n - ws, n - shift], [n - shift, n]];
  let cnt = 0;
  for (const [h0, h1] of bands(H)) {
    for (const [w0, w1] of bands(W)) {
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) region[h * W + w] = cnt;
      cnt++;
    }
  }
  const N = ws * ws;
  const nWh = H / ws, nWw = W / ws;
  const out = new Float32Array(nWh * nWw * N * N);
  for (let wh = 0; wh < nWh; wh++) {
    for (let ww = 0; ww < nWw; ww++) {
      const w = wh * nWw + ww;
      const ids = new Int32Array(N);
      for (let i = 0; i < ws; i++) for (let j = 0; j < ws; j++) ids[i * ws + j] = region[(wh * ws + i) * W + ww * ws + j]!;
      for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) out[(w * N + i) * N + j] = ids[j] === ids[i] ? 0 : -100;
    }
  }
  return tensor(out, { shape: [nWh * nWw, N, N] });
}

/** Window self-attention without relative position bias; q/k see the guidance, v does not. */
export class WindowAttention extends Module {
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly proj: Linear;
  readonly headDim: number;
  readonly scale: number;

  constructor(readonly dim: number, readonly guidanceDim: number, readonly numHeads: number, opts: { headDim?: number; qkvBias?: boolean } = {}) {
    super();
    this.headDim = opts.headDim ?? Math.floor(dim / numHeads);
    const attnDim = this.headDim * numHeads;
    this.scale = this.headDim ** -0.5;
    const bias = opts.qkvBias ?? true;
    this.q = this.child('q', new Linear(dim + guidanceDim, attnDim, { bias }));
    this.k = this.child('k', new Linear(dim + guidanceDim, attnDim, { bias }));
    this.v = this.child('v', new Linear(dim, attnDim, { bias }));
    this.proj = this.child('proj', new Linear(attnDim, dim));
  }

  /**
   * xw (Bw, N, dim) token windows; mask [nW, N, N] or null; guidance windows (B nW, N, Cg) of each
   * image when the block is guided, xw being (B T nW, N, dim) (T classes per image) -> (Bw, N, dim).
   */
  forward(xw: Tensor, mask: Tensor | null, guidance?: { windows: Tensor; classes: number; windowsPerImage: number }): Tensor {
    check(xw.rank === 3 && xw.size(2) === this.dim, 'AHS_ERR_SHAPE',
      () => `WindowAttention: windows must be (Bw, N, ${this.dim}), got ${fmtShape(xw.shape)}`);
    check(!guidance === !this.guidanceDim, 'AHS_ERR_INVALID_ARGUMENT',
      () => `WindowAttention: built for ${this.guidanceDim} guidance channels, called ${guidance ? 'with' : 'without'} guidance`);
    return tidy(() => {
      const [Bw, N] = xw.shape as [number, number, number];
      const nH = this.numHeads;
      // q and k read cat([x, g]); g's windows are the same for the T classes of an image.
      let qf: Tensor, kf: Tensor;
      if (guidance) {
        const { windows: gw, classes: T, windowsPerImage: nW } = guidance;
        const B = gw.size(0) / nW;
        check(gw.rank === 3 && gw.size(1) === N && Number.isInteger(B) && B * T * nW === Bw, 'AHS_ERR_SHAPE',
          () => `WindowAttention: guidance windows must be (${Bw / T}, ${N}, Cg) for ${T} classes, got ${fmtShape(gw.shape)}`);
        // cat([x, g]) with g (B, 1, nW N, Cg) broadcast over the T classes -> (B, T, nW N, 2 A)
        [qf, kf] = guidedProjections([this.q, this.k], xw.view([B, T, nW * N, this.dim]), gw.view([B, 1, nW * N, -1])) as [Tensor, Tensor];
      } else {
        [qf, kf] = fusedLinear([this.q, this.k], xw) as [Tensor, Tensor]; // one GEMM for q and k
      }
      const heads = (t: Tensor) => t.reshape([Bw, N, nH, -1]).permute([0, 2, 1, 3]); // (Bw, nH, N, hd)
      const out = multiHeadAttention(heads(qf), heads(kf), heads(this.v.forward(xw)), { mask, scale: this.scale }); // (Bw, N, nH hd)
      return this.proj.forward(out); // (Bw, N, dim)
    });
  }
}

/** timm's Mlp: fc1 -> GELU (exact) -> fc2 (dropout 0); one fused op (src/tensor/mlp.ts). */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: GELU;
  readonly fc2: Linear;
  constructor(inFeatures: number, hiddenFeatures: number) {
    super();
    this.fc1 = this.child('fc1', new Linear(inFeatures, hiddenFeatures));
    this.act = this.child('act', new GELU());
    this.fc2 = this.child('fc2', new Linear(hiddenFeatures, inFeatures));
  }
  forward(x: Tensor): Tensor {
    return mlp(x, this, this.act.approximate === 'tanh' ? 'gelu_tanh' : 'gelu');
  }
}

export interface SwinBlockOptions {
  dim: number;
  /** Appearance-guidance channels concatenated to the tokens for q and k (0 = none). */
  guidanceDim: number;
  inputResolution: [number, number];
  numHeads: number;
  windowSize: number;
  shiftSize: number;
  headDim?: number;
  mlpRatio?: number;
  qkvBias?: boolean;
}

export class SwinTransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: WindowAttention;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly attn_mask: Tensor | null;
  readonly dim: number;
  readonly inputResolution: [number, number];
  readonly windowSize: number;
  readonly shiftSize: number;
  private readonly windowPerm: Tensor;
  private readonly windowInv: Tensor;

  constructor(o: SwinBlockOptions) {
    super();
    this.dim = o.dim;
    this.inputResolution = o.inputResolution;
    let ws = o.windowSize;
    let shift = o.shiftSize;
    const minRes = Math.min(...o.inputResolution);
    // The reference: a window as large as the map means one window and no shift.
    if (minRes <= ws) { shift = 0; ws = minRes; }
    if (!(shift >= 0 && shift < ws)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `SwinTransformerBlock: shift ${shift} must be in [0, window ${ws})`);
    this.windowSize = ws;
    this.shiftSize = shift;
    this.norm1 = this.child('norm1', new LayerNorm(o.dim));
    this.attn = this.child('attn', new WindowAttention(o.dim, o.guidanceDim, o.numHeads, { headDim: o.headDim, qkvBias: o.qkvBias }));
    this.norm2 = this.child('norm2', new LayerNorm(o.dim));
    this.mlp = this.child('mlp', new Mlp(o.dim, Math.floor(o.dim * (o.mlpRatio ?? 4))));
    const [H, W] = o.inputResolution;
    this.attn_mask = this.buffer('attn_mask', shift > 0 ? shiftedWindowMask(H, W, ws, shift) : null);
    // Not in checkpoints (non-persistent): derived from the sizes.
    const [perm, inv] = windowOrder(H, W, ws, shift);
    this.windowPerm = this.buffer('window_perm', perm, false);
    this.windowInv = this.buffer('window_inv', inv, false);
  }

  /**
   * x (B T, H W, C) tokens of every (image, class) pair; guidance (B, H W, Cg) per image (already
   * normalised), broadcast over the T classes of each image as the reference's repeat does.
   */
  forward(x: Tensor, guidance: Tensor | null): Tensor {
    const [H, W] = this.inputResolution;
    const [BT, L, C] = x.shape as [number, number, number];
    check(x.rank === 3 && L === H * W && C === this.dim, 'AHS_ERR_SHAPE',
      () => `SwinTransformerBlock: x must be (B*T, ${H * W}, ${this.dim}), got ${fmtShape(x.shape)}`);
    const ws = this.windowSize;
    const [perm, inv] = [this.windowPerm, this.windowInv];
    return tidy(() => {
      // roll(-shift) + window partition as one gather along the token dim, and its inverse after
      // attention: one copy each way instead of two.
      const toWindows = (t: Tensor, n: number) => t.indexSelect(1, perm).view([n * (L / (ws * ws)), ws * ws, -1]); // (n nW, ws*ws, C)
      const h = toWindows(this.norm1.forward(x), BT); // (B T nW, ws*ws, C)
      let g: { windows: Tensor; classes: number; windowsPerImage: number } | undefined;
      if (guidance) {
        const B = guidance.size(0);
        check(guidance.rank === 3 && guidance.size(1) === L && BT % B === 0, 'AHS_ERR_SHAPE',
          () => `SwinTransformerBlock: guidance must be (B, ${L}, Cg) with B dividing ${BT}, got ${fmtShape(guidance.shape)}`);
        // The reference rolls and partitions cat([norm1(x), g]); g's windows are the same for every class.
        const windows = toWindows(guidance, B); // (B nW, ws*ws, Cg)
        g = { windows, classes: BT / B, windowsPerImage: windows.size(0) / B };
      }
      const attnWindows = this.attn.forward(h, this.attn_mask, g); // (B T nW, ws*ws, C)
      const y = attnWindows.view([BT, L, C]).indexSelect(1, inv); // (B T, H W, C) in image order, roll undone
      const x1 = x.add(y);
      return x1.add(this.mlp.forward(this.norm2.forward(x1))); // (B T, H W, C)
    });
  }

}

/**
 * Token index permutations: `perm[p]` is the image position (row-major) of window-order position p
 * after rolling by -shift (torch.roll: out[i] = in[i + shift]); `inv` undoes it.
 */
export function windowOrder(H: number, W: number, ws: number, s: number): [Tensor, Tensor] {
  const perm = new BigInt64Array(H * W);
  const inv = new BigInt64Array(H * W);
  let p = 0;
  for (let wh = 0; wh < H / ws; wh++) for (let ww = 0; ww < W / ws; ww++) {
    for (let i = 0; i < ws; i++) for (let j = 0; j < ws; j++, p++) {
      const src = ((wh * ws + i + s) % H) * W + ((ww * ws + j + s) % W);
      perm[p] = BigInt(src);
      inv[src] = BigInt(p);
    }
  }
  return [tensor(perm), tensor(inv)];
}
