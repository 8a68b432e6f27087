// linear(cat([x, g], -1), w, b) where the guidance g broadcasts to x's leading dims (size-1 dims
// are repeated, as CAT-Seg's repeat() does). Composed of ATen ops, autograd keeps the (C + Cg)-wide
// concatenation for the weight gradient; the fused kernel (native/src/ops/guided_linear.cc) keeps
// x and g and rebuilds it in backward, with the same GEMMs on the same operands. When it may run
// is decided in fused.ts (it has its own backward).
import { AhsError, fmtShape } from '../errors.js';
import { canFuse } from './fused.js';
import { linear } from './linear.js';
import { cat } from './ops.gen.js';
import { aten } from './ops.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** x (..., C), g (..., Cg) broadcasting to x's leading dims, weight [A, C + Cg] -> (..., A). */
export function guidedLinear(x: Tensor, g: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const broadcasts = x.rank === g.rank && x.shape.slice(0, -1).every((d, i) => g.size(i) === d || g.size(i) === 1);
  if (!broadcasts || weight.rank !== 2 || weight.size(1) !== x.size(-1) + g.size(-1)) {
    throw new AhsError('AHS_ERR_SHAPE', `guidedLinear: tokens ${fmtShape(x.shape)} with guidance ${fmtShape(g.shape)} and weight ${fmtShape(weight.shape)} (want (..., C), guidance broadcasting to (..., Cg), weight [A, C + Cg])`);
  }
  if (canFuse([x, g, weight, bias], { differentiable: true })) return aten('ahs::guided_linear').t([x, g, weight, bias]);
  return tidy(() => linear(cat([x, g.expand([...x.shape.slice(0, -1), g.size(-1)])], -1), weight, bias));
}
