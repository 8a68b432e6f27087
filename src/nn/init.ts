// Parameter initialisation as PyTorch's layers do it by default.
import { empty, noGrad, randnLike, tidy, where, type Tensor } from '../tensor/index.js';

/** U(-bound, bound) with bound = 1/sqrt(fan_in): kaiming_uniform(a=sqrt(5)) for weights and the
 * matching bias init of nn.Linear and nn.Conv2d. */
export function uniformFanIn(shape: number[], fanIn: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  const t = empty(shape);
  noGrad(() => t.uniform_(-bound, bound));
  return t;
}

export function normalInit(shape: number[], std: number, mean = 0): Tensor {
  const t = empty(shape);
  noGrad(() => t.normal_(mean, std));
  return t;
}

/** timm's trunc_normal_(t, mean, std, a=-2, b=2): N(mean, std^2) truncated to the ABSOLUTE
 * interval [a, b] (out-of-range samples are redrawn, not clamped onto the bounds). */
export function truncNormalInit(shape: number[], std: number, mean = 0, a = -2, b = 2): Tensor {
  const t = empty(shape);
  noGrad(() => tidy(() => {
    t.normal_(mean, std);
    for (let round = 0; round < 64; round++) {
      const out = t.lt(a).logicalOr(t.gt(b));
      if (!out.any().item()) return;
      t.copy_(where(out, randnLike(t).mul(std).add(mean), t));
    }
    t.clamp_(a, b); // only reachable for bounds far in the tails
  }));
  return t;
}

export function constantInit(shape: number[], value: number): Tensor {
  const t = empty(shape);
  noGrad(() => t.fill_(value));
  return t;
}
