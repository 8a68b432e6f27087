// BatchPlanner: detectron2's aspect-ratio grouping over the stream, and its resumable state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aspectBucket, BatchPlanner } from '../../../src/data/batch_planner.js';
import { Rng } from '../../../src/data/rng.js';

const L = [40, 30] as const; // landscape: bucket 0
const P = [30, 40] as const; // portrait: bucket 1
const S = [30, 30] as const; // square: bucket 1, as detectron2's `0 if w > h else 1`

function run(planner: BatchPlanner, shapes: readonly (readonly [number, number])[]): number[][] {
  const out: number[][] = [];
  for (const [w, h] of shapes) {
    const b = planner.push(planner.next, w, h);
    if (b) out.push(b);
  }
  return out;
}

describe('BatchPlanner', () => {
  it('groups by aspect: a batch leaves when its bucket fills, in arrival order', () => {
    // Mixed-aspect batches would pad every image to the union size (detectron2 groups to avoid it).
    assert.equal(aspectBucket(2, 1), 0);
    assert.equal(aspectBucket(1, 2), 1);
    assert.equal(aspectBucket(2, 2), 1);
    const p = new BatchPlanner({ batchSize: 2, grouping: true });
    assert.deepEqual(run(p, [L, P, S, L, L, P, P, L]), [[1, 2], [0, 3], [5, 6], [4, 7]]);
    assert.deepEqual(p.pending(), []);
  });

  it('without grouping, batches are consecutive positions', () => {
    // Grouping off must be detectron2's plain batching (drop_last over the stream).
    const p = new BatchPlanner({ batchSize: 3, grouping: false });
    assert.deepEqual(run(p, [L, P, S, L, L, P, P]), [[0, 1, 2], [3, 4, 5]]);
    assert.deepEqual(p.state(), { batchSize: 3, grouping: false, next: 7, buckets: [[6]] });
  });

  it('restoring from state() at any point reproduces the uninterrupted batches', () => {
    // A resumed run that regrouped differently would see other batches than the original run.
    const r = Rng.for(1, 2);
    const shapes = Array.from({ length: 60 }, () => (r.bernoulli(0.3) ? L : P));
    for (const grouping of [true, false]) {
      const whole = run(new BatchPlanner({ batchSize: 4, grouping }), shapes);
      for (let cut = 0; cut <= shapes.length; cut++) {
        const first = new BatchPlanner({ batchSize: 4, grouping });
        const head = run(first, shapes.slice(0, cut));
        const state = JSON.parse(JSON.stringify(first.state()));
        const tail = run(new BatchPlanner({ batchSize: 4, grouping }, state), shapes.slice(cut));
        assert.deepEqual([...head, ...tail], whole, `grouping ${grouping}, cut ${cut}`);
      }
    }
  });

  it('pending() lists the positions waiting in the buckets, which a restore must re-map', () => {
    // The loader re-maps exactly these; a missing one would leave a batch without its sample.
    const p = new BatchPlanner({ batchSize: 3, grouping: true });
    run(p, [P, L, P, L, L]); // batch [1, 3, 4] left; 0 and 2 wait
    assert.deepEqual(p.pending(), [0, 2]);
    assert.deepEqual(p.state(), { batchSize: 3, grouping: true, next: 5, buckets: [[], [0, 2]] });
  });

  it('rejects out-of-order pushes and states of other settings', () => {
    // A state from a run with another batch size would silently regroup the stream.
    const p = new BatchPlanner({ batchSize: 2, grouping: true });
    assert.throws(() => p.push(1, 2, 1), /expected stream position 0, got 1/);
    const s = p.state();
    assert.throws(() => new BatchPlanner({ batchSize: 3, grouping: true }, s), /saved with batch size 2, resumed with 3/);
    assert.throws(() => new BatchPlanner({ batchSize: 2, grouping: false }, s), /grouping on, resumed with it off/);
    assert.throws(() => new BatchPlanner({ batchSize: 2, grouping: true }, { ...s, buckets: [[0, 1], []], next: 2 }), /fewer than 2 distinct positions/);
    assert.throws(() => new BatchPlanner({ batchSize: 2, grouping: true }, { ...s, buckets: [[5], []], next: 2 }), /below "next"/);
  });
});
