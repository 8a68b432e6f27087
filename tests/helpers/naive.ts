// Naive plain-JS reference implementations (flat row-major arrays) that tensor tests compare the
// engine against. They are written from the ops' mathematical definitions (and, for resizing,
// from PyTorch's documented coordinate conventions), deliberately without any cleverness.
import { numelOf, strides } from './assert_close.js';

/** C[b] = A[b] @ B[b] for A [batch, m, k], B [batch, k, n]. */
export function naiveBmm(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, m: number, k: number, n: number): number[] {
  const out = new Array<number>(batch * m * n).fill(0);
  for (let z = 0; z < batch; z++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += a[z * m * k + i * k + q]! * b[z * k * n + q * n + j]!;
        out[z * m * n + i * n + j] = s;
      }
  return out;
}

export interface Conv2dArgs { stride?: [number, number]; padding?: [number, number]; dilation?: [number, number]; groups?: number }

/** F.conv2d: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], bias [Cout] or null. */
export function naiveConv2d(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], bias: ArrayLike<number> | null, o: Conv2dArgs = {}): { data: number[]; shape: number[] } {
  const [N, Cin, H, W] = xs as [number, number, number, number];
  const [Cout, Cg, KH, KW] = ws as [number, number, number, number];
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const G = o.groups ?? 1;
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  const outPerG = Cout / G;
  const out = new Array<number>(N * Cout * OH * OW).fill(0);
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < Cout; oc++) {
      const g = Math.floor(oc / outPerG);
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = bias ? bias[oc]! : 0;
          for (let c = 0; c < Cg; c++) {
            const ic = g * Cg + c;
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * sh - ph + kh * dh;
                const iw = ow * sw - pw + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x[((n * Cin + ic) * H + ih) * W + iw]! * w[((oc * Cg + c) * KH + kh) * KW + kw]!;
              }
          }
          out[((n * Cout + oc) * OH + oh) * OW + ow] = s;
        }
    }
  return { data: out, shape: [N, Cout, OH, OW] };
}

/**
 * F.conv_transpose2d by scattering: every input pixel adds w * x to the output window it maps
 * to. x [N, Cin, H, W], w [Cin, Cout/groups, KH, KW].
 */
export function naiveConvTranspose2d(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], bias: ArrayLike<number> | null,
  o: { stride?: [number, number]; padding?: [number, number]; outputPadding?: [number, number]; dilation?: [number, number]; groups?: number } = {}): { data: number[]; shape: number[] } {
  const [N, Cin, H, W] = xs as [number, number, number, number];
  const [, Cog, KH, KW] = ws as [number, number, number, number];
  const [sh, sw] = o.stride ?? [1, 1];
  const [ph, pw] = o.padding ?? [0, 0];
  const [oph, opw] = o.outputPadding ?? [0, 0];
  const [dh, dw] = o.dilation ?? [1, 1];
  const G = o.groups ?? 1;
  const Cout = Cog * G;
  const inPerG = Cin / G;
  const OH = (H - 1) * sh - 2 * ph + dh * (KH - 1) + oph + 1;
  const OW = (W - 1) * sw - 2 * pw + dw * (KW - 1) + opw + 1;
  const out = new Array<number>(N * Cout * OH * OW).fill(0);
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < Cout; oc++)
      for (let i = 0; i < OH * OW; i++) out[(n * Cout + oc) * OH * OW + i] = bias ? bias[oc]! : 0;
  for (let n = 0; n < N; n++)
    for (let ic = 0; ic < Cin; ic++) {
      const g = Math.floor(ic / inPerG);
      for (let ih = 0; ih < H; ih++)
        for (let iw = 0; iw < W; iw++) {
          const v = x[((n * Cin + ic) * H + ih) * W + iw]!;
          for (let c = 0; c < Cog; c++) {
            const oc = g * Cog + c;
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const oh = ih * sh - ph + kh * dh;
                const ow = iw * sw - pw + kw * dw;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                out[((n * Cout + oc) * OH + oh) * OW + ow]! += v * w[((ic * Cog + c) * KH + kh) * KW + kw]!;
              }
          }
        }
    }
  return { data: out, shape: [N, Cout, OH, OW] };
}

