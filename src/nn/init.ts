// Parameter initialisation as PyTorch's layers do it by default.
import { empty, noGrad, type Tensor } from '../tensor/index.js';

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

export function truncNormalInit(shape: number[], std: number): Tensor {
  // Resampling-free truncated normal at +-2 std, as timm's trunc_normal_ with its default bounds.
  const t = empty(shape);
  noGrad(() => { t.normal_(0, std); t.clamp_(-2 * std, 2 * std); });
  return t;
}

export function constantInit(shape: number[], value: number): Tensor {
  const t = empty(shape);
  noGrad(() => t.fill_(value));
  return t;
}
