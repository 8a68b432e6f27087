// TrainLoader: the batches depend only on (dataset, seed, rank split, batch settings), not on the
// number of workers; a resumed loader continues exactly; failures in workers reject next() with
// errors naming the file, and never hang.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { resolveDataset } from '../../../src/data/datasets.js';
import { TrainLoader, type LoaderBatch, type TrainLoaderOptions } from '../../../src/data/loader.js';
import { Rng } from '../../../src/data/rng.js';
import type { SegDataset } from '../../../src/data/sample.js';
import { loadRawSample } from '../../../src/data/sample_checks.js';
import { localToGlobal, TrainingSampler } from '../../../src/data/sampler.js';
import { AhsError } from '../../../src/errors.js';
import { cropFlip, type CropFlipOptions } from './fixtures/crop_flip_mapper.js';
import { writeCustomDataset, writeLabel } from './fixtures/write_dataset.js';

const MAPPER_URL = new URL('./fixtures/crop_flip_mapper.ts', import.meta.url).href;
const SIZES = [[9, 6], [6, 9], [10, 7], [7, 7], [12, 5], [5, 11], [8, 6]] as const;

let dir: string;
let ds: SegDataset;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-loader-'));
  await writeCustomDataset(join(dir, 'good'), SIZES.map(([width, height], i) => ({ key: `s${i}`, width, height })));
  ds = await resolveDataset(join(dir, 'good'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const mapper = (extra: Partial<CropFlipOptions> = {}) => ({ module: MAPPER_URL, exportName: 'cropFlip', options: { crop: 5, ignoreLabel: 255, ...extra } });

function opts(o: Partial<TrainLoaderOptions> = {}): TrainLoaderOptions {
  return { dataset: ds, batchSize: 2, seed: 17, mapper: mapper(), ...o };
}

/** Batches as plain data, for deepEqual (dataTimeMs left out). */
async function take(loader: TrainLoader, n: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const b: LoaderBatch = await loader.next();
    assert.ok(b.dataTimeMs >= 0);
    out.push({ positions: b.positions, samples: b.samples.map((s) => ({ key: s.key, w: s.width, h: s.height, image: Buffer.from(s.image).toString('base64'), label: Array.from(s.label) })) });
  }
  return out;
}

async function withLoader<T>(o: TrainLoaderOptions, fn: (l: TrainLoader) => Promise<T>): Promise<T> {
  const l = new TrainLoader(o);
  try {
    return await fn(l);
  } finally {
    await l.close();
    assert.equal(l.liveWorkers, 0, 'worker threads left after close()');
  }
}

describe('TrainLoader', () => {
  it('numWorkers 0 and 2 give identical batches in identical order, across epochs', async () => {
    // Results taken in completion order, or a generator tied to the worker, would make runs
    // irreproducible and differ between machines with other core counts.
    const inline = await withLoader(opts({ numWorkers: 0 }), (l) => take(l, 9));
    const threaded = await withLoader(opts({ numWorkers: 2, prefetch: 5 }), (l) => take(l, 9));
    assert.deepEqual(threaded, inline);
    const batches = inline as { positions: number[]; samples: { key: string }[] }[];
    assert.ok(Math.max(...batches.flatMap((b) => b.positions)) >= 2 * ds.items.length, 'the run crosses two epoch boundaries');
    // Grouped by the ORIGINAL image's aspect, as detectron2 (every mapped sample is 5x5 here).
    const landscape = (key: string): boolean => SIZES[Number(key.slice(1))]![0] > SIZES[Number(key.slice(1))]![1];
    for (const b of batches) assert.equal(new Set(b.samples.map((s) => landscape(s.key))).size, 1, JSON.stringify(b.samples.map((s) => s.key)));
    assert.ok(batches.some((b) => landscape(b.samples[0]!.key)) && batches.some((b) => !landscape(b.samples[0]!.key)));
  });

  it('sample k is the mapper on item sampler.indexAt(k) with Rng.for(seed, k), whatever the rank split', async () => {
    // The augmentation must depend on the global stream position only, not on rank or worker.
    const sampler = new TrainingSampler(ds.items.length, 17);
    for (const [rank, worldSize] of [[0, 1], [1, 2]] as const) {
      await withLoader(opts({ rank, worldSize, numWorkers: 0 }), async (l) => {
        for (let i = 0; i < 3; i++) {
          const b = await l.next();
          for (const [j, k] of b.positions.entries()) {
            assert.equal(k % worldSize, rank);
            const raw = await loadRawSample(ds.items[sampler.indexAt(k)]!, { numClasses: 5, ignoreLabel: 255 }, true);
            const want = cropFlip(raw, mapper().options, Rng.for(17, k));
            assert.equal(b.samples[j]!.key, want.key);
            assert.deepEqual(b.samples[j]!.image, want.image);
            assert.deepEqual(b.samples[j]!.label, want.label);
          }
        }
      });
    }
    assert.equal(localToGlobal(4, 1, 2), 9);
  });

  it('a loader resumed from state() yields the batches an uninterrupted loader yields next', async () => {
    // A checkpoint resume that re-drew or dropped the waiting samples would change training.
    const whole = await withLoader(opts({ numWorkers: 0 }), (l) => take(l, 10));
    let sawPending = false;
    for (const cut of [1, 2, 3, 5]) {
      const state = await withLoader(opts({ numWorkers: 0, prefetch: 3 }), async (l) => {
        await take(l, cut);
        return JSON.parse(JSON.stringify(l.state()));
      });
      sawPending ||= state.buckets.some((b: number[]) => b.length > 0);
      const numWorkers = cut === 3 ? 2 : 0;
      const rest = await withLoader(opts({ numWorkers, resume: state }), (l) => take(l, 10 - cut));
      assert.deepEqual(rest, whole.slice(cut), `resumed after ${cut} batches with ${numWorkers} workers`);
    }
    assert.ok(sawPending, 'some cut left samples waiting in a bucket (exercises their re-mapping)');
    // A state from other settings is refused rather than silently resumed onto another stream.
    const s = await withLoader(opts(), async (l) => (await l.next(), l.state()));
    assert.throws(() => new TrainLoader(opts({ seed: 18, resume: s })), /saved with seed 17, but this loader has seed 18/);
    assert.throws(() => new TrainLoader(opts({ batchSize: 3, resume: s })), /batch size 2, resumed with 3/);
  });

  it('keeps at most `prefetch` samples in flight ahead of the batch', async () => {
    // An unbounded queue would decode the whole dataset into memory ahead of training.
    const countKey = `calls_${process.pid}`;
    const g = globalThis as unknown as Record<string, number>;
    // Waits for the expected count, then a while longer to see that no more jobs start.
    const settlesAt = async (n: number): Promise<void> => {
      for (let t = 0; t < 200 && (g[countKey] ?? 0) < n; t++) await sleep(25);
      await sleep(200);
      assert.equal(g[countKey], n);
    };
    await withLoader(opts({ numWorkers: 0, prefetch: 3, aspectRatioGrouping: false, mapper: mapper({ countKey }) }), async (l) => {
      await settlesAt(3);
      await l.next(); // consumes 2, refills to 3 ahead
      await settlesAt(5);
    });
  });

  it('a corrupt image rejects next() with an error naming it, and keeps failing', async () => {
    // A worker error swallowed or turned into a hang would stall training silently.
    const root = join(dir, 'corrupt');
    await writeCustomDataset(root, SIZES.map(([width, height], i) => ({ key: `s${i}`, width, height })));
    writeFileSync(join(root, 'images', 's4.png'), 'garbage, not a PNG');
    const bad = await resolveDataset(root);
    for (const numWorkers of [0, 2]) {
      await withLoader(opts({ dataset: bad, numWorkers }), async (l) => {
        const err = await (async () => {
          for (let i = 0; i < 10; i++) await l.next();
        })().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof AhsError, `expected an AhsError, got ${String(err)}`);
        assert.equal(err.code, 'AHS_ERR_DATASET');
        assert.ok(err.message.includes(join(root, 'images', 's4.png')), err.message);
        await assert.rejects(l.next(), (e: unknown) => e === err);
      });
    }
  });

  it('the per-sample checks stop training on a bad label value; off, the value passes', async () => {
    // Big datasets are only sample-validated up front, so the loader must catch the rest.
    const root = join(dir, 'badvalue');
    await writeCustomDataset(root, SIZES.map(([width, height], i) => ({ key: `s${i}`, width, height })));
    await writeLabel(join(root, 'labels', 's2.png'), Array(70).fill(9), 10, 7);
    const bad = await resolveDataset(root);
    await withLoader(opts({ dataset: bad, numWorkers: 2 }), async (l) => {
      await assert.rejects(take(l, 10), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_DATASET' && e.message.includes(join(root, 'labels', 's2.png')) && e.message.includes('value 9'));
    });
    await withLoader(opts({ dataset: bad, numWorkers: 0, checkSamples: false }), (l) => take(l, 10));
  });

  it('a mapper error in a worker names the files it was loading', async () => {
    // The mapper's own message says nothing about which image broke it.
    await withLoader(opts({ numWorkers: 2, mapper: mapper({ throwOnKey: 's3' }) }), async (l) => {
      await assert.rejects(take(l, 10), (e: unknown) => {
        const m = (e as Error).message;
        return m.includes("fixture mapper refuses 's3'") && m.includes(join(dir, 'good', 'images', 's3.png')) && m.includes('stream position');
      });
    });
    await withLoader(opts({ numWorkers: 1, mapper: { module: MAPPER_URL, exportName: 'nope', options: {} } }), async (l) => {
      await assert.rejects(l.next(), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_INVALID_ARGUMENT' && /no function export 'nope'/.test(e.message));
    });
  });

  it('a worker that exits rejects next() instead of hanging; close() still works', { timeout: 30_000 }, async () => {
    // Without exit handling, next() would wait forever for the dead worker's answer.
    await withLoader(opts({ numWorkers: 2, mapper: mapper({ exitOnKey: 's5' }) }), async (l) => {
      await assert.rejects(take(l, 10), (e: unknown) => e instanceof AhsError && /data loader worker \d exited with code 7/.test(e.message) && e.message.includes('s5.png'));
      await assert.rejects(l.next(), /exited with code 7/);
    });
  });

  it('a closed loader rejects next()', async () => {
    // Using a loader after close() must fail loudly, not return stale samples.
    const l = new TrainLoader(opts({ numWorkers: 1 }));
    await l.next();
    await l.close();
    assert.equal(l.liveWorkers, 0);
    await assert.rejects(l.next(), /closed/);
  });
});
