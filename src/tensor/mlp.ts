// The transformer MLP fc2(act(fc1(x))). Composed of ATen ops, autograd keeps fc1's output and the
// activated copy (QuickGELU: and its sigmoid) for backward; the fused kernel
// (native/src/ops/mlp.cc) keeps x and fc1's output only and recomputes the activation in
// backward, which is most of the activation memory that CAT-Seg's Swin blocks and CLIP's text
// encoder hold in training. When it may run is decided in fused.ts (it has its own backward).
import { AhsError, fmtShape } from '../errors.js';
import { canFuse } from './fused.js';
import { quickGelu } from './functional.js';
import { linear } from './linear.js';
import { gelu } from './ops.gen.js';
import { aten } from './ops.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** 'gelu': exact (erf); 'gelu_tanh': the tanh approximation; 'quick_gelu': OpenAI CLIP's x sigmoid(1.702 x). */
export type MlpActivation = 'gelu' | 'gelu_tanh' | 'quick_gelu';

export interface MlpWeights {
  fc1: { weight: Tensor; bias: Tensor | null };
  fc2: { weight: Tensor; bias: Tensor | null };
}

function activate(h: Tensor, act: MlpActivation): Tensor {
  if (act === 'quick_gelu') return quickGelu(h);
  return gelu(h, act === 'gelu_tanh' ? 'tanh' : 'none');
}

/** x [..., D] -> [..., O] through fc1 [H, D], the activation and fc2 [O, H]. */
export function mlp(x: Tensor, { fc1, fc2 }: MlpWeights, act: MlpActivation): Tensor {
  if (x.rank < 1 || x.size(-1) !== fc1.weight.size(1) || fc2.weight.size(1) !== fc1.weight.size(0)) {
    throw new AhsError('AHS_ERR_SHAPE', `mlp: input ${fmtShape(x.shape)} does not fit fc1 ${fmtShape(fc1.weight.shape)} and fc2 ${fmtShape(fc2.weight.shape)} (want [..., D], [H, D], [O, H])`);
  }
  if (canFuse([x, fc1.weight, fc1.bias, fc2.weight, fc2.bias], { differentiable: true })) {
    return aten('ahs::mlp').t([x, fc1.weight, fc1.bias, fc2.weight, fc2.bias, act]);
  }
  return tidy(() => linear(activate(linear(x, fc1.weight, fc1.bias), act), fc2.weight, fc2.bias));
}
