// input @ weight^T + bias. On the CPU without a graph to record this is ahs::linear
// (native/src/ops/linear.cc: oneDNN's sgemm where libtorch loaded it, else at::linear); otherwise
// aten::linear, whose backward autograd knows.
import { canFuse } from './fused.js';
import { aten } from './ops.js';
import type { Tensor } from './tensor.js';

export function linear(input: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const op = canFuse([input, weight, bias]) ? 'ahs::linear' : 'aten::linear';
  return aten(op).t([input, weight, bias ?? null]);
}
