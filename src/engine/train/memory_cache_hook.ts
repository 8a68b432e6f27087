// Training allocates the same activations every step. The caching allocator keeps at most
// AHS_SEG_CPU_CACHE_MB of freed blocks (4 GB: right for inference), so a step that peaks above it
// would hand the rest back to the system in backward and fault fresh pages in again in the next
// forward (~3 ms per MB here: most of a step). So for the first step the cap is lifted, and after
// it the cap is set to that step's peak, memory the process holds anyway. AHS_SEG_CPU_CACHE_MB,
// when set, is left alone.
import { totalmem } from 'node:os';
import { cacheLimitBytes, memoryStats, setCacheLimitBytes } from '../../tensor/index.js';
import type { TrainHook } from './trainer.js';

const userSet = (): boolean => process.env.AHS_SEG_CPU_CACHE_MB !== undefined;

/** Before the first step: keep every freed block (up to 3/4 of the machine's memory). */
export function liftCacheLimit(): void {
  if (!userSet()) setCacheLimitBytes(Math.max(cacheLimitBytes(), totalmem() * 0.75));
}

/** After the first step: the cap becomes the peak live bytes so far (+5%), at least the old
 * default; returns the new cap, or null when the user fixed it. */
export function holdPeakMemory(floorBytes = 4096 * 2 ** 20): number | null {
  if (userSet()) return null;
  const cap = Math.max(floorBytes, Math.ceil(memoryStats().peakLiveBytes * 1.05));
  setCacheLimitBytes(cap);
  return cap;
}

export class MemoryCacheHook implements TrainHook {
  #done = false;
  constructor(private readonly log: (l: string) => void) {}
  beforeTrain(): void {
    liftCacheLimit();
  }
  afterStep(): void {
    if (this.#done) return;
    this.#done = true;
    const cap = holdPeakMemory();
    if (cap !== null) this.log(`[train] allocator cache set to ${(cap / 2 ** 30).toFixed(2)} GiB (the first step's peak), so later steps reuse its memory`);
  }
}
