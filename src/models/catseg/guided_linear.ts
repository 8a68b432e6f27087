// The guided q/k projections of CAT-Seg: nn.Linear(C + Cg, A) applied to cat([x, guidance], -1).
// The guidance is shared (appearance guidance by all classes of an image, text guidance by all
// pixels), so the product is split: x W_x^T + (g W_g^T + b), with g's half computed once per image
// or class and broadcast. Same value as the concatenation up to float rounding, without building
// the (.., C + Cg) tensor or repeating the guidance half of the matmul for every copy.
import { check, fmtShape } from '../../errors.js';
import type { Linear } from '../../nn/index.js';
import { linear, tidy, type Tensor } from '../../tensor/index.js';

/**
 * lin.forward(cat([x, g], -1)) for x (..., C) and g (..., Cg) whose leading dims broadcast against
 * x's (size-1 or equal); g null means lin takes x alone.
 */
export function guidedLinear(lin: Linear, x: Tensor, g: Tensor | null): Tensor {
  if (!g) return lin.forward(x);
  const C = x.size(-1);
  check(C + g.size(-1) === lin.inFeatures, 'AHS_ERR_SHAPE',
    () => `guidedLinear: tokens ${fmtShape(x.shape)} and guidance ${fmtShape(g.shape)} do not add up to the layer's ${lin.inFeatures} inputs`);
  return tidy(() => {
    const wx = lin.weight.narrow(1, 0, C); // (A, C)
    const wg = lin.weight.narrow(1, C, lin.inFeatures - C); // (A, Cg)
    return linear(x, wx, null).add(linear(g, wg, lin.bias)); // (..., A)
  });
}
