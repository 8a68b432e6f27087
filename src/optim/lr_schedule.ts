// Learning-rate schedules as detectron2 defines them (solver/lr_scheduler.py), as pure
// functions of the iteration so that resuming at any iteration gives the same rate.

export type WarmupMethod = 'linear' | 'constant';

export interface WarmupOptions { warmupIters?: number; warmupFactor?: number; warmupMethod?: WarmupMethod }

/** detectron2's _get_warmup_factor_at_iter. */
export function warmupFactor(iter: number, o: WarmupOptions = {}): number {
  const iters = o.warmupIters ?? 0;
  const factor = o.warmupFactor ?? 0.001;
  if (iter >= iters) return 1;
  if ((o.warmupMethod ?? 'linear') === 'constant') return factor;
  const alpha = iter / iters;
  return factor * (1 - alpha) + alpha;
}

/** WarmupCosineLR: base * warmup * 0.5 * (1 + cos(pi * iter / maxIter)). */
export function cosineLr(baseLr: number, iter: number, maxIter: number, o: WarmupOptions = {}): number {
  return baseLr * warmupFactor(iter, o) * 0.5 * (1 + Math.cos((Math.PI * iter) / maxIter));
}

/** WarmupPolyLR: base * warmup * (1 - iter / maxIter) ** power. */
export function polyLr(baseLr: number, iter: number, maxIter: number, power = 0.9, o: WarmupOptions = {}): number {
  return baseLr * warmupFactor(iter, o) * Math.pow(1 - iter / maxIter, power);
}

export type LrSchedule = (iter: number) => number;

export function makeSchedule(name: 'WarmupCosineLR' | 'WarmupPolyLR', baseLr: number, maxIter: number, o: WarmupOptions & { power?: number } = {}): LrSchedule {
  return name === 'WarmupCosineLR' ? (it) => cosineLr(baseLr, it, maxIter, o) : (it) => polyLr(baseLr, it, maxIter, o.power ?? 0.9, o);
}
