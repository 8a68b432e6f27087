// The learning-rate multiplier per iteration, as detectron2's build_lr_scheduler makes it
// (solver/build.py, fvcore param schedulers) and Mask2Former/CAT-Seg's WarmupPolyLR: a pure
// function of the iteration, so a resumed run gets exactly the rate an uninterrupted one had.
import type { AhsConfig } from '../../config/index.js';
import { AhsError } from '../../errors.js';

/** Multiplier of each group's base lr at iteration i (0-based). */
export type LrMultiplier = (iter: number) => number;

/** detectron2's WarmupParamScheduler: over the first warmupLength (a fraction of the run) the
 * value goes linearly from factor * f(0) to f(warmupLength) (or stays at factor * f(0)). */
function withWarmup(f: (where: number) => number, factor: number, length: number, method: 'linear' | 'constant'): (where: number) => number {
  if (length <= 0) return f;
  const start = factor * f(0), end = f(length);
  return (where) => {
    if (where >= length) return f(where);
    if (method === 'constant') return start;
    return start + (end - start) * (where / length);
  };
}

export function lrMultiplierFromConfig(cfg: AhsConfig): LrMultiplier {
  const s = cfg.SOLVER;
  const maxIter = s.MAX_ITER;
  if (!(maxIter > 0)) throw new AhsError('AHS_ERR_CONFIG_VALUE', `SOLVER.MAX_ITER must be positive, got ${maxIter}`);
  const warmLen = Math.min(s.WARMUP_ITERS / maxIter, 1);
  switch (s.LR_SCHEDULER_NAME) {
    case 'WarmupMultiStepLR': {
      const steps = s.STEPS.filter((x) => x <= maxIter);
      const sched = (where: number) => s.GAMMA ** steps.filter((m) => m <= where * maxIter).length;
      const f = withWarmup(sched, s.WARMUP_FACTOR, warmLen, s.WARMUP_METHOD);
      return (it) => f(it / maxIter);
    }
    case 'WarmupCosineLR': {
      if (s.BASE_LR <= 0) throw new AhsError('AHS_ERR_CONFIG_VALUE', `SOLVER.BASE_LR must be positive for WarmupCosineLR, got ${s.BASE_LR}`);
      const end = s.BASE_LR_END / s.BASE_LR;
      const sched = (where: number) => end + 0.5 * (1 - end) * (1 + Math.cos(Math.PI * where));
      const f = withWarmup(sched, s.WARMUP_FACTOR, warmLen, s.WARMUP_METHOD);
      return (it) => f(it / maxIter);
    }
    case 'WarmupPolyLR': {
      // Mask2Former / detectron2 DeepLab WarmupPolyLR: the old-style warmup factor times the decay.
      const power = s.POLY_LR_POWER, ending = s.POLY_LR_CONSTANT_ENDING;
      return (it) => {
        let w = 1;
        if (it < s.WARMUP_ITERS) w = s.WARMUP_METHOD === 'constant' ? s.WARMUP_FACTOR : s.WARMUP_FACTOR * (1 - it / s.WARMUP_ITERS) + it / s.WARMUP_ITERS;
        const decay = Math.pow(1 - it / maxIter, power);
        if (ending > 0 && w === 1 && decay < ending) return ending;
        return w * decay;
      };
    }
  }
}
