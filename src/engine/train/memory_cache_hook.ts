// Training allocates the same activations every step. The caching allocator keeps at most
// AHS_SEG_CPU_CACHE_MB of freed blocks (4 GB: right for inference), so a step that peaks above it
// hands the rest back to the system in backward and faults fresh pages in again in the next
// forward (~3 ms per MB here: most of a step). After the first step the cache may hold that
// step's peak, and live + cached bytes are capped just above it: later steps reuse the first
// one's memory, and blocks of sizes no longer asked for are given back rather than added to the
// process's footprint. AHS_SEG_CPU_CACHE_MB, when set, is left alone.
import { memoryStats, setCacheLimitBytes, setFootprintLimitBytes } from '../../tensor/index.js';
import type { TrainHook } from './trainer.js';

/** After the first step: cache up to the peak live bytes so far, footprint capped at 1.1x it;
 * returns the cap, or null when the user fixed AHS_SEG_CPU_CACHE_MB. */
export function holdPeakMemory(floorBytes = 4096 * 2 ** 20): number | null {
  if (process.env.AHS_SEG_CPU_CACHE_MB !== undefined) return null;
  const peak = memoryStats().peakLiveBytes;
  const cap = Math.max(floorBytes, Math.ceil(peak * 1.05));
  setCacheLimitBytes(cap);
  setFootprintLimitBytes(Math.ceil(Math.max(cap, peak * 1.1)));
  return cap;
}

export class MemoryCacheHook implements TrainHook {
  #done = false;
  constructor(private readonly log: (l: string) => void) {}
  afterStep(): void {
    if (this.#done) return;
    this.#done = true;
    const cap = holdPeakMemory();
    if (cap !== null) this.log(`[train] allocator cache set to ${(cap / 2 ** 30).toFixed(2)} GiB (the first step's peak), so later steps reuse its memory`);
  }
  afterTrain(): void {
    if (process.env.AHS_SEG_CPU_CACHE_MB === undefined) setFootprintLimitBytes(0);
  }
}
