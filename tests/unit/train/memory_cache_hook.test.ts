// The trainer's allocator policy (src/engine/train/memory_cache_hook.ts): a small cache during the
// first step, then one that holds the first step's peak under a footprint cap just above it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MemoryCacheHook } from '../../../src/engine/train/memory_cache_hook.js';
import { cacheLimitBytes, emptyCache, memoryStats, setCacheLimitBytes, setFootprintLimitBytes } from '../../../src/tensor/index.js';

const initial = cacheLimitBytes();
after(() => { setCacheLimitBytes(initial); setFootprintLimitBytes(0); emptyCache(); });

describe('MemoryCacheHook', () => {
  it('caps the cache at 1 GiB for the first step, then at 1.03x its peak (4 GiB at least)', () => {
    // A failure of the first check means the first step's peak RSS includes an inference-sized
    // cache (it was the batch-4 bench's peak: 9.9 GiB for 6.7 live); of the second, that later
    // steps cannot reuse the first step's memory (page faults every step) or hold far more than it.
    const saved = process.env.AHS_SEG_CPU_CACHE_MB;
    delete process.env.AHS_SEG_CPU_CACHE_MB;
    try {
      setCacheLimitBytes(4096 * 2 ** 20);
      const lines: string[] = [];
      const hook = new MemoryCacheHook((l) => lines.push(l));
      hook.beforeTrain();
      assert.ok(cacheLimitBytes() <= 2 ** 30, `first-step cache ${cacheLimitBytes()}`);
      hook.afterStep();
      const want = Math.max(4096 * 2 ** 20, Math.ceil(memoryStats().peakLiveBytes * 1.03));
      assert.equal(cacheLimitBytes(), want);
      assert.match(lines[0]!, /allocator cache set to/);
      hook.afterStep(); // once only
      assert.equal(lines.length, 1);
    } finally {
      if (saved === undefined) delete process.env.AHS_SEG_CPU_CACHE_MB; else process.env.AHS_SEG_CPU_CACHE_MB = saved;
    }
  });

  it('leaves a cache size the user set with AHS_SEG_CPU_CACHE_MB alone', () => {
    const saved = process.env.AHS_SEG_CPU_CACHE_MB;
    process.env.AHS_SEG_CPU_CACHE_MB = '123';
    try {
      setCacheLimitBytes(123 * 2 ** 20);
      const hook = new MemoryCacheHook(() => undefined);
      hook.beforeTrain();
      hook.afterStep();
      assert.equal(cacheLimitBytes(), 123 * 2 ** 20);
    } finally {
      if (saved === undefined) delete process.env.AHS_SEG_CPU_CACHE_MB; else process.env.AHS_SEG_CPU_CACHE_MB = saved;
    }
  });
});
