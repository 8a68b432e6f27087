// The fused attention kernel under autograd (native/src/ops/attention.cc: AttentionFn, and
// attention_backward.cc): float64 gradients against finite differences on the strided views the
// callers pass, float32 gradients against the composite form (setFusedKernels(false)) at CAT-Seg's
// Swin window shape and a CLIP-like shape, no leaked tensors, and the errors for what the kernel
// does not differentiate.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aten, enableGrad, liveTensorCount, multiHeadAttention, profileOps, setFusedKernels, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { jsRandom, noLeak } from '../../helpers/assert_close.js';
import { gradcheck, leaf } from '../../helpers/gradcheck.js';

/** Runs fn with the fused kernels on (or off), restoring the previous setting. */
function withFused<T>(on: boolean, fn: () => T): T {
  const prev = setFusedKernels(on);
  try { return fn(); } finally { setFusedKernels(prev); }
}

/** CLIP's layout: one projection [B, L, 3, H, D] whose permuted slices are q, k, v [B, H, L, D]. */
const clipHeads = (qkv: Tensor) => qkv.permute([2, 0, 3, 1, 4]).unbind(0) as [Tensor, Tensor, Tensor];
/** Swin's layout: q and k halves of one [Bw, N, 2 H hd] GEMM, v from its own [Bw, N, H hd]. */
const swinHeads = (qk: Tensor, v: Tensor, H: number): [Tensor, Tensor, Tensor] => {
  const [Bw, N, C2] = qk.shape as [number, number, number];
  const heads = (t: Tensor) => t.reshape([Bw, N, H, -1]).permute([0, 2, 1, 3]);
  return [heads(qk.narrow(2, 0, C2 / 2)), heads(qk.narrow(2, C2 / 2, C2 / 2)), heads(v)];
};
/** Per-window mask [M, L, S] with Swin's -100 entries among ordinary values. */
const windowMask = (M: number, L: number, S: number, seed: number, dtype: 'float32' | 'float64' = 'float64') =>
  tensor(jsRandom(M * L * S, seed, -2, 2).map((x, i) => (i % 3 === 0 ? -100 : x)), { shape: [M, L, S], dtype });