/** Applies a separable 1-D resampling along H then W of [P, H, W] planes. */
function resample2d(x: ArrayLike<number>, P: number, H: number, W: number, OH: number, OW: number,
  taps: (dst: number, inSize: number, outSize: number) => [number, number][]): number[] {
  const rows = Array.from({ length: OH }, (_, oh) => taps(oh, H, OH));
  const cols = Array.from({ length: OW }, (_, ow) => taps(ow, W, OW));
  const out = new Array<number>(P * OH * OW).fill(0);
  for (let p = 0; p < P; p++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let s = 0;
        for (const [ih, wh] of rows[oh]!) for (const [iw, ww] of cols[ow]!) s += wh * ww * x[(p * H + ih) * W + iw]!;
        out[(p * OH + oh) * OW + ow] = s;
      }
  return out;
}

/** Bilinear taps (PyTorch's area_pixel_compute_source_index; negative sources clamp to 0). */
export function bilinearTaps(alignCorners: boolean) {
  return (dst: number, inSize: number, outSize: number): [number, number][] => {
    let src: number;
    if (alignCorners) src = outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
    else src = Math.max(((dst + 0.5) * inSize) / outSize - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    const l1 = src - i0;
    return [[i0, 1 - l1], [i1, l1]];
  };
}

/** Keys' cubic kernel with A = -0.75 (PyTorch's upsample_bicubic2d), reads clamped to the edge. */
export function bicubicTaps(alignCorners: boolean, A = -0.75) {
  const c1 = (t: number) => ((A + 2) * t - (A + 3)) * t * t + 1; // |t| <= 1
  const c2 = (t: number) => ((A * t - 5 * A) * t + 8 * A) * t - 4 * A; // 1 < |t| < 2
  return (dst: number, inSize: number, outSize: number): [number, number][] => {
    // No clamping of the source coordinate for cubic (cubic = true in PyTorch).
    const src = alignCorners ? (outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0) : ((dst + 0.5) * inSize) / outSize - 0.5;
    const i = Math.floor(src);
    const t = src - i;
    const w = [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
    const clampI = (k: number) => Math.min(Math.max(k, 0), inSize - 1);
    return [[clampI(i - 1), w[0]!], [clampI(i), w[1]!], [clampI(i + 1), w[2]!], [clampI(i + 2), w[3]!]];
  };
}

/** Legacy 'nearest': src = floor(dst * in / out). */
export function nearestTaps(dst: number, inSize: number, outSize: number): [number, number][] {
  return [[Math.min(Math.floor((dst * inSize) / outSize), inSize - 1), 1]];
}

export function naiveResize(x: ArrayLike<number>, shape: number[], size: [number, number], taps: (dst: number, inSize: number, outSize: number) => [number, number][]): number[] {
  const [N, C, H, W] = shape as [number, number, number, number];
  return resample2d(x, N * C, H, W, size[0], size[1], taps);
}

/** Normalises groups of `groupSize` consecutive values (biased variance), then affine per `affineIndex`. */
function normalizeGroups(x: ArrayLike<number>, groupSize: number, eps: number, affine: (flatIndex: number) => [number, number]): number[] {
  const out = new Array<number>(x.length);
  for (let g = 0; g < x.length / groupSize; g++) {
    let mean = 0;
    for (let i = 0; i < groupSize; i++) mean += x[g * groupSize + i]!;
    mean /= groupSize;
    let v = 0;
    for (let i = 0; i < groupSize; i++) v += (x[g * groupSize + i]! - mean) ** 2;
    v /= groupSize;
    for (let i = 0; i < groupSize; i++) {
      const idx = g * groupSize + i;
      const [wt, b] = affine(idx);
      out[idx] = ((x[idx]! - mean) / Math.sqrt(v + eps)) * wt + b;
    }
  }
  return out;
}

/** F.layer_norm over the trailing `normSize` elements. */
export function naiveLayerNorm(x: ArrayLike<number>, normSize: number, w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps = 1e-5): number[] {
  return normalizeGroups(x, normSize, eps, (i) => [w ? w[i % normSize]! : 1, b ? b[i % normSize]! : 0]);
}

/** F.group_norm on [N, C, *spatial] with per-channel affine. */
export function naiveGroupNorm(x: ArrayLike<number>, shape: number[], groups: number, w: ArrayLike<number> | null, b: ArrayLike<number> | null, eps = 1e-5): number[] {
  const C = shape[1]!;
  const spatial = numelOf(shape.slice(2));
  const groupSize = (C / groups) * spatial;
  return normalizeGroups(x, groupSize, eps, (i) => {
    const c = Math.floor(i / spatial) % C;
    return [w ? w[c]! : 1, b ? b[c]! : 0];
  });
}

/** Softmax (or log-softmax) along `dim` of a row-major array. */
export function naiveSoftmax(x: ArrayLike<number>, shape: number[], dim: number, log = false): number[] {
  const st = strides(shape);
  const n = shape[dim]!;
  const s = st[dim]!;
  const out = new Array<number>(x.length);
  for (let base = 0; base < x.length; base++) {
    if (Math.floor(base / s) % n !== 0) continue; // visit each line once, from its first element
    let m = -Infinity;
    for (let i = 0; i < n; i++) m = Math.max(m, x[base + i * s]!);
    let z = 0;
    for (let i = 0; i < n; i++) z += Math.exp(x[base + i * s]! - m);
    for (let i = 0; i < n; i++) {
      const v = x[base + i * s]! - m;
      out[base + i * s] = log ? v - Math.log(z) : Math.exp(v) / z;
    }
  }
  return out;
}

/** F.unfold (im2col): [N, C, H, W] -> [N, C*KH*KW, L]. */
export function naiveIm2col(x: ArrayLike<number>, shape: number[], k: [number, number], d: [number, number], p: [number, number], s: [number, number]): { data: number[]; shape: number[] } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * p[0] - d[0] * (k[0] - 1) - 1) / s[0]) + 1;
  const OW = Math.floor((W + 2 * p[1] - d[1] * (k[1] - 1) - 1) / s[1]) + 1;
  const rows = C * k[0] * k[1];
  const L = OH * OW;
  const out = new Array<number>(N * rows * L).fill(0);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let kh = 0; kh < k[0]; kh++)
        for (let kw = 0; kw < k[1]; kw++) {
          const r = (c * k[0] + kh) * k[1] + kw;
          for (let oh = 0; oh < OH; oh++)
            for (let ow = 0; ow < OW; ow++) {
              const ih = oh * s[0] - p[0] + kh * d[0];
              const iw = ow * s[1] - p[1] + kw * d[1];
              const v = ih < 0 || ih >= H || iw < 0 || iw >= W ? 0 : x[((n * C + c) * H + ih) * W + iw]!;
              out[(n * rows + r) * L + oh * OW + ow] = v;
            }
        }
  return { data: out, shape: [N, rows, L] };
}

/** F.avg_pool2d with zero padding; countIncludePad decides the divisor at the border. */
export function naiveAvgPool2d(x: ArrayLike<number>, shape: number[], k: number, s: number, p: number, countIncludePad: boolean): { data: number[]; shape: number[] } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * p - k) / s) + 1;
  const OW = Math.floor((W + 2 * p - k) / s) + 1;
  const out: number[] = [];
  for (let pl = 0; pl < N * C; pl++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let sum = 0;
        let cnt = 0;
        let cntPad = 0;
        for (let kh = 0; kh < k; kh++)
          for (let kw = 0; kw < k; kw++) {
            const ih = oh * s - p + kh;
            const iw = ow * s - p + kw;
            if (ih >= -p && ih < H + p && iw >= -p && iw < W + p) cntPad++;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            sum += x[(pl * H + ih) * W + iw]!;
            cnt++;
          }
        out.push(sum / (countIncludePad ? cntPad : cnt));
      }
  return { data: out, shape: [N, C, OH, OW] };
}
