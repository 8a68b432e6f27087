// Fetches a known CLIP model's files from the Hugging Face hub into the local cache: resumable
// (`.incomplete` + `Range`), verified (size and sha256 from the hub's HEAD headers), streamed to
// disk, renamed atomically, and usable offline once complete.
//
//   HEAD <endpoint>/<repo>/resolve/<revision>/<file>   (redirect: manual, as huggingface_hub does)
//     X-Linked-Size / X-Linked-Etag on LFS files (the etag is the sha256, quoted), else
//     Content-Length / ETag (a git blob sha1 for small files: not a sha256, so size only)
//   GET the same URL (redirects followed: the hub sends LFS files to a CDN) into <file>.incomplete,
//     with `Range: bytes=<have>-` when part of it is already there
//   rename <file>.incomplete -> <file>; write <file>.meta.json {url, etag, sha256, size, commit}

import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AhsError } from '../../../errors.js';
import { cacheRoot, cachedFilePath, repoCacheDir } from './cache_dir.js';
import type { ProgressCallback } from '../../../progress.js';
import { resolveHubModel } from './registry.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';
/** A connection that delivers no byte for this long is aborted. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;
/** Automatic resumes within one call after a dropped or stalled connection. */
export const DEFAULT_RETRIES = 2;

const USER_AGENT = `ahs-seg/0.1.0; node/${process.versions.node}`;
const MAX_REDIRECTS = 5;
const MAX_RESTARTS = 2;

export interface EnsureModelOptions {
  /** Hub base URL; default `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Cache root (what `$AHS_SEG_CACHE` sets); files go to `<cacheDir>/hub/<owner>--<repo>/<revision>/`. */
  cacheDir?: string;
  /** Called as bytes arrive (see progress.ts `createProgressReporter` for a stderr bar). */
  onProgress?: ProgressCallback;
  /** Never touch the network; default: `$HF_HUB_OFFLINE` is 1/true/yes/on. */
  offline?: boolean;
  /** Abort a connection after this many ms without a byte; default `$AHS_SEG_DOWNLOAD_TIMEOUT` (s) or 60 s. */
  stallTimeoutMs?: number;
  /** Automatic resumes after a dropped or stalled connection within this call; default 2. */
  retries?: number;
  /** Pause before automatic resume number k: k * retryDelayMs; default 1000. */
  retryDelayMs?: number;
}

export interface ModelFiles {
  /** Canonical model name (the hub repository id). */
  name: string;
  repo: string;
  revision: string;
  /** Folder holding the files. */
  dir: string;
  /** File name (as in the registry) -> absolute path of the complete file. */
  files: Record<string, string>;
}

/** What a HEAD request told about a file. */
export interface RemoteFileInfo {
  url: string;
  size?: number;
  /** Normalized (unquoted, no W/) ETag: X-Linked-Etag when present, else ETag. */
  etag?: string;
  /** The etag when it is a 64-hex sha256 (LFS files). */
  sha256?: string;
  /** X-Repo-Commit: the commit `revision` resolved to. */
  commit?: string;
  /** Where the hub redirected (the CDN), when it did. */
  location?: string;
}

/** Contents of `<file>.meta.json`. */
export interface FileMeta {
  url: string;
  etag?: string;
  sha256?: string;
  size?: number;
  commit?: string;
  complete: boolean;
  downloadedAt?: string;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** `${endpoint}/${repo}/resolve/${revision}/${file}` with each path segment URL-encoded. */
export function hubFileUrl(endpoint: string, repo: string, revision: string, file: string): string {
  const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');
  return `${endpoint.replace(/\/+$/, '')}/${enc(repo)}/resolve/${encodeURIComponent(revision)}/${enc(file)}`;
}

export function resolveEndpoint(endpoint?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = endpoint ?? (env.HF_ENDPOINT !== undefined && env.HF_ENDPOINT !== '' ? env.HF_ENDPOINT : DEFAULT_ENDPOINT);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `hub endpoint ${JSON.stringify(raw)} is not a URL (from ${endpoint !== undefined ? 'options.endpoint' : 'HF_ENDPOINT'})`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `hub endpoint ${JSON.stringify(raw)} must be an http(s) URL`);
  }
  return raw.replace(/\/+$/, '');
}

