// The fused transformer MLP (native/src/ops/mlp.cc: fc2(act(fc1 x)) saving x and fc1's output,
// the activation recomputed in backward): float64 gradients against finite differences for each
// activation, float32 values and gradients against the composite form at CAT-Seg's Swin MLP
// shape, only the gradients asked for, no leaks, and the memory it exists to save.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countFlops, enableGrad, liveTensorCount, memoryStats, mlp, noGrad, profileOps, setFusedKernels, tensor, tidy, type MlpActivation, type Tensor,
} from '../../../src/tensor/index.js';
import { jsRandom, noLeak } from '../../helpers/assert_close.js';
import { constant, gradcheck, leaf } from '../../helpers/gradcheck.js';

function withFused<T>(on: boolean, fn: () => T): T {
  const prev = setFusedKernels(on);
  try { return fn(); } finally { setFusedKernels(prev); }
}
const ACTS: MlpActivation[] = ['gelu', 'gelu_tanh', 'quick_gelu'];
const f32 = (shape: number[], seed: number, lo = -1, hi = 1) => tensor(jsRandom(shape.reduce((a, b) => a * b, 1), seed, lo, hi), { shape });
const worstRel = (x: number[], y: number[]) => {
  const scale = y.reduce((m, e) => Math.max(m, Math.abs(e)), 0);
  assert.ok(scale > 1e-4, 'reference is (nearly) zero: vacuous comparison');
  return x.reduce((m, e, i) => Math.max(m, Math.abs(e - y[i]!)), 0) / scale;
};

