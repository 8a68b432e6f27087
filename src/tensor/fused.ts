// When the addon's fused CPU kernels (native/src/ops: ahs::attention, ahs::batched_matmul,
// ahs::linear) and other inference-only fast paths (Conv2d's tap planes) may run in place of
// their composite ATen forms. They are CPU-only, so the composite form runs on other devices and
// for dtypes the kernels do not take. Most are forward-only: for them the composite form also runs
// whenever autograd records a graph through any input. ahs::attention has its own backward
// (native/src/ops/attention_backward.cc), so its caller asks with `differentiable: true`.
// AHS_SEG_FUSED_KERNELS=0 starts with them all off (for comparisons, and the gradient tests'
// reference).
import { isGradEnabled } from './autograd.js';
import type { Tensor } from './tensor.js';

let enabled = process.env.AHS_SEG_FUSED_KERNELS !== '0';

/** Turns the fused CPU kernels on or off; returns the previous setting. */
export function setFusedKernels(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/**
 * True when a fused kernel may compute this op: fused kernels on, inputs on the CPU, float32/64,
 * and no graph to record, unless the kernel is `differentiable` (has its own backward).
 */
export function canFuse(inputs: (Tensor | null | undefined)[], opts: { differentiable?: boolean } = {}): boolean {
  if (!enabled) return false;
  const first = inputs.find((t): t is Tensor => !!t);
  if (!first || first.device !== 'cpu' || (first.dtype !== 'float32' && first.dtype !== 'float64')) return false;
  return opts.differentiable === true || !(isGradEnabled() && inputs.some((t) => t?.requiresGrad));
}
