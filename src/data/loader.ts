// The training data loader: detectron2's build_detection_train_loader (TrainingSampler ->
// DatasetMapper in DataLoader workers -> AspectRatioGroupedDataset) over worker threads.
//
//   local position j -> global k = localToGlobal(j, rank, worldSize) -> item sampler.indexAt(k)
//   -> decode + check + mapper(raw, options, Rng.for(seed, k)) -> planner groups in order of j
//
// Jobs are issued in stream order into a bounded queue (`prefetch` samples in flight or done but
// not yet grouped) and consumed in that order whatever finishes first, so the batches depend only
// on (dataset, seed, rank, worldSize, batchSize, grouping): not on numWorkers, prefetch or timing.
// The state to checkpoint is the planner's (next position, positions waiting in the buckets) plus
// what it was made with; a loader resumed from it re-maps the waiting positions and goes on.
import { performance } from 'node:perf_hooks';
import { AhsError, check } from '../errors.js';
import { BatchPlanner, type PlannerState } from './batch_planner.js';
import type { LoadedSample, MapperSpec } from './load_sample.js';
import type { MappedSample, SegDataset } from './sample.js';
import { InlineSource, WorkerPool, type SampleSource } from './sample_sources.js';
import { checkShard, localToGlobal, TrainingSampler } from './sampler.js';

export type { MapperSpec } from './load_sample.js';

export interface TrainLoaderOptions {
  dataset: SegDataset;
  /** Samples per batch in this process (detectron2's IMS_PER_BATCH / worldSize). */
  batchSize: number;
  /** Seeds the shuffle and every sample's augmentation; a non-negative integer. */
  seed: number;
  rank?: number;
  worldSize?: number;
  /** 0: decode and map on the main thread (asynchronously); N: N worker threads. Default 0. */
  numWorkers?: number;
  /** Samples in flight or ready ahead of the batch being built; default 2 * batchSize * max(1, numWorkers). */
  prefetch?: number;
  /** detectron2's DATALOADER.ASPECT_RATIO_GROUPING; default true. */
  aspectRatioGrouping?: boolean;
  mapper: MapperSpec;
  /** A state() of an earlier loader with the same settings: continue after its last batch. */
  resume?: LoaderState;
  /** Check every loaded label's values against the classes (sample_checks.ts); default true. */
  checkSamples?: boolean;
}

export interface LoaderState extends PlannerState {
  seed: number;
  rank: number;
  worldSize: number;
  datasetSize: number;
}

export interface LoaderBatch {
  samples: MappedSample[];
  /** Global stream positions of the samples (the key of each one's augmentation). */
  positions: number[];
  /** How long next() waited for the data. */
  dataTimeMs: number;
}

interface QueueEntry {
  local: number;
  /** A position restored from a state: already in a bucket, only its sample is missing. */
  restored: boolean;
  result: Promise<LoadedSample>;
}

