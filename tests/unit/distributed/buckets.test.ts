// Gradient buckets: the plan packs consecutive tensors of one dtype up to the cap (an oversized
// tensor alone), and flatten/unflatten put every value back where it came from.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flattenBucket, planBuckets, unflattenBucket } from '../../../src/distributed/buckets.js';
import { dispose, tensor } from '../../../src/tensor/index.js';
import { isAhsError } from '../../helpers/ahs_error.js';

describe('planBuckets', () => {
  // Wrong here: a bucket exceeds the cap (one huge allreduce), mixes dtypes (gloo reduces one
  // dtype per buffer), loses a tensor, or reorders them.
  it('packs consecutive same-dtype tensors up to the cap; an oversized tensor gets its own bucket', () => {
    const t = (numel: number, dtype: 'float32' | 'float64' = 'float32') => ({ numel, dtype });
    const b = planBuckets([t(10), t(10), t(10), t(100), t(5), t(5, 'float64'), t(1)], 80);
    assert.deepEqual(b.map((x) => [x.indices, x.dtype, x.numel, x.bytes]), [
      [[0, 1], 'float32', 20, 80],
      [[2], 'float32', 10, 40],
      [[3], 'float32', 100, 400],
      [[4], 'float32', 5, 20],
      [[5], 'float64', 5, 40],
      [[6], 'float32', 1, 4],
    ]);
    assert.deepEqual(planBuckets([], 10), []);
    assert.throws(() => planBuckets([t(1)], 0), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'bucket cap must be a positive number of bytes, got 0'));
  });

  // Wrong here: values land at other offsets or shapes after the round trip through a flat buffer.
  it('flatten then unflatten restores every tensor in place', () => {
    const ts = [tensor([[1, 2], [3, 4]]), tensor([5]), tensor([[[6, 7, 8]]])];
    const [b] = planBuckets(ts.map((x) => ({ numel: x.numel, dtype: x.dtype })), 1 << 20);
    const flat = flattenBucket(b!, ts);
    assert.deepEqual(flat.toArray(), [1, 2, 3, 4, 5, 6, 7, 8]);
    flat.mul_(10);
    unflattenBucket(b!, flat, ts);
    assert.deepEqual(ts.map((x) => [x.shape, x.toArray()]), [[[2, 2], [10, 20, 30, 40]], [[1], [50]], [[1, 1, 3], [60, 70, 80]]]);
    dispose([flat, ...ts]);
  });
});