/** huggingface_hub's reading of HF_HUB_OFFLINE: 1, true, yes, on (any case). */
export function isOfflineEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').trim().toLowerCase());
}

function resolveStallMs(opt: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (opt !== undefined) {
    if (!(Number.isFinite(opt) && opt > 0)) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `stallTimeoutMs must be a positive number of ms, got ${opt}`);
    }
    return opt;
  }
  const raw = env.AHS_SEG_DOWNLOAD_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_STALL_TIMEOUT_MS;
  const s = Number(raw);
  if (!(Number.isFinite(s) && s > 0)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `AHS_SEG_DOWNLOAD_TIMEOUT must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  }
  return s * 1000;
}

/** Strips a weak `W/` prefix and the quotes. */
export function normalizeEtag(etag: string | null | undefined): string | undefined {
  if (etag === null || etag === undefined) return undefined;
  let e = etag.trim();
  if (e.startsWith('W/')) e = e.slice(2);
  if (e.length >= 2 && e.startsWith('"') && e.endsWith('"')) e = e.slice(1, -1);
  return e === '' ? undefined : e;
}

function parseSize(v: string | null): number | undefined {
  if (v === null || !/^\s*\d+\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN',
  'EHOSTDOWN', 'ETIMEDOUT', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
]);

/** All `code`s on an error, its `cause` chain and AggregateError members. */
function errorCodes(err: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 8 || err === null || typeof err !== 'object') return out;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') out.push(e.code);
  if (Array.isArray(e.errors)) for (const x of e.errors) errorCodes(x, out, depth + 1);
  errorCodes(e.cause, out, depth + 1);
  return out;
}

function describeError(err: unknown): string {
  const msgs: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 6 && e !== null && e !== undefined; i++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      const m = typeof code === 'string' && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
      if (m !== '' && !msgs.includes(m)) msgs.push(m);
      e = e.cause;
    } else {
      msgs.push(String(e));
      break;
    }
  }
  return msgs.join(': ') || 'unknown error';
}

function isAbortLike(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/** The network cannot reach the hub: turned into AHS_ERR_OFFLINE by ensureModelFiles. */
export class HubUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubUnreachableError';
  }
}

/** A transfer that can be resumed: connection dropped or stalled. */
class InterruptedError extends Error {
  constructor(
    message: string,
    readonly unreachable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InterruptedError';
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function fileSize(p: string): Promise<number | undefined> {
  try {
    const st = await stat(p);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

async function readMeta(p: string): Promise<FileMeta | undefined> {
  try {
    const m = JSON.parse(await readFile(p, 'utf8')) as unknown;
    return m !== null && typeof m === 'object' ? (m as FileMeta) : undefined;
  } catch {
    return undefined;
  }
}

async function writeMeta(p: string, meta: FileMeta): Promise<void> {
  const tmp = `${p}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`);
  await rename(tmp, p);
}

async function hashFileInto(p: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(p, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
}

async function cancelBody(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    /* ignore */
  }
}

// ---------------------------------------------------------------------------------------------
// HEAD

/**
 * HEAD `url` without following redirects to another host (the first response of an LFS file is the
 * hub's 302 to the CDN, which carries X-Linked-Size / X-Linked-Etag); relative redirects (renamed
 * repositories) are followed. Throws HubUnreachableError when the host cannot be reached.
 */
export async function fetchFileInfo(url: string, timeoutMs: number = DEFAULT_STALL_TIMEOUT_MS): Promise<RemoteFileInfo> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let res: Response;
    try {
      res = await fetch(current, {
        method: 'HEAD',
        redirect: 'manual',
        headers: { 'accept-encoding': 'identity', 'user-agent': USER_AGENT },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      if (isAbortLike(err)) throw new HubUnreachableError(`no response to HEAD ${current} within ${timeoutMs / 1000} s`, { cause: err });
      if (errorCodes(err).some((c) => UNREACHABLE_CODES.has(c))) {
        throw new HubUnreachableError(`cannot reach ${new URL(current).host}: ${describeError(err)}`, { cause: err });
      }
      throw new AhsError('AHS_ERR_DOWNLOAD', `HEAD ${current} failed: ${describeError(err)}`, { cause: err });
    }
    const h = res.headers;
    if (res.status >= 300 && res.status < 400) {
      const loc = h.get('location');
      if (loc !== null && loc.startsWith('/') && !loc.startsWith('//')) {
        current = new URL(loc, current).href;
        continue;
      }
      return infoFrom(url, res, loc !== null ? new URL(loc, current).href : undefined);
    }
    if (res.ok) return infoFrom(url, res, undefined);
    if (res.status === 405 || res.status === 501) return { url }; // a mirror without HEAD: verify nothing up front
    throw httpError('HEAD', current, res);
  }
  throw new AhsError('AHS_ERR_DOWNLOAD', `HEAD ${url}: more than ${MAX_REDIRECTS} redirects`);
}

function infoFrom(url: string, res: Response, location: string | undefined): RemoteFileInfo {
  const h = res.headers;
  const info: RemoteFileInfo = { url };
  const size = parseSize(h.get('x-linked-size')) ?? (res.ok ? parseSize(h.get('content-length')) : undefined);
  if (size !== undefined) info.size = size;
  const etag = normalizeEtag(h.get('x-linked-etag') ?? h.get('etag'));
  if (etag !== undefined) info.etag = etag;
  if (etag !== undefined && /^[0-9a-f]{64}$/i.test(etag)) info.sha256 = etag.toLowerCase();
  const commit = h.get('x-repo-commit');
  if (commit !== null && commit !== '') info.commit = commit;
  if (location !== undefined) info.location = location;
  return info;
}

/** An HTTP error answer from the hub; `status` lets a caller try another file on a 404. */
export class HubHttpError extends AhsError {
  constructor(readonly status: number, message: string) {
    super('AHS_ERR_DOWNLOAD', message);
  }
}

function httpError(method: string, url: string, res: Response): HubHttpError {
  const hint =
    res.status === 404
      ? ' (no such repository, revision or file: check the model name and HF_ENDPOINT)'
      : res.status === 401 || res.status === 403
        ? ' (access denied: the repository is private or gated)'
        : '';
  const err = res.headers.get('x-error-message');
  return new HubHttpError(res.status, `${method} ${url} returned HTTP ${res.status} ${res.statusText}${hint}${err ? `: ${err}` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// GET with resume

export interface DownloadFileOptions {
  /** Name reported to onProgress. */
  file?: string;
  expected?: { size?: number; sha256?: string };
  onProgress?: ProgressCallback;
  stallTimeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
}

function parseContentRange(v: string | null): { start: number; end: number; total?: number } | undefined {
  const m = v === null ? null : /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(v);
  if (m === null) return undefined;
  const r: { start: number; end: number; total?: number } = { start: Number(m[1]), end: Number(m[2]) };
  if (m[3] !== '*') r.total = Number(m[3]);
  return r;
}

function parseUnsatisfiedRange(v: string | null): number | undefined {
  const m = v === null ? null : /^\s*bytes\s+\*\/(\d+)\s*$/i.exec(v);
  return m === null ? undefined : Number(m[1]);
}

type Attempt = { kind: 'done'; sha256: string; size: number } | { kind: 'restart'; why: string };

/**
 * Downloads `url` to `dest` through `dest.incomplete`, resuming what is there. Resolves with the
 * sha256 and size of the verified file once it is renamed into place.
 */
export async function downloadFile(url: string, dest: string, opts: DownloadFileOptions = {}): Promise<{ sha256: string; size: number }> {
  const stallMs = resolveStallMs(opts.stallTimeoutMs);
  const retries = opts.retries ?? DEFAULT_RETRIES;
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const ctx: AttemptCtx = {
    url,
    dest,
    inc: `${dest}.incomplete`,
    file: opts.file ?? path.basename(dest),
    expected: opts.expected ?? {},
    onProgress: opts.onProgress,
    stallMs,
  };
  await mkdir(path.dirname(dest), { recursive: true });
  let failures = 0;
  let restarts = 0;
  for (;;) {
    let r: Attempt;
    try {
      r = await attempt(ctx);
    } catch (err) {
      if (!(err instanceof InterruptedError)) throw err;
      if (failures < retries) {
        failures++;
        await sleep(retryDelayMs * failures);
        continue;
      }
      const kept = (await fileSize(ctx.inc)) ?? 0;
      const keptMsg = kept > 0 ? `; the ${kept} bytes received are kept in ${ctx.inc} and the next run resumes from there` : '';
      if (err.unreachable) throw new HubUnreachableError(`${err.message}${keptMsg}`, { cause: err });
      throw new AhsError('AHS_ERR_DOWNLOAD', `${err.message}${keptMsg}`, { cause: err });
    }
    if (r.kind === 'done') return { sha256: r.sha256, size: r.size };
    if (++restarts > MAX_RESTARTS) throw new AhsError('AHS_ERR_DOWNLOAD', `GET ${url}: gave up restarting (${r.why})`);
  }
}

interface AttemptCtx {
  url: string;
  dest: string;
  inc: string;
  file: string;
  expected: { size?: number; sha256?: string };
  onProgress: ProgressCallback | undefined;
  stallMs: number;
}

async function finish(ctx: AttemptCtx, hash: Hash, size: number): Promise<Attempt> {
  const actual = hash.digest('hex');
  const problems: string[] = [];
  if (ctx.expected.size !== undefined && size !== ctx.expected.size) problems.push(`expected ${ctx.expected.size} bytes, got ${size}`);
  if (ctx.expected.sha256 !== undefined && actual !== ctx.expected.sha256) problems.push(`expected sha256 ${ctx.expected.sha256}, got ${actual}`);
  if (problems.length > 0) {
    await rm(ctx.inc, { force: true });
    throw new AhsError(
      'AHS_ERR_DOWNLOAD',
      `download of ${ctx.url} is corrupt: ${problems.join('; ')}; deleted ${ctx.inc}, the next run downloads it afresh`,
    );
  }
  await rename(ctx.inc, ctx.dest);
  ctx.onProgress?.({ file: ctx.file, received: size, total: size });
  return { kind: 'done', sha256: actual, size };
}

async function attempt(ctx: AttemptCtx): Promise<Attempt> {
  const { url, inc, expected } = ctx;
  let have = (await fileSize(inc)) ?? 0;
  if (expected.size !== undefined && have > expected.size) {
    await rm(inc, { force: true });
    have = 0;
  }
  let hash = createHash('sha256');
  if (have > 0) await hashFileInto(inc, hash); // a resume: the partial bytes count too
  if (have > 0 && expected.size !== undefined && have === expected.size) return finish(ctx, hash, have);

  const ctrl = new AbortController();
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      ctrl.abort();
    }, ctx.stallMs);
  };
  const stallMsg = (n: number) =>
    `GET ${url} stalled: no data for ${ctx.stallMs / 1000} s after ${n}${expected.size !== undefined ? ` of ${expected.size}` : ''} bytes`;

  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': USER_AGENT };
  if (have > 0) headers.range = `bytes=${have}-`;
  arm();
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: ctrl.signal, redirect: 'follow' });
  } catch (err) {
    clearTimeout(timer);
    if (stalled) throw new InterruptedError(`${stallMsg(have)} (no response)`, true, { cause: err });
    const unreachable = errorCodes(err).some((c) => UNREACHABLE_CODES.has(c));
    if (unreachable) throw new InterruptedError(`GET ${url} failed: ${describeError(err)}`, true, { cause: err });
    throw new AhsError('AHS_ERR_DOWNLOAD', `GET ${url} failed: ${describeError(err)}`, { cause: err });
  }

  let total = expected.size;
  let append: boolean;
  if (res.status === 206 && have > 0) {
    const cr = parseContentRange(res.headers.get('content-range'));
    if (cr === undefined || cr.start !== have) {
      clearTimeout(timer);
      await cancelBody(res);
      await rm(inc, { force: true });
      return { kind: 'restart', why: `asked for bytes ${have}- and got Content-Range ${res.headers.get('content-range')}` };
    }
    total ??= cr.total;
    append = true;
  } else if (res.status === 200 || res.status === 206) {
    // 200 to a range request: the server ignored Range, so this is the whole file from byte 0.
    if (have > 0) {
      hash = createHash('sha256');
      have = 0;
    }
    if (res.status === 200) total ??= parseSize(res.headers.get('content-length'));
    else total ??= parseContentRange(res.headers.get('content-range'))?.total;
    append = false;
  } else if (res.status === 416 && have > 0) {
    // Nothing after byte `have`: either we have it all already, or the remote file changed.
    clearTimeout(timer);
    await cancelBody(res);
    const remoteTotal = parseUnsatisfiedRange(res.headers.get('content-range')) ?? expected.size;
    if (remoteTotal !== undefined && remoteTotal === have) return finish(ctx, hash, have);
    await rm(inc, { force: true });
    return { kind: 'restart', why: `416 for bytes ${have}- (remote size ${remoteTotal ?? 'unknown'})` };
  } else {
    clearTimeout(timer);
    await cancelBody(res);
    if (res.status >= 500 || res.status === 429) {
      throw new InterruptedError(`GET ${url} returned HTTP ${res.status} ${res.statusText}`, false);
    }
    throw httpError('GET', url, res);
  }
  if (res.body === null) {
    clearTimeout(timer);
    throw new AhsError('AHS_ERR_DOWNLOAD', `GET ${url} returned HTTP ${res.status} with no body`);
  }

  let received = have;
  let tooLong = false;
  const fh = await open(inc, append ? 'a' : 'w');
  try {
    ctx.onProgress?.({ file: ctx.file, received, total });
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        let off = 0;
        while (off < value.byteLength) {
          const { bytesWritten } = await fh.write(value, off, value.byteLength - off);
          off += bytesWritten;
        }
        hash.update(value);
        received += value.byteLength;
        ctx.onProgress?.({ file: ctx.file, received, total });
        if (total !== undefined && received > total) {
          tooLong = true;
          await reader.cancel().catch(() => undefined);
          break;
        }
      }
    } catch (err) {
      if (err instanceof AhsError) throw err;
      if (stalled) throw new InterruptedError(stallMsg(received), false, { cause: err });
      throw new InterruptedError(
        `GET ${url} was interrupted after ${received}${total !== undefined ? ` of ${total}` : ''} bytes: ${describeError(err)}`,
        false,
        { cause: err },
      );
    }
    if (!tooLong && total !== undefined && received < total) {
      throw new InterruptedError(`GET ${url} ended after ${received} of ${total} bytes`, false);
    }
    await fh.sync();
  } finally {
    clearTimeout(timer);
    await fh.close();
  }
  if (tooLong) {
    // Let finish() report the size/sha256 mismatch (and delete the file); if nothing was expected
    // up front, the response contradicted its own length, which is corrupt too.
    if (expected.size === undefined) {
      await rm(inc, { force: true });
      throw new AhsError('AHS_ERR_DOWNLOAD', `download of ${url} is corrupt: got more than the announced ${total} bytes; deleted ${inc}`);
    }
  }
  return finish(ctx, hash, received);
}