describe('fused mlp', () => {
  it('runs as one op under autograd, and as the composite form with fused kernels off', () => noLeak(() => {
    // A failure means training would keep the activated copy again (the composite graph), or the
    // gradient tests' composite reference would silently be the fused op too.
    const x = leaf([2, 3, 4], 1);
    const w = { fc1: { weight: leaf([8, 4], 2), bias: leaf([8], 3) }, fc2: { weight: leaf([4, 8], 4), bias: leaf([4], 5) } };
    for (const on of [true, false]) {
      const { rows } = withFused(on, () => profileOps(() => enableGrad(() => mlp(x, w, 'gelu'))));
      assert.equal(rows.some((r) => r.key === 'ahs::mlp'), on, `fused=${on}: ${rows.map((r) => r.key).join(', ')}`);
    }
    // The benches' GFLOP/s count it as the two GEMMs it is.
    assert.equal(withFused(true, () => countFlops(() => enableGrad(() => mlp(x, w, 'gelu'))).flops), 2 * 6 * (8 * 4 + 4 * 8));
  }));

  for (const act of ACTS) {
    it(`float64 gradcheck of x, both weights and both biases: ${act}`, () => withFused(true, () => noLeak(() => {
      // A failure means a wrong activation derivative (recomputed, not autograd's), a transposed
      // weight gradient, or a bias gradient summed over the wrong dim.
      gradcheck(`mlp ${act}`, (x, w1, b1, w2, b2) => mlp(x, { fc1: { weight: w1, bias: b1 }, fc2: { weight: w2, bias: b2 } }, act),
        [leaf([2, 3, 4], 10, -2, 2), leaf([6, 4], 11), leaf([6], 12), leaf([5, 6], 13), leaf([5], 14)]);
    })));
  }

  it('no biases, a non-contiguous input, and weights frozen: only the gradients asked for', () => withFused(true, () => noLeak(() => {
    // A failure means the op mishandles an absent bias or a strided input, or computes (and
    // returns) weight gradients for frozen layers, the common case in CLIP's frozen MLPs.
    const x = leaf([3, 2, 4], 20).transpose(0, 1);
    gradcheck('mlp without biases, strided x', (xx, w1, w2) => mlp(xx, { fc1: { weight: w1, bias: null }, fc2: { weight: w2, bias: null } }, 'quick_gelu'),
      [x, leaf([6, 4], 21), leaf([4, 6], 22)]);
    tidy(() => {
      const xi = leaf([5, 4], 23);
      const w1 = constant([6, 4], 24), w2 = constant([4, 6], 25);
      enableGrad(() => mlp(xi, { fc1: { weight: w1, bias: null }, fc2: { weight: w2, bias: null } }, 'gelu').sum().backward());
      assert.ok(xi.grad, 'x got no gradient');
      assert.equal(w1.grad, null);
      assert.equal(w2.grad, null);
    });
  })));

  for (const act of ACTS) {
    it(`float32 forward and gradients match the composite form within 1e-5 relative at a Swin MLP shape: ${act}`, () => noLeak(() => {
      // A failure means the fused forward (ahs::linear's oneDNN GEMMs, the activation's op order)
      // or its backward drifts from the composite autograd graph beyond rounding.
      const x = f32([4, 144, 128], 30), w1 = f32([512, 128], 31, -0.1, 0.1), b1 = f32([512], 32), w2 = f32([128, 512], 33, -0.05, 0.05), b2 = f32([128], 34);
      const g = f32([4, 144, 128], 35, 0.5, 1.5);
      const run = (fused: boolean) => withFused(fused, () => tidy(() => {
        const [xx, a, b, c, d] = [x, w1, b1, w2, b2].map((t) => t.detach().requiresGrad_(true)) as [Tensor, Tensor, Tensor, Tensor, Tensor];
        const y = enableGrad(() => mlp(xx, { fc1: { weight: a, bias: b }, fc2: { weight: c, bias: d } }, act));
        enableGrad(() => y.mul(g).sum().backward());
        return [y, xx.grad!, a.grad!, b.grad!, c.grad!, d.grad!].map((t) => t.toArray() as number[]);
      }));
      const fused = run(true), comp = run(false);
      ['y', 'dx', 'dW1', 'db1', 'dW2', 'db2'].forEach((name, i) => {
        const r = worstRel(fused[i]!, comp[i]!);
        assert.ok(r <= 1e-5, `${act} ${name}: fused vs composite differ by ${r.toExponential(2)} of the largest entry`);
      });
    }));
  }

  it('keeps less for backward than the composite graph: x and fc1 output only', () => {
    // A failure means the fused op saves the activated copy again (or more), so the memory the
    // aggregator's Swin blocks and CLIP's text MLPs hold in training is not reduced.
    const x = f32([64, 144, 64], 40), w1 = f32([256, 64], 41, -0.1, 0.1), w2 = f32([64, 256], 42, -0.1, 0.1);
    const hiddenBytes = 64 * 144 * 256 * 4;
    const held = (fused: boolean, act: MlpActivation) => withFused(fused, () => tidy(() => {
      // Trainable weights, as in the aggregator: fc2's weight gradient is what reads act(h).
      const [xx, a, c] = [x, w1, w2].map((t) => t.detach().requiresGrad_(true)) as [Tensor, Tensor, Tensor];
      const live = () => { const s = memoryStats(); return s.allocatedBytes - s.cachedBytes; };
      const before = live();
      const y = enableGrad(() => mlp(xx, { fc1: { weight: a, bias: null }, fc2: { weight: c, bias: null } }, act));
      const after = live() - before - y.numel * 4;
      noGrad(() => y.dispose());
      return after;
    }));
    for (const act of ['gelu', 'quick_gelu'] as const) {
      const fusedHeld = held(true, act), compHeld = held(false, act);
      assert.ok(fusedHeld <= 1.3 * hiddenBytes, `${act}: fused op holds ${(fusedHeld / 2 ** 20).toFixed(1)} MiB, more than one hidden tensor (${(hiddenBytes / 2 ** 20).toFixed(1)} MiB)`);
      assert.ok(compHeld >= fusedHeld + 0.9 * hiddenBytes, `${act}: composite ${(compHeld / 2 ** 20).toFixed(1)} MiB vs fused ${(fusedHeld / 2 ** 20).toFixed(1)} MiB: no saving`);
    }
  });

  it('forward + backward inside tidy leaves no tensor alive; a shape mismatch is a clear error', () => {
    const before = liveTensorCount();
    withFused(true, () => tidy(() => {
      const x = leaf([3, 4], 50);
      enableGrad(() => mlp(x, { fc1: { weight: leaf([6, 4], 51), bias: leaf([6], 52) }, fc2: { weight: leaf([4, 6], 53), bias: null } }, 'gelu').pow(2).sum().backward());
    }));
    assert.equal(liveTensorCount(), before);
    assert.throws(() => tidy(() => mlp(f32([3, 5], 54), { fc1: { weight: f32([6, 4], 55), bias: null }, fc2: { weight: f32([4, 6], 56), bias: null } }, 'gelu')),
      /mlp: input \[3,5\] does not fit fc1 \[6,4\]/);
  });
});
