// The caching allocator's caps (what training sets after its first step): the cache cap bounds
// the freed bytes kept for reuse, the footprint cap bounds live + cached bytes, handing cached
// blocks back before a new allocation would pass it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cacheLimitBytes, emptyCache, engineInfo, memoryStats, setCacheLimitBytes, setFootprintLimitBytes, zeros } from '../../../src/tensor/index.js';

const MB = 2 ** 20;
const before = engineInfo().cachingAllocator ? cacheLimitBytes() : 0;
after(() => { setCacheLimitBytes(before); setFootprintLimitBytes(0); emptyCache(); });

describe('caching allocator limits', { skip: !engineInfo().cachingAllocator && 'caching allocator off (AHS_SEG_CACHING_ALLOCATOR=0)' }, () => {
  // Wrong here: a lowered cache cap keeps blocks beyond it (memory never returns), or the cap
  // cannot be read back.
  it('a lower cache cap trims the cache at once', () => {
    emptyCache();
    setCacheLimitBytes(64 * MB);
    for (let i = 0; i < 4; i++) zeros([4 * MB]).dispose(); // 16 MB blocks, freed into the cache
    const big = [zeros([4 * MB]), zeros([4 * MB]), zeros([4 * MB])];
    for (const t of big) t.dispose();
    assert.ok(memoryStats().cachedBytes >= 48 * MB);
    setCacheLimitBytes(16 * MB);
    assert.equal(cacheLimitBytes(), 16 * MB);
    assert.ok(memoryStats().cachedBytes <= 16 * MB, `cached ${memoryStats().cachedBytes}`);
  });

  // Wrong here: cached blocks of sizes nobody asks for again add to the footprint (training's
  // checkpointed steps peaked at live + cache = 2x the live bytes before this cap).
  it('the footprint cap gives cached blocks back before allocating past it', () => {
    emptyCache();
    setCacheLimitBytes(1024 * MB);
    const a = [zeros([6 * MB]), zeros([6 * MB]), zeros([6 * MB])]; // 3 x 24 MB
    for (const t of a) t.dispose(); // 72 MB cached, none reusable by 40 MB requests below
    const start = memoryStats().allocatedBytes;
    setFootprintLimitBytes(start + 8 * MB);
    const b = [zeros([10 * MB]), zeros([10 * MB])]; // 2 x 40 MB
    const s = memoryStats();
    assert.ok(s.allocatedBytes <= start + 8 * MB + 40 * MB, `allocated ${s.allocatedBytes / MB} MB, limit ${(start + 8 * MB) / MB} MB`);
    assert.ok(s.cachedBytes < 72 * MB, 'no cached block was given back');
    for (const t of b) t.dispose();
  });
});
