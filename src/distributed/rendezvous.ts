// Where the processes of a run meet (torch's init_method): a c10d TCPStore that rank 0 serves at
// tcp://HOST:PORT (one machine or several), or a c10d FileStore at file:///path (one machine, or a
// filesystem every process shares). The store only carries the rendezvous; tensors go through
// the process group's own connections.
import { AhsError, check } from '../errors.js';
import { native, type Handle } from '../tensor/native.js';

export type Rendezvous = { kind: 'tcp'; host: string; port: number } | { kind: 'file'; path: string };

/** Parses tcp://HOST:PORT or file:///abs/path; `what` names the option in errors. */
export function parseDistUrl(url: string, what = '--dist-url'): Rendezvous {
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d+)$/.exec(url);
  if (tcp) {
    const port = Number(tcp[2]);
    check(port >= 1 && port <= 65535, 'AHS_ERR_INVALID_ARGUMENT', () => `${what} ${url}: the port must be from 1 to 65535`);
    return { kind: 'tcp', host: tcp[1]!.replace(/^\[|\]$/g, ''), port };
  }
  const file = /^file:\/\/(\/.+)$/.exec(url);
  if (file) return { kind: 'file', path: file[1]! };
  throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${what} '${url}' is neither tcp://HOST:PORT (e.g. tcp://10.0.0.5:29500) nor file:///absolute/path (nor 'auto' for one machine)`);
}

export function formatRendezvous(r: Rendezvous): string {
  return r.kind === 'file' ? `file://${r.path}` : `tcp://${r.host.includes(':') ? `[${r.host}]` : r.host}:${r.port}`;
}

/** Whether every process of the run is on this machine's loopback interface. */
export function isLoopback(r: Rendezvous): boolean {
  return r.kind === 'file' || r.host === 'localhost' || /^127\./.test(r.host) || r.host === '::1';
}

export class Store {
  #h: Handle | null;
  constructor(h: Handle, readonly url: string) {
    this.#h = h;
  }
  get handle(): Handle {
    if (!this.#h) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `the store ${this.url} was closed`);
    return this.#h;
  }
  close(): void {
    if (this.#h) native().distCloseStore(this.#h);
    this.#h = null;
  }
}

export interface StoreOptions {
  rank: number;
  worldSize: number;
  timeoutMs: number;
  /** Config key or option that sets the timeout, for the message. */
  timeoutKey?: string;
}

/**
 * Joins the store. Rank 0 serves a TCPStore and waits for all processes to connect; the others
 * retry connecting until the timeout. Either way a missing peer or an unreachable address fails
 * after `timeoutMs` with an error naming the address.
 */
export async function openStore(r: Rendezvous, o: StoreOptions): Promise<Store> {
  const url = formatRendezvous(r);
  const t0 = performance.now();
  try {
    if (r.kind === 'file') return new Store(await native().distFileStore(r.path, o.worldSize, o.timeoutMs), url);
    const [h] = await native().distTcpStore(r.host, r.port, o.rank === 0, o.worldSize, o.timeoutMs);
    return new Store(h, url);
  } catch (err) {
    if (err instanceof AhsError) throw err;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const limit = `${(o.timeoutMs / 1000).toFixed(1)} s${o.timeoutKey ? ` (${o.timeoutKey})` : ''}`;
    const why = (err as Error).message.replace(/^libtorch: /, '');
    const hint = o.rank === 0
      ? r.kind === 'tcp' ? `not all ${o.worldSize} processes connected to it within ${limit}: start every machine's processes with the same --dist-url and --num-machines, or free the port if it is taken` : `not all ${o.worldSize} processes opened it within ${limit}`
      : r.kind === 'tcp' ? `it could not be reached (waited at most ${limit}): check that rank 0 (machine rank 0) runs there, that the address and port are right and that no firewall blocks the port` : `the processes did not all open it within ${limit}`;
    throw new AhsError('AHS_ERR_DIST', `rank ${o.rank} of ${o.worldSize}: the rendezvous store ${url} failed after ${secs} s: ${hint} (${why})`, { cause: err });
  }
}
