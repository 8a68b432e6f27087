// forEachLimit, the converters' bounded-concurrency loop (src/data/prepare/common.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachLimit } from '../../../../src/data/prepare/common.js';

describe('forEachLimit', () => {
  it('on a failure: hands out no more items, waits for those in flight, then rejects with the first error', async () => {
    // A failure means a failed `prepare` returns while other items are still being written: the
    // caller (or a test's cleanup) that removes the output folder then races them (ENOTEMPTY).
    const finished: number[] = [];
    const started: number[] = [];
    const run = forEachLimit([0, 1, 2, 3, 4, 5], 3, async (i) => {
      started.push(i);
      if (i === 1) { await sleep(5); throw new Error('item 1 failed'); }
      await sleep(i === 0 ? 40 : 10);
      finished.push(i);
    });
    await assert.rejects(run, /item 1 failed/);
    assert.ok(finished.includes(0), 'the slow item in flight had not finished when forEachLimit rejected');
    assert.ok(!started.includes(5), `items were still handed out after the failure: ${started.join(', ')}`);
  });

  it('runs every item at most `limit` at a time', async () => {
    let active = 0, most = 0;
    const seen: number[] = [];
    await forEachLimit([...Array(10).keys()], 3, async (i) => {
      most = Math.max(most, ++active);
      await sleep(2);
      seen.push(i);
      active--;
    });
    assert.equal(most, 3);
    assert.deepEqual(seen.sort((a, b) => a - b), [...Array(10).keys()]);
  });
});
