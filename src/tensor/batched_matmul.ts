// a [..., M, K] @ b [..., K, N] with identical batch dims (no broadcasting). On the CPU without a
// graph to record, the fused kernel (native/src/ops/batched_matmul.cc) runs the items in parallel,
// one single-threaded GEMM each: for many small products that is several times ATen's bmm, which
// splits each product over the threads in turn. Otherwise it is matmul.
import { AhsError, fmtShape } from '../errors.js';
import { canFuse } from './fused.js';
import { aten } from './ops.js';
import type { Tensor } from './tensor.js';

export function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  const r = a.rank;
  if (r < 3 || b.rank !== r || a.shape.slice(0, -2).some((d, i) => b.size(i) !== d) || a.size(-1) !== b.size(-2)) {
    throw new AhsError('AHS_ERR_SHAPE', `batchedMatmul: expected [..., M, K] @ [..., K, N] with the same batch dims, got ${fmtShape(a.shape)} @ ${fmtShape(b.shape)}`);
  }
  if (canFuse([a, b]) && a.dtype === b.dtype) return aten('ahs::batched_matmul').t([a, b]);
  return a.matmul(b);
}
