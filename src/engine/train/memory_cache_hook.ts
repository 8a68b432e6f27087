// Training allocates the same activations every step. The caching allocator keeps at most
// AHS_SEG_CPU_CACHE_MB of freed blocks (4 GB: right for inference), so a step that peaks above it
// hands the rest back to the system in backward and faults fresh pages in again in the next
// forward (~3 ms per MB here: most of a step). So: during the first step the cache keeps at most
// 1 GiB (the process's peak is then that step's peak live bytes, not those plus an inference-sized
// cache); after it, the cache may hold that step's peak and live + cached bytes are capped 3% above
// it. Later steps reuse the first one's memory; a block of a size no longer asked for is given back
// rather than added to the footprint. On the ViT-B recipe at batch 1, a cap of 1.1x the peak cost
// 0.8 GiB of RSS and 1.03x no measurable step time (`npm run bench -- train`, 2026-12-01).
// AHS_SEG_CPU_CACHE_MB, when set, is left alone.
import { cacheLimitBytes, memoryStats, setCacheLimitBytes, setFootprintLimitBytes } from '../../tensor/index.js';
import type { TrainHook } from './trainer.js';

const FIRST_STEP_CACHE = 2 ** 30;
const OVER_PEAK = 1.03;

const userSet = () => process.env.AHS_SEG_CPU_CACHE_MB !== undefined;

/** Before the first step: the cache keeps at most 1 GiB of freed blocks. */
export function limitFirstStepCache(): void {
  if (!userSet()) setCacheLimitBytes(Math.min(cacheLimitBytes(), FIRST_STEP_CACHE));
}

/** After the first step: cache up to the peak live bytes so far, footprint capped at 1.03x it;
 * returns the cap, or null when the user fixed AHS_SEG_CPU_CACHE_MB. */
export function holdPeakMemory(floorBytes = 4096 * 2 ** 20): number | null {
  if (userSet()) return null;
  const cap = Math.max(floorBytes, Math.ceil(memoryStats().peakLiveBytes * OVER_PEAK));
  setCacheLimitBytes(cap);
  setFootprintLimitBytes(cap);
  return cap;
}

export class MemoryCacheHook implements TrainHook {
  #done = false;
  constructor(private readonly log: (l: string) => void) {}
  beforeTrain(): void {
    limitFirstStepCache();
  }
  afterStep(): void {
    if (this.#done) return;
    this.#done = true;
    const cap = holdPeakMemory();
    if (cap !== null) this.log(`[train] allocator cache set to ${(cap / 2 ** 30).toFixed(2)} GiB (the first step's peak), so later steps reuse its memory`);
  }
  afterTrain(): void {
    if (!userSet()) setFootprintLimitBytes(0);
  }
}