describe('fused attention: gradients', () => {
  it('runs the fused op under autograd, and the composite form with fused kernels off', () => noLeak(() => {
    // If this failed, multiHeadAttention would still refuse the fused kernel whenever a graph is
    // recorded (training stays on the slow, memory-hungry composite), or setFusedKernels(false)
    // would no longer give the composite reference the other tests compare against.
    const [q, k, v] = clipHeads(leaf([2, 4, 3, 2, 3], 1));
    for (const on of [true, false]) {
      const { rows } = withFused(on, () => profileOps(() => enableGrad(() => multiHeadAttention(q, k, v))));
      assert.equal(rows.some((r) => r.key === 'ahs::attention'), on, `fused=${on}: ${rows.map((r) => r.key).join(', ')}`);
    }
  }));

  it('float64 gradcheck, CLIP layout (permuted slices of one qkv projection), with and without a mask', () => withFused(true, () => noLeak(() => {
    // A failure means a wrong dq, dk or dv formula, a wrong stride for a permuted input, or the
    // per-window mask (mask[b % M], with -100 entries) read differently in backward than forward.
    const B = 4, L = 5, H = 2, D = 3, M = 2;
    const mask = windowMask(M, L, L, 2);
    gradcheck('fused attention, masked', (qkv) => multiHeadAttention(...clipHeads(qkv), { mask, scale: 0.7 }), [leaf([B, L, 3, H, D], 3)]);
    gradcheck('fused attention, no mask', (qkv) => multiHeadAttention(...clipHeads(qkv)), [leaf([2, L, 3, H, D], 4, -1.5, 1.5)]);
  })));

  it('float64 gradcheck, Swin layout (narrowed q/k halves, separate v) and cross-attention with L != S, Dv != D', () => withFused(true, () => noLeak(() => {
    // A failure means the kernel mixes up L and S, or D and Dv, in one of the five GEMMs (the square
    // self-attention case above cannot tell them apart), or mishandles narrowed (non-dense) views.
    const H = 2;
    const mask = windowMask(2, 4, 4, 5);
    gradcheck('fused attention, Swin views', (qk, v) => multiHeadAttention(...swinHeads(qk, v, H), { mask }),
      [leaf([4, 4, 2 * H * 3], 6), leaf([4, 4, H * 3], 7)]);
    const heads = (t: Tensor) => t.permute([0, 2, 1, 3]);
    const crossMask = windowMask(1, 3, 5, 8);
    gradcheck('fused attention, L != S, Dv != D', (q, k, v) => multiHeadAttention(heads(q), heads(k), heads(v), { mask: crossMask, scale: 0.5 }),
      [leaf([2, 3, H, 4], 9), leaf([2, 5, H, 4], 10), leaf([2, 5, H, 2], 11)]);
  })));

  // float32 fused vs composite at the shapes that matter; a failure means the float32 fast path
  // (oneDNN's sgemm, denormal flushing, the log-sum-exp recomputation) drifts from the composite
  // autograd graph beyond rounding, which the float64 checks above would not see.
  const f32Cases = [
    { name: "CAT-Seg's Swin windows (B=8, H=4, L=S=144, D=32, -100 mask over 4 windows)", B: 8, H: 4, N: 144, D: 32, M: 4 },
    { name: 'a CLIP-like shape (B=1, H=2, L=S=577, D=64, no mask)', B: 1, H: 2, N: 577, D: 64, M: 0 },
  ];
  for (const c of f32Cases) {
    it(`float32 dq, dk, dv match the composite form within 1e-5 relative: ${c.name}`, () => noLeak(() => {
      const { B, H, N, D, M } = c;
      const f32 = (shape: number[], seed: number, lo = -1.5, hi = 1.5) => tensor(jsRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), { shape });
      const qk = f32([B, N, 2 * H * D], 20);
      const vIn = f32([B, N, H * D], 21);
      const w = f32([B, N, H * D], 22, 0.5, 1.5);
      const mask = M ? tensor(jsRandom(M * N * N, 23, 0, 1).map((x) => (x < 0.3 ? -100 : 0)), { shape: [M, N, N] }) : null;
      const grads = (fused: boolean) => withFused(fused, () => tidy(() => {
        const a = qk.detach().requiresGrad_(true);
        const b = vIn.detach().requiresGrad_(true);
        const out = enableGrad(() => multiHeadAttention(...swinHeads(a, b, H), { mask }));
        enableGrad(() => out.mul(w).sum().backward());
        return [a.grad!.toArray(), b.grad!.toArray()];
      }));
      const [fq, fv] = grads(true);
      const [cq, cv] = grads(false);
      // dq, dk (the two halves of qk's gradient) and dv, each relative to its own largest entry.
      const half = (g: number[], part: number) => g.filter((_, i) => Math.floor((i % (2 * H * D)) / (H * D)) === part);
      for (const [name, x, y] of [['dq', half(fq!, 0), half(cq!, 0)], ['dk', half(fq!, 1), half(cq!, 1)], ['dv', fv!, cv!]] as const) {
        const scale = y.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
        assert.ok(scale > 1e-3, `${name} is (nearly) zero: vacuous comparison`);
        const worst = x.reduce((m, e, i) => Math.max(m, Math.abs(e - y[i]!)), 0);
        assert.ok(worst <= 1e-5 * scale, `${name}: fused vs composite differ by ${worst.toExponential(2)} (scale ${scale.toExponential(2)})`);
      }
    }));
  }

  it('forward + backward inside tidy leaves no tensor alive, fused and composite', () => {
    // A failure means the autograd node or the backward kernel holds on to a JS-visible tensor
    // (saved q, k, v, out or lse wrapped and never disposed), which would grow every training step.
    for (const fused of [true, false]) {
      const before = liveTensorCount();
      withFused(fused, () => tidy(() => {
        const qkv = leaf([2, 6, 3, 2, 4], 30);
        const out = enableGrad(() => multiHeadAttention(...clipHeads(qkv), { mask: windowMask(2, 6, 6, 31) }));
        enableGrad(() => out.pow(2).sum().backward());
        assert.ok(qkv.grad && qkv.grad.abs().sum().item() > 0, 'no gradient reached the projection');
      }));
      assert.equal(liveTensorCount(), before, `fused=${fused}: live tensor count changed`);
    }
  });

  it('a mask that requires grad: the op refuses it clearly; multiHeadAttention takes the composite form', () => withFused(true, () => noLeak(() => {
    // A failure of the first assertion means the fused op silently returns no mask gradient (a
    // learnable bias in the mask would not train); of the second, that multiHeadAttention sends such
    // a mask to the fused op instead of the composite form, which does differentiate the mask.
    const [q, k, v] = clipHeads(leaf([2, 3, 3, 1, 2], 40));
    const mask = leaf([1, 3, 3], 41);
    assert.throws(() => enableGrad(() => aten('ahs::attention').t([q, k, v, mask, 0.5])),
      /ahs::attention: the mask requires grad, but the fused kernel computes no gradient for the mask/);
    const out = enableGrad(() => multiHeadAttention(q, k, v, { mask }));
    enableGrad(() => out.sum().backward());
    assert.ok(mask.grad, 'the mask got no gradient');
    gradcheck('mask gradient via the composite form', (m) => multiHeadAttention(q.detach(), k.detach(), v.detach(), { mask: m }), [mask]);
  })));
});
