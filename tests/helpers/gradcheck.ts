// Finite-difference gradient checking in float64: central differences on a weighted sum of the
// op's outputs, compared with the gradients autograd computes through the same op.
import assert from 'node:assert/strict';
import { noGrad, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { assertClose, jsRandom } from './assert_close.js';

export interface GradcheckOptions {
  /** Central-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance between autograd and finite differences (default 1e-6). */
  atol?: number;
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Seed of the fixed random output weights (default 1). */
  seed?: number;
}

/**
 * Checks d/dx of L = sum(w * fn(inputs)) for every input with requiresGrad (must be float64),
 * where w are fixed pseudo-random weights, so that gradients that vanish under a plain sum
 * (softmax, normalisations) are still exercised. Inputs without requiresGrad (indices, masks,
 * targets) are passed through unchanged. Everything it creates is disposed before it returns.
 * A failure names the input and the worst element.
 */
export function gradcheck(name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const checked = inputs.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
  assert.ok(checked.length > 0, `${name}: no input requires grad`);
  for (const i of checked) assert.equal(inputs[i]!.dtype, 'float64', `${name}: gradcheck input ${i} must be float64`);
  tidy(() => {
    // Analytic gradients through fresh leaves.
    const leaves = inputs.map((t, i) => (checked.includes(i) ? t.detach().clone().requiresGrad_(true) : t));
    const out = fn(...leaves);
    assert.ok(out.requiresGrad, `${name}: output does not require grad (graph not recorded)`);
    const w = tensor(jsRandom(out.numel, opts.seed ?? 1, 0.5, 1.5).map((v, k) => (k % 2 ? v : -v)), { dtype: 'float64', shape: out.shape });
    const loss = out.toDType('float64').mul(w).sum();
    loss.backward();
    const f = (i: number, vals: number[]): number => tidy(() => noGrad(() => {
      const xs = inputs.map((t, k) => (k === i ? tensor(vals, { dtype: 'float64', shape: t.shape }) : t));
      return fn(...xs).toDType('float64').mul(w).sum().item();
    }));
    for (const i of checked) {
      const g = leaves[i]!.grad;
      const analytic = g === null ? new Array<number>(inputs[i]!.numel).fill(0) : g.toArray();
      const base = inputs[i]!.toArray();
      const numeric = base.map((v, j) => {
        const plus = base.slice();
        plus[j] = v + eps;
        const minus = base.slice();
        minus[j] = v - eps;
        return (f(i, plus) - f(i, minus)) / (2 * eps);
      });
      // Guard against a vacuous check: the numeric gradient must not be identically zero.
      assert.ok(numeric.some((v) => Math.abs(v) > 1e-8), `${name}: numeric gradient of input ${i} is all zero (test would be vacuous)`);
      assertClose(analytic, numeric, atol, rtol, `${name}: d/d input ${i}`);
    }
  });
}

/** A float64 leaf with requiresGrad from deterministic JS random values. */
export function leaf(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(jsRandom(n, seed, lo, hi), { dtype: 'float64', shape }).requiresGrad_(true);
}

/** A float64 constant (no grad) from deterministic JS random values. */
export function constant(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(jsRandom(n, seed, lo, hi), { dtype: 'float64', shape });
}
