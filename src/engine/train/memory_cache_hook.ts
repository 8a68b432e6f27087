// Training allocates the same activations every step. The caching allocator keeps at most
// AHS_SEG_CPU_CACHE_MB of freed blocks (4 GB: right for inference), so a step that peaks above it
// would fault in fresh pages for the rest every time (~3 ms per MB here, most of a step). After
// the first step, the cap is raised to that step's peak: memory the process holds anyway.
import { cacheLimitBytes, memoryStats, setCacheLimitBytes } from '../../tensor/index.js';
import type { TrainHook } from './trainer.js';

/** Raises the allocator's cache cap to the peak live bytes so far (unless the user set
 * AHS_SEG_CPU_CACHE_MB); returns the new cap, or null when unchanged. */
export function holdPeakMemory(): number | null {
  if (process.env.AHS_SEG_CPU_CACHE_MB) return null;
  const peak = memoryStats().peakLiveBytes;
  const want = Math.ceil(peak * 1.05);
  if (want <= cacheLimitBytes()) return null;
  setCacheLimitBytes(want);
  return want;
}

export class MemoryCacheHook implements TrainHook {
  #done = false;
  constructor(private readonly log: (l: string) => void) {}
  afterStep(): void {
    if (this.#done) return;
    this.#done = true;
    const cap = holdPeakMemory();
    if (cap !== null) this.log(`[train] allocator cache raised to ${(cap / 2 ** 30).toFixed(2)} GiB (the first step's peak), so later steps reuse its memory`);
  }
}
