// A SegmentBackend whose model lives in its own worker thread (model_worker.ts). Requests and
// results cross as typed messages (worker_protocol.ts); buffers are transferred, not copied. If
// the worker dies, every pending request fails with an error naming the model, and so does every
// later one: nothing waits forever.
import type { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AhsError } from '../errors.js';
import { startWorker } from '../data/sample_sources.js';
import type { SegmentBackend, ServiceModelInfo, ServiceSegmentRequest, ServiceSegmentResult } from './backend.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker_protocol.js';

interface Pending { resolve: (r: ServiceSegmentResult) => void; reject: (e: Error) => void }

function workerUrl(): URL {
  const js = new URL('./model_worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./model_worker.ts', import.meta.url);
}

export class WorkerBackend implements SegmentBackend {
  model: ServiceModelInfo;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #ready = false;
  #dead: AhsError | null = null;
  /** Settles when the model is loaded (or failed to load). */
  readonly loaded: Promise<void>;

  constructor(init: WorkerInit, name: string) {
    this.model = { name, kind: 'loading', loaded: false };
    this.#worker = startWorker(workerUrl(), { workerData: init });
    let done!: () => void, fail!: (e: Error) => void;
    this.loaded = new Promise<void>((res, rej) => { done = res; fail = rej; });
    this.loaded.catch(() => {}); // reported through ready() and every request as well
    this.#worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') { this.model = m.model; this.#ready = true; done(); return; }
      if (m.type === 'failed') { this.#die(new AhsError(m.error.code, m.error.message)); fail(this.#dead!); return; }
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.type === 'result') p.resolve(m.result);
      else p.reject(new AhsError(m.error.code, m.error.message));
    });
    this.#worker.on('error', (e) => { this.#die(new AhsError('AHS_ERR_INTERNAL', `the model worker (${name}) crashed: ${e.message}`, { cause: e })); fail(this.#dead!); });
    this.#worker.on('exit', (code) => { this.#die(new AhsError('AHS_ERR_INTERNAL', `the model worker (${name}) exited with code ${code}`)); fail(this.#dead!); });
  }

  /** Why the model cannot serve (it failed to load or its worker died), else null. */
  get failure(): AhsError | null {
    return this.#dead;
  }

  ready(): boolean {
    return this.#ready && !this.#dead;
  }

  segment(req: ServiceSegmentRequest): Promise<ServiceSegmentResult> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const image = new Uint8Array(req.image); // a copy the worker can own
      const msg: ToWorker = { type: 'segment', id, image, labels: req.labels, overlay: req.overlay };
      this.#worker.postMessage(msg, [image.buffer as ArrayBuffer]);
    });
  }

  #die(e: AhsError): void {
    if (this.#dead) return;
    this.#dead = e;
    this.#ready = false;
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  async close(): Promise<void> {
    this.#die(new AhsError('AHS_ERR_NOT_READY', `the model ${this.model.name} was shut down`));
    await this.#worker.terminate();
  }
}