// ---------------------------------------------------------------------------------------------
// Model level

const inflight = new Map<string, Promise<void>>();

/** Is `dest` a complete file (not contradicted by its meta.json size)? Returns a note when not. */
async function completeState(dest: string): Promise<{ ok: boolean; note?: string }> {
  const size = await fileSize(dest);
  if (size === undefined) return { ok: false };
  const meta = await readMeta(`${dest}.meta.json`);
  if (meta?.complete === true && typeof meta.size === 'number' && meta.size !== size) {
    return { ok: false, note: `the file there has ${size} bytes, ${meta.size} expected` };
  }
  return { ok: true };
}

function sameRemote(a: FileMeta, b: RemoteFileInfo): boolean {
  if (a.sha256 !== undefined && b.sha256 !== undefined) return a.sha256 === b.sha256;
  if (a.etag !== undefined && b.etag !== undefined && a.etag !== b.etag) return false;
  if (a.size !== undefined && b.size !== undefined && a.size !== b.size) return false;
  return true;
}

async function fetchOne(url: string, dest: string, file: string, opts: EnsureModelOptions, stallMs: number): Promise<void> {
  const metaPath = `${dest}.meta.json`;
  const inc = `${dest}.incomplete`;
  const info = await fetchFileInfo(url, stallMs);
  await mkdir(path.dirname(dest), { recursive: true });
  const old = await readMeta(metaPath);
  if (old !== undefined && !sameRemote(old, info)) await rm(inc, { force: true }); // the partial is of another version
  const meta: FileMeta = { url, complete: false };
  if (info.etag !== undefined) meta.etag = info.etag;
  if (info.sha256 !== undefined) meta.sha256 = info.sha256;
  if (info.size !== undefined) meta.size = info.size;
  if (info.commit !== undefined) meta.commit = info.commit;
  await writeMeta(metaPath, meta);
  const expected: { size?: number; sha256?: string } = {};
  if (info.size !== undefined) expected.size = info.size;
  if (info.sha256 !== undefined) expected.sha256 = info.sha256;
  const dl: DownloadFileOptions = { file, expected, stallTimeoutMs: stallMs };
  if (opts.onProgress !== undefined) dl.onProgress = opts.onProgress;
  if (opts.retries !== undefined) dl.retries = opts.retries;
  if (opts.retryDelayMs !== undefined) dl.retryDelayMs = opts.retryDelayMs;
  const got = await downloadFile(url, dest, dl);
  await writeMeta(metaPath, { ...meta, sha256: got.sha256, size: got.size, complete: true, downloadedAt: new Date().toISOString() });
}

