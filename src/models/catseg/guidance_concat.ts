// CAT-Seg's guided q/k inputs: nn.Linear(C + Cg, A) applied to cat([x, guidance], -1), where the
// guidance is shared (the appearance guidance by all classes of an image, the text guidance by all
// pixels) and so arrives with size-1 dims that are broadcast here, as the reference's repeat() does.
//
// We tried the cheaper split x W_x^T + (g W_g^T + b), computing g's half once: forward values
// agreed to 1e-6, but on catseg_head case iii the conv1 weight gradient moved 4.7e-4 (relative L2)
// away from an fp64 run, against 3e-5 for the reference's fp32 and for this concatenation, at no
// measurable speed gain. So the concatenation stays.
import { check, fmtShape } from '../../errors.js';
import { cat, type Tensor } from '../../tensor/index.js';

/** cat([x, g], -1) with g's leading dims broadcast to x's: x (..., C), g (..., Cg) -> (..., C + Cg). */
export function concatGuidance(x: Tensor, g: Tensor): Tensor {
  check(x.rank === g.rank && x.shape.slice(0, -1).every((d, i) => g.size(i) === d || g.size(i) === 1), 'AHS_ERR_SHAPE',
    () => `concatGuidance: guidance ${fmtShape(g.shape)} does not broadcast to the tokens ${fmtShape(x.shape)}`);
  return cat([x, g.expand([...x.shape.slice(0, -1), g.size(-1)])], -1);
}
