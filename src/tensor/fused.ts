// When the addon's fused CPU kernels (native/src/ops: ahs::attention, ahs::batched_matmul,
// ahs::linear) and other inference-only fast paths (Conv2d's tap planes) may run in place of
// their composite ATen forms. They are forward-only and CPU-only, so the composite form
// runs whenever autograd records a graph through any input, on other devices, and for dtypes the
// kernels do not take. AHS_SEG_FUSED_KERNELS=0 starts with them off (for comparisons).
import { isGradEnabled } from './autograd.js';
import type { Tensor } from './tensor.js';

let enabled = process.env.AHS_SEG_FUSED_KERNELS !== '0';

/** Turns the fused CPU kernels on or off; returns the previous setting. */
export function setFusedKernels(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** True when a fused kernel may compute this forward: inputs on the CPU, float32/64, no graph to record. */
export function canFuse(inputs: (Tensor | null | undefined)[]): boolean {
  if (!enabled) return false;
  const first = inputs.find((t): t is Tensor => !!t);
  if (!first || first.device !== 'cpu' || (first.dtype !== 'float32' && first.dtype !== 'float64')) return false;
  return !(isGradEnabled() && inputs.some((t) => t?.requiresGrad));
}
