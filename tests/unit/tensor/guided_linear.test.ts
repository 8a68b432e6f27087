// The fused guided projection (native/src/ops/guided_linear.cc: linear(cat([x, g broadcast]), w, b)
// keeping x and g, not the concatenation, for backward): float64 gradients against finite
// differences for the broadcasts CAT-Seg uses, float32 values and gradients against the composite
// form at a Swin q/k shape, and the memory it exists to save.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countFlops, enableGrad, guidedLinear, liveTensorCount, memoryStats, noGrad, profileOps, setFusedKernels, tensor, tidy, type Tensor } from '../../../src/tensor/index.js';
import { jsRandom, noLeak } from '../../helpers/assert_close.js';
import { constant, gradcheck, leaf } from '../../helpers/gradcheck.js';

function withFused<T>(on: boolean, fn: () => T): T {
  const prev = setFusedKernels(on);
  try { return fn(); } finally { setFusedKernels(prev); }
}
const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => tensor(jsRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), { shape });

describe('fused guided linear', () => {
  it('runs as one op under autograd, and as cat + linear with fused kernels off', () => noLeak(() => {
    // A failure means training would keep the concatenated tokens again, or the composite
    // reference of the other tests would silently be the fused op.
    const x = leaf([2, 3, 4], 1), g = leaf([1, 3, 2], 2), w = leaf([5, 6], 3);
    for (const on of [true, false]) {
      const { rows } = withFused(on, () => profileOps(() => enableGrad(() => guidedLinear(x, g, w, null))));
      assert.equal(rows.some((r) => r.key === 'ahs::guided_linear'), on, `fused=${on}: ${rows.map((r) => r.key).join(', ')}`);
    }
    assert.equal(withFused(true, () => countFlops(() => enableGrad(() => guidedLinear(x, g, w, null))).flops), 2 * 6 * 6 * 5);
  }));

  it('float64 gradcheck: Swin (guidance shared by the classes) and class attention (by the pixels) broadcasts', () => withFused(true, () => noLeak(() => {
    // A failure means the guidance gradient is not summed over the dims it was broadcast along, or
    // the x and g halves of the input gradient are swapped or offset.
    gradcheck('guided linear, (B, 1, L, Cg) guidance', (x, g, w, b) => guidedLinear(x, g, w, b),
      [leaf([2, 3, 4, 5], 10), leaf([2, 1, 4, 3], 11), leaf([6, 8], 12), leaf([6], 13)]);
    gradcheck('guided linear, (1, L, Cg) guidance, no bias', (x, g, w) => guidedLinear(x, g, w, null),
      [leaf([3, 4, 5], 14), leaf([1, 4, 2], 15), leaf([3, 7], 16)]);
  })));

  it('gradients only for what asks: frozen weight, guidance without grad', () => withFused(true, () => noLeak(() => {
    // A failure means the op returns gradients to inputs that did not ask (an error in autograd) or
    // drops one that did.
    const x = leaf([2, 3, 4], 20), g = constant([1, 3, 2], 21), w = constant([5, 6], 22), b = leaf([5], 23);
    enableGrad(() => guidedLinear(x, g, w, b).pow(2).sum().backward());
    assert.ok(x.grad && b.grad, 'x or the bias got no gradient');
    assert.equal(w.grad, null);
    assert.equal(g.grad, null);
  })));

  it('float32 values and gradients match cat + linear within 1e-5 relative at a Swin q/k shape', () => noLeak(() => {
    // A failure means the fused path computes other GEMMs than the composite graph (the split
    // x W_x + g W_g was rejected for moving gradients: src/models/catseg/guidance_concat.ts).
    const x = f32([1, 6, 576, 128], 30), g = f32([1, 1, 576, 128], 31), w = f32([256, 256], 32, -0.1, 0.1), b = f32([256], 33);
    const go = f32([1, 6, 576, 256], 34, 0.5, 1.5);
    const run = (fused: boolean) => withFused(fused, () => tidy(() => {
      const [xx, gg, ww, bb] = [x, g, w, b].map((t) => t.detach().requiresGrad_(true)) as [Tensor, Tensor, Tensor, Tensor];
      const y = enableGrad(() => guidedLinear(xx, gg, ww, bb));
      enableGrad(() => y.mul(go).sum().backward());
      return [y, xx.grad!, gg.grad!, ww.grad!, bb.grad!].map((t) => t.toArray() as number[]);
    }));
    const fused = run(true), comp = run(false);
    ['y', 'dx', 'dg', 'dW', 'db'].forEach((name, i) => {
      const ref = comp[i]!;
      const scale = ref.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
      const worst = fused[i]!.reduce((m, e, k) => Math.max(m, Math.abs(e - ref[k]!)), 0);
      assert.ok(scale > 1e-3 && worst <= 1e-5 * scale, `${name}: fused vs composite differ by ${worst.toExponential(2)} (scale ${scale.toExponential(2)})`);
    });
  }));

  it('keeps x and g for backward, not the concatenation', () => {
    // A failure means the fused op saves the (C + Cg)-wide copy of every token again.
    const x = f32([1, 16, 576, 64], 40), g = f32([1, 1, 576, 64], 41), w = f32([128, 128], 42, -0.1, 0.1);
    const catBytes = 16 * 576 * 128 * 4;
    const held = (fused: boolean) => withFused(fused, () => tidy(() => {
      const [xx, ww] = [x, w].map((t) => t.detach().requiresGrad_(true)) as [Tensor, Tensor];
      const live = () => { const s = memoryStats(); return s.allocatedBytes - s.cachedBytes; };
      const before = live();
      const y = enableGrad(() => guidedLinear(xx, g, ww, null));
      const kept = live() - before - y.numel * 4;
      noGrad(() => y.dispose());
      return kept;
    }));
    const fusedHeld = held(true), compHeld = held(false);
    assert.ok(fusedHeld < 0.2 * catBytes, `fused op holds ${(fusedHeld / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(compHeld >= 0.9 * catBytes, `composite holds ${(compHeld / 2 ** 20).toFixed(1)} MiB: the reference no longer saves the concatenation?`);
  });

  it('a guidance that does not broadcast is a clear error; nothing leaks', () => {
    const before = liveTensorCount();
    assert.throws(() => tidy(() => guidedLinear(f32([3, 4, 5], 50), f32([2, 4, 2], 51), f32([3, 7], 52), null)),
      /guidedLinear: tokens \[3,4,5\] with guidance \[2,4,2\]/);
    assert.equal(liveTensorCount(), before);
  });
});
