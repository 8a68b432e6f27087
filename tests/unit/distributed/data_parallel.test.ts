// Data parallelism on two in-process ranks (CPU Gloo, loopback): gradients averaged in buckets
// equal the mean of the ranks' gradients (a parameter without a gradient on one rank included),
// rank 0's parameters and buffers of every dtype reach rank 1, a model that differs between ranks
// is refused, and the sharded evaluator gives exactly the single-process metrics.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { resolveDataset } from '../../../src/data/datasets.js';
import type { SegDataset } from '../../../src/data/sample.js';
import { DataParallel } from '../../../src/distributed/data_parallel.js';
import { findFreePort } from '../../../src/distributed/free_port.js';
import { allGatherJson } from '../../../src/distributed/gather_json.js';
import { ProcessGroup } from '../../../src/distributed/process_group.js';
import { openStore, parseDistUrl, type Store } from '../../../src/distributed/rendezvous.js';
import { evaluateDataset } from '../../../src/engine/evaluate_dataset.js';
import type { PixelLabeler } from '../../../src/models/seg_model.js';
import { dispose, noGrad, tensor, type Tensor } from '../../../src/tensor/index.js';
import { isAhsError } from '../../helpers/ahs_error.js';
import { writeShapesDataset } from '../../helpers/shapes_dataset.js';

let stores: Store[] = [];
let groups: ProcessGroup[] = [];
let dir: string;
let ds: SegDataset;

before(async () => {
  const r = parseDistUrl(`tcp://127.0.0.1:${await findFreePort()}`);
  stores = await Promise.all([0, 1].map((rank) => openStore(r, { rank, worldSize: 2, timeoutMs: 10_000 })));
  groups = await Promise.all([0, 1].map((rank) => ProcessGroup.init(stores[rank]!, { rank, worldSize: 2, backend: 'gloo', timeoutMs: 10_000, hostname: '127.0.0.1' })));
  dir = mkdtempSync(join(tmpdir(), 'ahs-dp-'));
  ds = await resolveDataset(await writeShapesDataset(join(dir, 'shapes'), 5, 40, 32)); // odd: shards of 3 and 2
});
after(() => {
  for (const g of groups) g.destroy();
  for (const s of stores) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A parameter with a gradient (null: none). */
function param(values: number[], grad: number[] | null): Tensor {
  const p = tensor(values).requiresGrad_();
  if (grad) noGrad(() => { p.grad = tensor(grad); });
  return p;
}

describe('DataParallel (2 ranks in one process)', () => {
  // Wrong here: buckets are cut or put back at the wrong offsets, the sum is not divided by the
  // world size, or a gradient missing on one rank is dropped instead of counting as zeros.
  it('averages gradients over ranks across several buckets, a gradient missing on one rank counting as zeros', async () => {
    const make = (r: number) => [
      param([1, 2, 3], r === 0 ? [1, 2, 3] : [3, 4, 5]),
      param([0, 0], r === 0 ? [10, 20] : null),
      param([5], null), // no gradient anywhere: stays without one
      param([1, 1, 1, 1], [r, r, r, r]),
    ];
    const ranks = [make(0), make(1)];
    const dps = groups.map((g) => new DataParallel(g, 12)); // 12 bytes: the first two tensors fill one bucket each
    await Promise.all(dps.map((dp, r) => dp.averageGradients(ranks[r]!)));
    for (const ps of ranks) {
      assert.deepEqual(ps[0]!.grad!.toArray(), [2, 3, 4]);
      assert.deepEqual(ps[1]!.grad!.toArray(), [5, 10]);
      assert.equal(ps[2]!.grad, null);
      assert.deepEqual(ps[3]!.grad!.toArray(), [0.5, 0.5, 0.5, 0.5]);
    }
    const scalars = await Promise.all(dps.map((dp, r) => dp.averageScalars({ loss_b: r, loss_a: 2 + 2 * r })));
    for (const s of scalars) assert.deepEqual(s, { loss_a: 3, loss_b: 0.5 });
    dispose(ranks.flat());
  });

  // Wrong here: rank 1 keeps its own initial weights, or buffers of other dtypes are skipped.
  it('broadcasts rank 0 parameters and buffers of every dtype into rank 1, in place', async () => {
    const state = (r: number): [string, Tensor][] => [
      ['w', tensor(r === 0 ? [1.5, -2] : [0, 0]).requiresGrad_()],
      ['steps', tensor(new BigInt64Array(r === 0 ? [7n] : [0n]))],
      ['mask', tensor(r === 0 ? [true, false, true] : [false, false, false])],
      ['half', tensor(r === 0 ? [0.25] : [0]).toDType('float16')],
    ];
    const s = [state(0), state(1)];
    const before1 = s[1]!.map(([, t]) => t);
    await Promise.all(groups.map((g, r) => new DataParallel(g, 1024).broadcastState(s[r]!)));
    assert.deepEqual(s[1]!.map(([, t]) => t.float().toArray()), [[1.5, -2], [7], [1, 0, 1], [0.25]]);
    assert.ok(s[1]!.every(([, t], i) => t === before1[i]), 'the same tensors, updated in place');
    assert.equal(s[1]![0]![1].requiresGrad, true);
    dispose(s.flat().map(([, t]) => t));
  });

  // Wrong here: ranks whose models differ (another config) would exchange mismatched buffers.
  it('refuses to broadcast when the ranks hold different tensors', async () => {
    const s = [[['a', tensor([1, 2])]], [['a', tensor([1, 2, 3])]]] as [string, Tensor][][];
    const r = await Promise.allSettled(groups.map((g, i) => new DataParallel(g, 1024).broadcastState(s[i]!)));
    for (const x of r) isAhsError('AHS_ERR_DIST', /: the list of the model's parameters and buffers differs between processes: rank 0 has .*, rank 1 has .*; every process must build the model from the same config and code$/)((x as PromiseRejectedResult).reason);
    dispose(s.flat().map(([, t]) => t));
  });

  // Wrong here: shards overlap or miss images, or the gathered confusion matrices are not summed,
  // so a data-parallel evaluation would report other metrics than one process.
  it('the sharded evaluator gives exactly the metrics of a single-process evaluation', async () => {
    // Predicts "red box" where the red channel is high, else background: imperfect, so every cell counts.
    const labeler: PixelLabeler = { labels: (img) => img.select(0, 0).gt(150).long() };
    const single = await evaluateDataset(labeler, ds);
    const sharded = await Promise.all(groups.map((g, rank) =>
      evaluateDataset(labeler, ds, { shard: { rank, worldSize: 2, allGather: (st) => allGatherJson(g, st, 'the evaluation counts') } })));
    for (const r of sharded) assert.deepEqual(r, single);
    assert.ok(single.sem_seg.mIoU! > 0 && single.sem_seg.mIoU! < 100, `mIoU ${single.sem_seg.mIoU}`);
  });
});
