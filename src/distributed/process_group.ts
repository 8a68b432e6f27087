// A c10d process group (ProcessGroupGloo on the CPU, ProcessGroupNCCL on CUDA when libtorch has
// it) and the collectives data parallelism needs. Each call waits in native code off the JS
// thread, with a timeout: a peer that died or stalled makes it fail, never hang, and the error
// names this rank, the operation and what it was for.
import { AhsError } from '../errors.js';
import type { Device } from '../tensor/dtype.js';
import { native, type Handle } from '../tensor/native.js';
import { Tensor } from '../tensor/tensor.js';
import type { Store } from './rendezvous.js';

export type Backend = 'gloo' | 'nccl';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  backend: Backend;
  timeoutMs: number;
  /** Config key or option that sets the timeout, for messages. */
  timeoutKey?: string;
  /** Gloo: network interface to use (GLOO_SOCKET_IFNAME), or the address peers reach this process at. */
  iface?: string;
  hostname?: string;
  /** Where the group's small tensors (masks, JSON bytes) live: NCCL reduces CUDA tensors only. */
  device?: Device;
}

/** The backends compiled into the addon ('gloo'; 'nccl' with a CUDA libtorch). */
export function availableBackends(): Backend[] {
  return native().distBackends() as Backend[];
}

export class ProcessGroup {
  #h: Handle | null;
  #chain: Promise<unknown> = Promise.resolve();
  #broken: AhsError | null = null;

  private constructor(h: Handle, readonly o: ProcessGroupOptions, readonly storeUrl: string) {
    this.#h = h;
  }

  get rank(): number {
    return this.o.rank;
  }
  get worldSize(): number {
    return this.o.worldSize;
  }
  get device(): Device {
    return this.o.device ?? 'cpu';
  }

  /** Connects all processes pairwise through the store (waits for every one of them). */
  static async init(store: Store, o: ProcessGroupOptions): Promise<ProcessGroup> {
    const backends = availableBackends();
    if (!backends.includes(o.backend)) {
      throw new AhsError('AHS_ERR_DEVICE', `the ${o.backend} backend is not in this build of the native addon (it has: ${backends.join(', ') || 'none'}); ${o.backend === 'nccl' ? 'NCCL needs a CUDA build of libtorch (set LIBTORCH and rebuild: npm run build:native)' : 'install libgloo-dev and rebuild: npm run build:native'}`);
    }
    const t0 = performance.now();
    try {
      const h = await native().distProcessGroup(store.handle, o.rank, o.worldSize, o.backend, o.timeoutMs, o.iface ?? '', o.hostname ?? '');
      return new ProcessGroup(h, o, store.url);
    } catch (err) {
      throw describe(o, `joining the ${o.backend} group at ${store.url}`, t0, err);
    }
  }

  get #handle(): Handle {
    if (this.#broken) throw this.#broken;
    if (!this.#h) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `rank ${this.rank}: the process group was destroyed`);
    return this.#h;
  }

  /** Runs collectives one after another (every rank must issue them in the same order). */
  #run<T>(what: string, call: (h: Handle) => Promise<T>): Promise<T> {
    const p = this.#chain.then(async () => {
      const h = this.#handle;
      const t0 = performance.now();
      try {
        return await call(h);
      } catch (err) {
        throw (this.#broken = describe(this.o, what, t0, err));
      }
    });
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** In place: t = sum over ranks of t. */
  allreduceSum(t: Tensor, what: string): Promise<void> {
    return this.#run(`allreduce of ${what}`, (h) => native().distAllreduceSum(h, t.handle, this.o.timeoutMs));
  }

  /** In place: t = rank `root`'s t. */
  broadcast(t: Tensor, root: number, what: string): Promise<void> {
    return this.#run(`broadcast of ${what} from rank ${root}`, (h) => native().distBroadcast(h, t.handle, root, this.o.timeoutMs));
  }

  /** Every rank's t (same shape and dtype everywhere), by rank. */
  allGather(t: Tensor, what: string): Promise<Tensor[]> {
    return this.#run(`all-gather of ${what}`, async (h) => (await native().distAllgather(h, t.handle, this.worldSize, this.o.timeoutMs)).map((x) => new Tensor(x)));
  }

  /** Returns once every rank has reached it. */
  barrier(what: string): Promise<void> {
    return this.#run(`barrier (${what})`, (h) => native().distBarrier(h, this.o.timeoutMs));
  }

  /** Releases the group (a broken one is left to process exit: its threads may still wait). */
  destroy(): void {
    if (this.#h) native().distDestroyGroup(this.#h);
    this.#h = null;
  }
}

/** The native failure as an AhsError naming rank, operation, time waited and the likely cause. */
function describe(o: ProcessGroupOptions, what: string, t0: number, err: unknown): AhsError {
  if (err instanceof AhsError) return err;
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const why = ((err as Error).message ?? String(err)).replace(/^libtorch: /, '').trim();
  const limit = `${(o.timeoutMs / 1000).toFixed(1)} s${o.timeoutKey ? ` (${o.timeoutKey})` : ''}`;
  const timedOut = /timed? ?out/i.test(why);
  const hint = what.startsWith('joining')
    ? `not all ${o.worldSize} processes joined within ${limit}: start every machine with the same --dist-url and --num-machines, and let the machines reach each other (GLOO_SOCKET_IFNAME names the network interface to use)`
    : timedOut
    ? `no answer from the other processes within ${limit}: one of them has died, stalled, or is not running the same step`
    : 'another process of the group has died or closed its connection (look for the first error of another rank)';
  return new AhsError('AHS_ERR_DIST', `rank ${o.rank} of ${o.worldSize}: ${what} failed after ${secs} s: ${hint} (${why})`, { cause: err });
}
