// `ahs-seg serve`: the HTTP service and the web page, with the model in its own worker thread.
// The server answers at once (/healthz), /readyz turns 200 when the model is loaded.
import { fileURLToPath } from 'node:url';
import { buildServer } from '../../service/server.js';
import { DEFAULT_LIMITS } from '../../service/limits.js';
import { WorkerBackend } from '../../service/worker_backend.js';
import type { Protocol } from '../../api/dense_backend.js';

export interface ServeCliOptions {
  port: number;
  host: string;
  model?: string;
  clip?: string;
  config?: string;
  mode?: Protocol;
  queue: number;
  timeout: number;
  maxBodyMb: number;
  maxPixelsMp: number;
  maxLabels: number;
}

const WEB = fileURLToPath(new URL('../../../web/', import.meta.url));

export async function serve(opts: ServeCliOptions): Promise<void> {
  const name = opts.model ?? opts.clip ?? 'clip-vit-b16';
  const backend = new WorkerBackend({
    options: { ...(opts.model ? { model: opts.model } : {}), ...(opts.clip ? { clip: opts.clip } : {}), ...(opts.config ? { config: opts.config } : {}), ...(opts.mode ? { mode: opts.mode } : {}) },
  }, name);
  const app = await buildServer({
    backend, staticDir: WEB, logger: false,
    limits: { ...DEFAULT_LIMITS, queue: opts.queue, timeoutMs: opts.timeout * 1000, bodyBytes: opts.maxBodyMb * 1024 * 1024, imagePixels: opts.maxPixelsMp * 1e6, labels: opts.maxLabels },
  });
  const url = await app.listen({ host: opts.host, port: opts.port });
  process.stderr.write(`ahs-seg serve: ${url} (web page at /, API at /v1/segment); loading ${name}…\n`);
  backend.loaded.then(
    () => process.stderr.write(`ahs-seg serve: ${backend.model.name} ready (${backend.model.kind})\n`),
    (e: Error) => process.stderr.write(`ahs-seg serve: the model cannot be loaded: ${e.message}\n`),
  );
  const stop = async () => { await app.close(); await backend.close(); process.exit(0); };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