/** A file the cache lacks: where to get it and where it goes (and where its alternatives would). */
interface MissingFile { url: string; dest: string; note?: string; alternatives: { file: string; url: string; dest: string }[] }

function offlineError(what: string, reason: string, missing: MissingFile[], root: string): AhsError {
  const lines = [
    `${what} is not complete in the local cache and cannot be downloaded (${reason}).`,
    `Download ${missing.length === 1 ? 'this file' : 'these files'} by hand and put each at the path shown:`,
  ];
  for (const m of missing) {
    lines.push(`  ${m.url}`, `    -> ${m.dest}${m.note !== undefined ? `  (${m.note})` : ''}`);
    for (const a of m.alternatives) lines.push(`  or, where the repository has no ${path.basename(m.dest)}, ${a.url}`, `    -> ${a.dest}`);
  }
  lines.push(
    `The cache folder is ${root}; set AHS_SEG_CACHE to use another one, or HF_ENDPOINT to download from a mirror of https://huggingface.co.`,
  );
  return new AhsError('AHS_ERR_OFFLINE', lines.join('\n'));
}

/** Files of one hub repository (a model repo `owner/name`, or a Space `spaces/owner/name`). */
export interface HubFilesSpec {
  /** Name used in messages (a registry name). */
  readonly name: string;
  readonly repo: string;
  readonly revision: string;
  readonly files: readonly string[];
  /** Files fetched instead of one the repository lacks (HTTP 404), in order: older repositories
   * have pytorch_model.bin where newer ones have model.safetensors. */
  readonly alternatives?: Readonly<Record<string, readonly string[]>>;
  /** What the files are, for messages (default "model"). */
  readonly kind?: string;
}

