// The server's bounded work queue: one model, so requests run one at a time in arrival order;
// at most `maxWaiting` wait, the next one is refused at once (503 with Retry-After, estimated
// from the recent run times) instead of piling up memory and latency. A request that times out
// while waiting leaves the queue; one that times out while running is abandoned by its caller
// (the model call itself cannot be interrupted) and its slot frees when it ends.
import { AhsError } from '../errors.js';

export interface WorkQueueOptions {
  /** Requests allowed to wait behind the running one. */
  maxWaiting: number;
  /** Per-request limit from arrival to result, in ms. */
  timeoutMs: number;
}

interface Waiting { start: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

export class WorkQueue {
  #running = false;
  readonly #waiting: Waiting[] = [];
  #recentMs: number[] = [];

  constructor(readonly opts: WorkQueueOptions) {}

  get waiting(): number {
    return this.#waiting.length;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Seconds a new request can expect to wait (for Retry-After): the queue times the mean run. */
  retryAfterSeconds(): number {
    const mean = this.#recentMs.length ? this.#recentMs.reduce((a, b) => a + b, 0) / this.#recentMs.length : 1000;
    return Math.max(1, Math.ceil(((this.#waiting.length + 1) * mean) / 1000));
  }

  /** Runs `job` when its turn comes; rejects with AHS_ERR_BUSY when the queue is full and with
   * AHS_ERR_TIMEOUT when the whole request takes longer than the limit. */
  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running && this.#waiting.length >= this.opts.maxWaiting) {
      const e = new AhsError('AHS_ERR_BUSY', `${this.#waiting.length} requests are already waiting (the queue limit); retry after ${this.retryAfterSeconds()} s`);
      return Promise.reject(Object.assign(e, { retryAfter: this.retryAfterSeconds() }));
    }
    const limit = this.opts.timeoutMs;
    const timeout = () => Object.assign(new AhsError('AHS_ERR_TIMEOUT', `the request did not finish within ${Math.round(limit / 1000)} s (the server's per-request limit)`), { retryAfter: this.retryAfterSeconds() });
    return new Promise<T>((resolve, reject) => {
      const arrived = Date.now();
      const start = () => {
        this.#running = true;
        const left = limit - (Date.now() - arrived);
        let settled = false;
        const timer = setTimeout(() => { settled = true; reject(timeout()); }, Math.max(0, left));
        const t0 = Date.now();
        job().then(
          (v) => { if (!settled) resolve(v); },
          (e: unknown) => { if (!settled) reject(e); },
        ).finally(() => {
          clearTimeout(timer);
          this.#recentMs = [...this.#recentMs.slice(-9), Date.now() - t0];
          this.#running = false;
          this.#next();
        });
      };
      if (!this.#running) { start(); return; }
      const entry: Waiting = {
        start,
        reject,
        timer: setTimeout(() => {
          const i = this.#waiting.indexOf(entry);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(timeout());
        }, limit),
      };
      this.#waiting.push(entry);
    });
  }

  #next(): void {
    const w = this.#waiting.shift();
    if (!w) return;
    clearTimeout(w.timer);
    w.start();
  }
}
