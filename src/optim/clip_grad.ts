// Full-model gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ (detectron2's
// CLIP_GRADIENTS with CLIP_TYPE full_model).
import { noGrad, stack, type Tensor } from '../tensor/index.js';

/** Scales all gradients so that their joint norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: Tensor[], maxNorm: number, normType = 2): number {
  return noGrad(() => {
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return 0;
    const norms = grads.map((g) => g.norm(normType));
    const all = stack(norms);
    const totalT = normType === Infinity ? all.amax() : all.norm(normType);
    const total = totalT.item();
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    for (const t of [...norms, all, totalT, ...grads]) t.dispose();
    return total;
  });
}