/**
 * Makes sure every file of model `name` (a registry name or alias such as `ViT-B/16`) is in the
 * cache, downloading what is missing, and returns where they are. Complete files are used as they
 * are, without any network request.
 */
export async function ensureModelFiles(name: string, opts: EnsureModelOptions = {}): Promise<ModelFiles> {
  return ensureHubFiles({ kind: 'CLIP model', ...resolveHubModel(name) }, opts);
}

/** ensureModelFiles for any repository's files. `files` of the result is keyed by the names in
 * `spec.files`; where an alternative was fetched instead, the path is the alternative's. */
export async function ensureHubFiles(spec: HubFilesSpec, opts: EnsureModelOptions = {}): Promise<ModelFiles> {
  const endpoint = resolveEndpoint(opts.endpoint);
  const root = opts.cacheDir !== undefined ? path.resolve(opts.cacheDir) : cacheRoot();
  const stallMs = resolveStallMs(opts.stallTimeoutMs);
  if (opts.retries !== undefined && !(Number.isInteger(opts.retries) && opts.retries >= 0)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `retries must be a non-negative integer, got ${opts.retries}`);
  }
  const dir = repoCacheDir(spec.repo, spec.revision, root);
  let offlineReason: string | undefined =
    opts.offline === true ? 'offline mode was requested' : opts.offline === undefined && isOfflineEnv() ? 'HF_HUB_OFFLINE is set' : undefined;

  const files: Record<string, string> = {};
  const missing: MissingFile[] = [];
  const where = (file: string) => ({ file, url: hubFileUrl(endpoint, spec.repo, spec.revision, file), dest: cachedFilePath(spec.repo, spec.revision, file, root) });
  for (const file of spec.files) {
    const candidates = [file, ...(spec.alternatives?.[file] ?? [])].map(where);
    let note: string | undefined;
    for (const c of candidates) {
      const state = await completeState(c.dest);
      if (state.ok) { files[file] = c.dest; break; }
      if (c.file === file) note = state.note;
    }
    if (files[file] !== undefined) continue;
    const [first, ...rest] = candidates;
    const miss: MissingFile = { url: first!.url, dest: first!.dest, alternatives: rest, ...(note !== undefined ? { note } : {}) };
    if (offlineReason !== undefined) {
      missing.push(miss);
      continue;
    }
    try {
      files[file] = await fetchFirstPresent(candidates, opts, stallMs);
    } catch (err) {
      if (!(err instanceof HubUnreachableError)) throw err;
      offlineReason = err.message; // don't try the network again for the other files
      missing.push(miss);
    }
  }
  const what = `${spec.kind ?? 'model'} ${JSON.stringify(spec.name)}`;
  if (missing.length > 0) throw offlineError(what, offlineReason ?? 'offline', missing, root);
  return { name: spec.name, repo: spec.repo, revision: spec.revision, dir, files };
}

/** Downloads the first candidate the hub has (a 404 moves on to the next); returns its path. */
async function fetchFirstPresent(candidates: { file: string; url: string; dest: string }[], opts: EnsureModelOptions, stallMs: number): Promise<string> {
  const absent: string[] = [];
  for (const [i, c] of candidates.entries()) {
    let p = inflight.get(c.dest);
    if (p === undefined) {
      p = fetchOne(c.url, c.dest, c.file, opts, stallMs).finally(() => inflight.delete(c.dest));
      inflight.set(c.dest, p);
    }
    try {
      await p;
      return c.dest;
    } catch (err) {
      if (!(err instanceof HubHttpError && err.status === 404 && i < candidates.length - 1)) {
        if (absent.length > 0 && err instanceof AhsError) {
          throw new AhsError(err.code, `${err.message} (nor has it ${absent.join(' or ')})`, { cause: err });
        }
        throw err;
      }
      absent.push(c.file);
    }
  }
  throw new AhsError('AHS_ERR_INTERNAL', 'fetchFirstPresent: no candidate file'); // unreachable: the last candidate's error is thrown
}
