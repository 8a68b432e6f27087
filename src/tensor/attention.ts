// Softmax attention: the composite form any device can run, and the fused CPU kernel
// (native/src/ops/attention.cc) that inference and training use. The fused kernel keeps each
// (batch, head) score matrix in cache and runs the small GEMMs of many heads side by side; under
// autograd it saves only q, k, v, mask, output and a log-sum-exp per row, and its backward
// (attention_backward.cc) recomputes the probabilities, where the composite form keeps the
// [B, H, L, S] scores and probabilities alive for backward. When it may run is decided in fused.ts;
// a mask that requires grad takes the composite form (the kernel has no mask gradient).
import { AhsError, fmtShape } from '../errors.js';
import { isGradEnabled } from './autograd.js';
import { canFuse } from './fused.js';
import { aten } from './ops.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** Softmax attention on [.., L, D] queries, keys, values with an optional additive mask. */
export function attention(q: Tensor, k: Tensor, v: Tensor, mask?: Tensor | null, scale?: number): Tensor {
  const d = q.size(-1);
  const s = scale ?? 1 / Math.sqrt(d);
  const qs = q.mul(s);
  const kt = k.transpose(-2, -1);
  let logits = qs.matmul(kt);
  qs.dispose(); kt.dispose();
  if (mask) { const m = logits.add(mask); logits.dispose(); logits = m; }
  const p = logits.softmax(-1);
  logits.dispose();
  const out = p.matmul(v);
  p.dispose();
  return out;
}

/**
 * Multi-head attention with the heads merged in the output: q [B, H, L, D], k [B, H, S, D],
 * v [B, H, S, Dv] (any strides, e.g. permuted views of a projection) and an optional additive
 * mask [M, L, S] that batch item b reads as mask[b % M] (M = 1: one mask for all; Swin: one per
 * window, the window index running fastest in b) -> [B, L, H * Dv], the layout an output
 * projection reads. `scale` defaults to 1/sqrt(D).
 */
export function multiHeadAttention(q: Tensor, k: Tensor, v: Tensor, opts: { mask?: Tensor | null; scale?: number } = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new AhsError('AHS_ERR_SHAPE', `multiHeadAttention: q, k, v must be [B, H, L, D], [B, H, S, D], [B, H, S, Dv]; got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const [B, H, L, D] = q.shape as [number, number, number, number];
  const S = k.size(2);
  const mask = opts.mask ?? null;
  if (mask && (mask.rank !== 3 || mask.size(1) !== L || mask.size(2) !== S || B % mask.size(0) !== 0)) {
    throw new AhsError('AHS_ERR_SHAPE', `multiHeadAttention: mask must be [M, ${L}, ${S}] with M dividing ${B}, got ${fmtShape(mask.shape)}`);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  if (canFuse([q, k, v, mask], { differentiable: true }) && !(mask?.requiresGrad && isGradEnabled())) {
    return tidy(() => aten('ahs::attention').t([q, k, v, mask, scale]).view([B, L, -1]));
  }
  return tidy(() => {
    // Batch item b = (b / M, b % M): viewed so, mask[b % M] broadcasts over the rest.
    const M = mask?.size(0) ?? 1;
    const byWindow = (t: Tensor) => t.view([B / M, M, ...t.shape.slice(1)]);
    const out = attention(byWindow(q), byWindow(k), byWindow(v), mask ? mask.view([1, M, 1, L, S]) : null, scale); // (B/M, M, H, L, Dv)
    return out.view([B, H, L, -1]).transpose(1, 2).reshape([B, L, -1]);
  });
}