export class TrainLoader {
  readonly batchSize: number;
  readonly numWorkers: number;
  readonly prefetch: number;
  #ds: SegDataset;
  #seed: number;
  #rank: number;
  #worldSize: number;
  #sampler: TrainingSampler;
  #planner: BatchPlanner;
  #source: SampleSource;
  #queue: QueueEntry[] = [];
  #toRestore: number[];
  #issued: number;
  #samples = new Map<number, MappedSample>();
  #failure: Error | undefined;
  #closed = false;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(o: TrainLoaderOptions) {
    const ds = o.dataset;
    check(ds.items.length > 0, 'AHS_ERR_DATASET', () => `dataset '${ds.name}' has no items to train on`);
    check(Number.isInteger(o.batchSize) && o.batchSize >= 1, 'AHS_ERR_INVALID_ARGUMENT', () => `batchSize must be a positive integer, got ${o.batchSize}`);
    const rank = o.rank ?? 0;
    const worldSize = o.worldSize ?? 1;
    checkShard(rank, worldSize);
    const numWorkers = o.numWorkers ?? 0;
    check(Number.isInteger(numWorkers) && numWorkers >= 0, 'AHS_ERR_INVALID_ARGUMENT', () => `numWorkers must be a non-negative integer, got ${o.numWorkers}`);
    const prefetch = o.prefetch ?? 2 * o.batchSize * Math.max(1, numWorkers);
    check(Number.isInteger(prefetch) && prefetch >= 1, 'AHS_ERR_INVALID_ARGUMENT', () => `prefetch must be a positive integer, got ${o.prefetch}`);
    const grouping = o.aspectRatioGrouping ?? true;
    this.#sampler = new TrainingSampler(ds.items.length, o.seed);
    if (o.resume) {
      const r = o.resume;
      const same = (what: string, saved: unknown, now: unknown): void =>
        check(saved === now, 'AHS_ERR_INVALID_ARGUMENT', () => `loader resume state was saved with ${what} ${saved}, but this loader has ${what} ${now}`);
      same('seed', r.seed, o.seed);
      same('rank', r.rank, rank);
      same('worldSize', r.worldSize, worldSize);
      same('datasetSize', r.datasetSize, ds.items.length);
    }
    this.#planner = new BatchPlanner({ batchSize: o.batchSize, grouping }, o.resume);
    this.batchSize = o.batchSize;
    this.numWorkers = numWorkers;
    this.prefetch = prefetch;
    this.#ds = ds;
    this.#seed = o.seed;
    this.#rank = rank;
    this.#worldSize = worldSize;
    this.#toRestore = this.#planner.pending();
    this.#issued = this.#planner.next;
    const settings = {
      mapper: o.mapper,
      seed: o.seed,
      space: { numClasses: ds.classNames.length, ignoreLabel: ds.ignoreLabel },
      checks: o.checkSamples ?? true,
    };
    this.#source = numWorkers === 0 ? new InlineSource(settings) : new WorkerPool(numWorkers, settings);
    this.#fill(); // start decoding before the first next()
  }

  /** Worker threads still running (0 after close()). */
  get liveWorkers(): number {
    return this.#source.liveWorkers;
  }

  /** The next batch; calls are served one after another. */
  next(): Promise<LoaderBatch> {
    const p = this.#chain.then(() => this.#next());
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** What to checkpoint: a loader built with `resume: state()` yields the batches after the last one returned. */
  state(): LoaderState {
    return { ...this.#planner.state(), seed: this.#seed, rank: this.#rank, worldSize: this.#worldSize, datasetSize: this.#ds.items.length };
  }

  /** Stops the workers (resolves once they have exited); later next() calls reject. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue = [];
    this.#samples.clear();
    await this.#source.close();
  }

  #fill(): void {
    while (this.#queue.length < this.prefetch && !this.#closed) {
      const restored = this.#toRestore.length > 0;
      const local = restored ? this.#toRestore.shift()! : this.#issued++;
      const position = localToGlobal(local, this.#rank, this.#worldSize);
      const item = this.#ds.items[this.#sampler.indexAt(position)]!;
      const result = this.#source.run({ position, item });
      result.catch(() => undefined); // reported when consumed, in stream order
      this.#queue.push({ local, restored, result });
    }
  }

  async #next(): Promise<LoaderBatch> {
    const start = performance.now();
    if (this.#closed) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'next() on a closed data loader');
    for (;;) {
      // A dead worker stops the loader at once, not only when its jobs come up.
      const failure = this.#failure ?? this.#source.failure;
      if (failure) throw (this.#failure = failure);
      this.#fill();
      const head = this.#queue.shift()!;
      let loaded: LoadedSample;
      try {
        loaded = await head.result;
      } catch (err) {
        if (!this.#closed) this.#failure = err as Error;
        throw err;
      }
      if (this.#closed) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'the data loader was closed during next()');
      this.#samples.set(head.local, loaded.sample);
      if (head.restored) continue;
      const batch = this.#planner.push(head.local, loaded.width, loaded.height);
      if (!batch) continue;
      const samples = batch.map((j) => {
        const s = this.#samples.get(j)!;
        this.#samples.delete(j);
        return s;
      });
      this.#fill();
      return { samples, positions: batch.map((j) => localToGlobal(j, this.#rank, this.#worldSize)), dataTimeMs: performance.now() - start };
    }
  }
}
