// CAT-Seg's guided q/k inputs: nn.Linear(C + Cg, A) applied to cat([x, guidance], -1), where the
// guidance is shared (the appearance guidance by all classes of an image, the text guidance by all
// pixels) and so arrives with size-1 dims that are broadcast, as the reference's repeat() does.
// q and k are one GEMM (their weights concatenated); guidedLinear keeps no concatenated copy
// of the tokens for backward (src/tensor/guided_linear.ts).
//
// We tried the cheaper split x W_x^T + (g W_g^T + b), computing g's half once: forward values
// agreed to 1e-6, but on catseg_head case iii the conv1 weight gradient moved 4.7e-4 (relative L2)
// away from an fp64 run, against 3e-5 for the reference's fp32 and for this concatenation, at no
// measurable speed gain. So the concatenation stays.
import { AhsError } from '../../errors.js';
import type { Linear } from '../../nn/index.js';
import { cat, guidedLinear, tidy, type Tensor } from '../../tensor/index.js';

/** Each layer (in C + Cg -> A_i) applied to cat([x, g], -1): x (..., C), g (..., Cg) broadcasting to x. */
export function guidedProjections(layers: Linear[], x: Tensor, g: Tensor): Tensor[] {
  if (layers.some((l) => !l.bias) && layers.some((l) => l.bias)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'guidedProjections: layers must all have a bias or none');
  }
  return tidy(() => {
    const w = cat(layers.map((l) => l.weight), 0);
    const b = layers[0]!.bias ? cat(layers.map((l) => l.bias!), 0) : null;
    const y = guidedLinear(x, g, w, b);
    let start = 0;
    return layers.map((l) => {
      const part = y.narrow(-1, start, l.outFeatures);
      start += l.outFeatures;
      return part;
    });
  });
}
