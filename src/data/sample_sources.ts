// Where the loader's jobs run: on the main thread (numWorkers 0; decoding is still asynchronous in
// sharp's thread pool, the mapper runs between other work) or in a pool of worker threads.
//
// A worker that dies (process.exit in it, an uncaught exception, a crash, a module that does not
// load) fails the whole pool: every job in flight and every later one rejects with an error naming
// the worker, its exit code and the files it was loading, and the other workers are terminated.
// Workers are unref'd while idle so that a loader nobody closed does not keep the process alive.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { AhsError } from '../errors.js';
import { deserializeError, importMapper, loadAndMap, type LoadedSample, type LoadSettings, type MapperFn, type SampleJob } from './load_sample.js';
import type { JobMessage, ResultMessage } from './loader_worker.js';

export interface SampleSource {
  run(job: SampleJob): Promise<LoadedSample>;
  close(): Promise<void>;
  /** Set once the source cannot run jobs any more. */
  readonly failure: Error | undefined;
  /** Worker threads not yet exited. */
  readonly liveWorkers: number;
}

export class InlineSource implements SampleSource {
  readonly liveWorkers = 0;
  readonly failure: Error | undefined = undefined;
  #mapper: Promise<MapperFn> | undefined;
  constructor(private readonly settings: LoadSettings) {}

  async run(job: SampleJob): Promise<LoadedSample> {
    this.#mapper ??= importMapper(this.settings.mapper);
    return loadAndMap(job, this.settings, await this.#mapper);
  }

  async close(): Promise<void> {}
}

/** loader_worker.js next to the compiled module (dist), else the .ts source (run under tsx). */
export function workerModuleUrl(): URL {
  const js = new URL('./loader_worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./loader_worker.ts', import.meta.url);
}

/**
 * A worker for `url`. Node 20 does not carry `--import tsx` (or the tsx CLI's loader) into worker
 * threads, not even with an explicit execArgv: a .ts worker would fail with 'Unknown file
 * extension'; and tsx's own entry (what `--import tsx` runs) registers its hooks only on the main
 * thread before Node 22. So a .ts worker starts from a one-line bootstrap that registers tsx's ESM
 * hooks in the worker (tsx/esm/api register()) and then imports the worker module. Compiled .js
 * workers (dist/) start directly.
 */
export function startWorker(url: URL, options: WorkerOptions): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  let tsx: string;
  try {
    tsx = import.meta.resolve('tsx/esm/api');
  } catch (err) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `the data loader worker ${url.pathname} is TypeScript and tsx cannot be found to run it: build with npm run build:ts and run dist/, or install tsx (${(err as Error).message})`, { cause: err });
  }
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

interface Pending {
  job: SampleJob;
  resolve: (r: LoadedSample) => void;
  reject: (e: Error) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  pending: Map<number, Pending>;
  exited: Promise<void>;
  /** Has answered a job (so its module loaded). */
  started: boolean;
}

export class WorkerPool implements SampleSource {
  #slots: Slot[];
  #nextId = 0;
  #live = 0;
  #closing = false;
  #failure: Error | undefined;

  constructor(numWorkers: number, settings: LoadSettings) {
    const url = workerModuleUrl();
    this.#slots = [];
    try {
      for (let i = 0; i < numWorkers; i++) this.#slots.push(this.#spawn(i, url, settings));
    } catch (err) {
      void this.close();
      // new Worker clones workerData at once: this is where unclonable mapper options fail.
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `could not start data loader workers: ${(err as Error).message} (mapper options must be structured-clonable)`, { cause: err });
    }
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  get liveWorkers(): number {
    return this.#live;
  }

  #spawn(index: number, url: URL, settings: LoadSettings): Slot {
    const worker = startWorker(url, { workerData: settings, name: `ahs-seg data loader ${index}` });
    this.#live++;
    worker.unref();
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const slot: Slot = { index, worker, pending: new Map(), exited, started: false };
    worker.once('exit', (code) => {
      this.#live--;
      if (!this.#closing) this.#fail(slot, `exited with code ${code}`);
      markExited();
    });
    worker.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const hint = !slot.started && /MODULE|EXTENSION/.test(code) ? ` (its module ${url.pathname} did not load)` : '';
      this.#fail(slot, `failed: ${err.message}${hint}`);
    });
    worker.on('message', (msg: ResultMessage) => {
      slot.started = true;
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (slot.pending.size === 0) worker.unref();
      if (msg.ok) p.resolve(msg.result);
      else p.reject(deserializeError(msg.error));
    });
    return slot;
  }

  #fail(slot: Slot, what: string): void {
    if (this.#failure) return;
    const files = [...slot.pending.values()].map((p) => `'${p.job.item.imagePath}'`);
    const loading = files.length > 0 ? ` while loading ${files.slice(0, 5).join(', ')}${files.length > 5 ? ', ...' : ''}` : '';
    this.#failure = new AhsError('AHS_ERR_DATASET', `data loader worker ${slot.index} ${what}${loading}; the loader has stopped`);
    for (const s of this.#slots) {
      for (const p of s.pending.values()) p.reject(this.#failure);
      s.pending.clear();
      void s.worker.terminate();
    }
  }

  run(job: SampleJob): Promise<LoadedSample> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closing) return Promise.reject(new AhsError('AHS_ERR_INVALID_ARGUMENT', 'the data loader is closed'));
    // The least busy worker; which one runs a job cannot change its result (see load_sample.ts).
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.#nextId++;
    return new Promise<LoadedSample>((resolve, reject) => {
      slot.pending.set(id, { job, resolve, reject });
      if (slot.pending.size === 1) slot.worker.ref();
      const msg: JobMessage = { id, job };
      slot.worker.postMessage(msg);
    });
  }

  /** Terminates every worker and resolves once all have exited. */
  async close(): Promise<void> {
    this.#closing = true;
    const closed = new AhsError('AHS_ERR_INVALID_ARGUMENT', 'the data loader was closed');
    for (const s of this.#slots) {
      for (const p of s.pending.values()) p.reject(closed);
      s.pending.clear();
      void s.worker.terminate();
    }
    await Promise.all(this.#slots.map((s) => s.exited));
  }
}
