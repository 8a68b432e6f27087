// TrainingSampler: the infinite shuffled stream as a pure function of position, and its rank split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../../src/data/rng.js';
import { localToGlobal, SAMPLER_KEY, TrainingSampler } from '../../../src/data/sampler.js';
import { AhsError } from '../../../src/errors.js';

const isPermutation = (p: ArrayLike<number>, n: number): boolean => {
  const seen = new Uint8Array(n);
  for (let i = 0; i < p.length; i++) seen[p[i]!] = 1;
  return p.length === n && seen.every((v) => v === 1);
};

describe('TrainingSampler', () => {
  it('every epoch is a permutation, and indexAt walks the epochs in order', () => {
    // A repeated or skipped index would over- or under-sample images.
    for (const n of [1, 2, 7, 1000]) {
      const s = new TrainingSampler(n, 3);
      for (let e = 0; e < 4; e++) {
        const p = s.permutation(e);
        assert.ok(isPermutation(p, n), `size ${n} epoch ${e}`);
        for (let i = 0; i < n; i++) assert.equal(s.indexAt(e * n + i), p[i]);
      }
    }
  });

  it('is a pure function of (seed, position): pinned values, reads in any order', () => {
    // A resumed run recomputes the stream from scratch; any drift changes what it trains on.
    // The pinned orders fail if the shuffle algorithm or its key changes (old checkpoints would
    // then resume onto a different stream).
    const s = new TrainingSampler(10, 0);
    assert.deepEqual(Array.from(s.permutation(0)), [0, 6, 9, 1, 7, 3, 4, 8, 2, 5]);
    assert.deepEqual(Array.from(s.permutation(1)), [4, 0, 3, 2, 8, 1, 9, 5, 6, 7]);
    assert.deepEqual(Array.from(new TrainingSampler(10, 1).permutation(0)), [4, 8, 6, 5, 1, 2, 3, 0, 7, 9]);
    const forward = Array.from({ length: 35 }, (_, k) => s.indexAt(k));
    const other = new TrainingSampler(10, 0);
    const backward = Array.from({ length: 35 }, (_, k) => other.indexAt(34 - k)).reverse();
    assert.deepEqual(backward, forward);
  });

  it('epochs and seeds differ; the shuffle key is not the mapper key', () => {
    // Identical epochs would show the model one order forever; a shuffle drawn from Rng.for(seed, e)
    // would reuse the random numbers of the augmentation at stream position e.
    const s = new TrainingSampler(1000, 5);
    assert.notDeepEqual(s.permutation(0), s.permutation(1));
    assert.notDeepEqual(s.permutation(0), new TrainingSampler(1000, 6).permutation(0));
    const mapperDraw = Rng.for(5, 0).int(1000);
    const shuffleDraw = Rng.for(SAMPLER_KEY, 5, 0).int(1000);
    assert.equal(s.permutation(0)[999], Array.from({ length: 1000 }, (_, i) => i)[shuffleDraw]);
    assert.notEqual(shuffleDraw, mapperDraw);
  });

  it('shuffle: false repeats 0..N-1', () => {
    // detectron2's shuffle=False is used for debugging; it must not shuffle.
    const s = new TrainingSampler(4, 9, { shuffle: false });
    assert.deepEqual(Array.from({ length: 9 }, (_, k) => s.indexAt(k)), [0, 1, 2, 3, 0, 1, 2, 3, 0]);
  });

  it('rank shards are disjoint and together cover the stream', () => {
    // Overlapping shards would train on duplicates; gaps would skip samples each epoch.
    for (const w of [1, 2, 3, 8]) {
      const seen = new Map<number, number>();
      for (let r = 0; r < w; r++) {
        for (let j = 0; j < 50; j++) {
          const k = localToGlobal(j, r, w);
          assert.equal(seen.has(k), false, `position ${k} taken twice (world ${w})`);
          seen.set(k, r);
        }
      }
      assert.deepEqual([...seen.keys()].sort((a, b) => a - b), Array.from({ length: 50 * w }, (_, k) => k));
      // detectron2's islice(stream, rank, None, world): rank r starts at r and strides by w.
      for (let r = 0; r < w; r++) assert.deepEqual([0, 1, 2].map((j) => localToGlobal(j, r, w)), [r, r + w, r + 2 * w]);
    }
  });

  it('rejects sizes, seeds and positions it cannot honour', () => {
    // A negative seed or fractional position would silently hash to some stream.
    assert.throws(() => new TrainingSampler(0, 1), AhsError);
    assert.throws(() => new TrainingSampler(5, -1), /seed must be a non-negative integer, got -1/);
    assert.throws(() => new TrainingSampler(5, 1).indexAt(1.5), /stream position must be a non-negative integer, got 1.5/);
  });
});
