// `ahs-seg serve`: the HTTP service on fastify (with @fastify/multipart for uploads,
// @fastify/static for the web page and @fastify/under-pressure for memory pressure).
//   POST /v1/segment   multipart (file `image`, field `labels`, optional `overlay`, `raw`) or
//                      JSON {"image": base64, "labels": [...] | "a, b", "overlay": bool, "raw": bool}
//                      -> {width, height, classes, labelsPng, overlayPng?, labelsRaw?, seconds}
//                      (labelsRaw: the label map as little-endian uint16, base64)
//   GET  /v1/models    the model this server runs
//   GET  /v1/presets   the benchmarks' class lists (the web page's presets)
//   GET  /healthz      alive;  GET /readyz  model loaded (503 until then)
//   GET  /             the web page (web/), and nothing outside that folder
// Limits (body, pixels, labels, queue, time) answer 4xx/503 with the catalog's JSON error body.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import underPressure from '@fastify/under-pressure';
import { AhsError } from '../errors.js';
import type { SegmentBackend, ServiceSegmentResult } from './backend.js';
import { errorBody, handleError } from './http_errors.js';
import { checkImage, DEFAULT_LIMITS, parseLabels, type ServiceLimits } from './limits.js';
import { WorkQueue } from './work_queue.js';
import { BENCHMARKS, loadClassNames } from '../data/benchmarks.js';

export interface ServerOptions {
  backend: SegmentBackend;
  limits?: Partial<ServiceLimits>;
  /** Folder served at / (the web page); null: no page. */
  staticDir?: string | null;
  /** RSS above which requests get 503 (default: none). */
  maxRssBytes?: number;
  logger?: boolean;
}

export const ROUTES = ['POST /v1/segment', 'GET /v1/models', 'GET /v1/presets', 'GET /healthz', 'GET /readyz', 'GET /'];

interface SegmentInput { image: Buffer | null; labels: unknown; overlay: boolean; raw: boolean }

const FIELDS = ['image', 'labels', 'overlay', 'raw'];

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const queue = new WorkQueue({ maxWaiting: limits.queue, timeoutMs: limits.timeoutMs });
  // base64 makes a JSON body 4/3 of the image, plus the labels.
  const app = Fastify({ logger: o.logger ?? false, bodyLimit: Math.ceil(limits.bodyBytes * 4 / 3) + 64 * 1024 });
  app.setErrorHandler((e, req, reply) => handleError(e, req, reply));
  app.setNotFoundHandler((req, reply) => handleError(
    new AhsError('AHS_ERR_NOT_FOUND', `${req.method} ${req.url.split('?')[0]} is not a route of this server (routes: ${ROUTES.join(', ')})`), req, reply));
  await app.register(multipart, { limits: { fileSize: limits.bodyBytes, files: 1, fields: 8, parts: 10 } });
  await app.register(underPressure, {
    ...(o.maxRssBytes ? { maxRssBytes: o.maxRssBytes } : {}),
    pressureHandler: (req, reply) => { void handleError(new AhsError('AHS_ERR_BUSY', 'the server is short of memory; retry shortly'), req, reply); },
  });
  if (o.staticDir) await app.register(fastifyStatic, { root: o.staticDir, prefix: '/', index: ['index.html'], dotfiles: 'deny' });

  app.get('/healthz', async () => ({ status: 'ok' }));
  const notReady = () => o.backend.failure ?? new AhsError('AHS_ERR_NOT_READY', `the model ${o.backend.model.name} is still loading; GET /readyz answers 200 when it is ready`);
  app.get('/readyz', async (req, reply) => {
    if (!o.backend.ready()) return handleError(notReady(), req, reply);
    return { status: 'ready', model: o.backend.model.name };
  });
  app.get('/v1/models', async () => ({ models: [{ ...o.backend.model, loaded: o.backend.ready() }] }));
  let presets: Record<string, string[]> | null = null;
  app.get('/v1/presets', async () => {
    presets ??= Object.fromEntries(await Promise.all(Object.values(BENCHMARKS).map(async (b) => [b.name, await loadClassNames(b)] as const)));
    return presets;
  });

  app.post('/v1/segment', async (req) => {
    const input = await readSegmentInput(req, limits);
    if (!input.image) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'no image: send it as the multipart file field `image` or as base64 in the JSON field `image`');
    const labels = parseLabels(input.labels, limits);
    await checkImage(input.image, limits);
    if (!o.backend.ready()) throw notReady();
    const t0 = performance.now();
    const r = await queue.run(() => o.backend.segment({ image: input.image!, labels, overlay: input.overlay }));
    return replyBody(r, (performance.now() - t0) / 1000, input.raw);
  });
  return app;
}

function replyBody(r: ServiceSegmentResult, seconds: number, raw: boolean): Record<string, unknown> {
  // Little-endian on the wire whatever this machine is (every browser's typed arrays are LE too).
  const le = () => { const b = Buffer.alloc(r.labels.length * 2); r.labels.forEach((v, i) => b.writeUInt16LE(v, 2 * i)); return b.toString('base64'); };
  return {
    width: r.width, height: r.height, classes: r.classes, seconds,
    labelsPng: r.labelsPng.toString('base64'),
    ...(r.overlayPng ? { overlayPng: r.overlayPng.toString('base64') } : {}),
    ...(raw ? { labelsRaw: le() } : {}),
  };
}

const truthy = (v: unknown) => v === true || (typeof v === 'string' && /^(1|true|yes|on)$/i.test(v));

async function readSegmentInput(req: FastifyRequest, limits: ServiceLimits): Promise<SegmentInput> {
  if (req.isMultipart()) {
    const out: SegmentInput = { image: null, labels: undefined, overlay: false, raw: false };
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'image') throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `multipart file field '${part.fieldname}': the image goes in the field 'image'`);
        out.image = await part.toBuffer(); // throws FST_REQ_FILE_TOO_LARGE past limits.bodyBytes
      } else if (part.fieldname === 'labels') out.labels = part.value;
      else if (part.fieldname === 'overlay') out.overlay = truthy(part.value);
      else if (part.fieldname === 'raw') out.raw = truthy(part.value);
      else throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `multipart field '${part.fieldname}' is not one of ${FIELDS.join(', ')}`);
    }
    return out;
  }
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type) || typeof req.body !== 'object' || req.body === null) {
    throw new AhsError('AHS_ERR_UNSUPPORTED_MEDIA', `POST /v1/segment takes multipart/form-data (fields image, labels) or application/json ({"image": base64, "labels": [...]}), got ${type || 'no content type'}`);
  }
  const b = req.body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!FIELDS.includes(k)) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `JSON field '${k}' is not one of ${FIELDS.join(', ')}`);
  if (b.image !== undefined && typeof b.image !== 'string') throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'JSON field image must be the image file base64-encoded, as a string');
  const image = typeof b.image === 'string' ? Buffer.from(b.image.replace(/^data:[^,]*,/, ''), 'base64') : null;
  if (image && image.length > limits.bodyBytes) throw new AhsError('AHS_ERR_TOO_LARGE', `the image is ${image.length} bytes, more than this server's limit of ${limits.bodyBytes}`);
  return { image, labels: b.labels, overlay: truthy(b.overlay), raw: truthy(b.raw) };
}

export { errorBody };
