// Hub download tests against a fake Hugging Face hub on 127.0.0.1 (node:http): HEAD with
// X-Linked-Size / X-Linked-Etag, Range (206/416), CDN-style redirects, cut connections, stalls,
// corrupted bytes, and a closed port.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AhsError, type ErrorCode } from '../../../src/errors.js';
import { cacheRoot, cachedFilePath, repoCacheDir } from '../../../src/models/clip/hub/cache_dir.js';
import { ensureModelFiles, hubFileUrl, normalizeEtag } from '../../../src/models/clip/hub/download.js';
import type { DownloadProgress } from '../../../src/progress.js';
import { HUB_MODELS, knownModelNames, resolveHubModel } from '../../../src/models/clip/hub/registry.js';

const REPO = 'openai/clip-vit-base-patch16';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

// ------------------------------------------------------------------------------------------------
// Fake hub

interface Req {
  method: string;
  path: string;
  range: string | undefined;
  status?: number;
  bytesSent?: number;
}

interface Behaviour {
  /** 302 the LFS file to /cdn/<sha256> (absolute URL), like the real hub. */
  redirect: boolean;
  /** Cut the connection after this many body bytes of the next GET of model.safetensors (one shot). */
  cutOnce: number | undefined;
  /** Send this many body bytes of the next GET of model.safetensors, then go silent (one shot). */
  stallOnce: number | undefined;
  /** Serve model.safetensors with flipped bytes (same length, wrong sha256). */
  corrupt: boolean;
  /** Answer Range requests with 200 and the whole file. */
  ignoreRange: boolean;
  /** HEAD answers with no size/etag headers at all. */
  bareHead: boolean;
}

class FakeHub {
  readonly server: http.Server;
  readonly sockets = new Set<Socket>();
  readonly requests: Req[] = [];
  files = new Map<string, { data: Buffer; lfs: boolean }>();
  b: Behaviour = { redirect: false, cutOnce: undefined, stallOnce: undefined, corrupt: false, ignoreRange: false, bareHead: false };
  port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  setRepo(config: Buffer, model: Buffer): void {
    this.files = new Map([
      [`/${REPO}/resolve/main/config.json`, { data: config, lfs: false }],
      [`/${REPO}/resolve/main/model.safetensors`, { data: model, lfs: true }],
    ]);
  }

  reset(): void {
    this.requests.length = 0;
    this.b = { redirect: false, cutOnce: undefined, stallOnce: undefined, corrupt: false, ignoreRange: false, bareHead: false };
  }

  count(method?: string, pathPart?: string): number {
    return this.requests.filter((r) => (method === undefined || r.method === method) && (pathPart === undefined || r.path.includes(pathPart))).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.base);
    const rec: Req = { method: req.method ?? '', path: url.pathname, range: req.headers.range };
    this.requests.push(rec);
    res.on('finish', () => (rec.status = res.statusCode));
    rec.status = 0;

    // A renamed repository: the hub answers with a *relative* redirect.
    if (url.pathname.startsWith('/moved/')) {
      res.writeHead(307, { location: url.pathname.slice('/moved'.length) });
      res.end();
      return;
    }
    let entry: { data: Buffer; lfs: boolean } | undefined;
    let viaCdn = false;
    if (url.pathname.startsWith('/cdn/')) {
      const want = url.pathname.slice('/cdn/'.length);
      entry = [...this.files.values()].find((f) => sha256(f.data) === want);
      viaCdn = true;
    } else {
      entry = this.files.get(url.pathname);
    }
    if (entry === undefined) {
      res.writeHead(404, { 'x-error-message': 'Entry not found' });
      res.end();
      return;
    }
    const { data, lfs } = entry;
    const linked: Record<string, string> = {};
    if (!viaCdn && !this.b.bareHead) {
      linked['x-repo-commit'] = 'c0ffee'.padEnd(40, '0');
      if (lfs) {
        linked['x-linked-size'] = String(data.length);
        linked['x-linked-etag'] = `"${sha256(data)}"`;
        linked.etag = `"${sha256(data)}"`;
      } else {
        linked.etag = `"${sha1(data)}"`; // small files: the git blob id, not a sha256
      }
    }
    if (lfs && this.b.redirect && !viaCdn) {
      res.writeHead(302, { ...linked, location: `${this.base}/cdn/${sha256(data)}`, 'content-length': '0' });
      res.end();
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...(this.b.bareHead ? {} : { 'content-length': String(data.length) }), 'accept-ranges': 'bytes', ...linked });
      res.end();
      return;
    }
    let body = data;
    if (lfs && this.b.corrupt) {
      body = Buffer.from(data);
      for (let i = 0; i < body.length; i += 4096) body[i] = body[i]! ^ 0xff;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m !== null && !this.b.ignoreRange) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      res.writeHead(206, {
        'content-length': String(body.length - start),
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': String(body.length), 'accept-ranges': 'bytes' });
    }
    const rest = body.subarray(start);
    if (lfs && this.b.cutOnce !== undefined) {
      const n = this.b.cutOnce;
      this.b.cutOnce = undefined;
      rec.bytesSent = n;
      res.write(rest.subarray(0, n), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (lfs && this.b.stallOnce !== undefined) {
      const n = this.b.stallOnce;
      this.b.stallOnce = undefined;
      rec.bytesSent = n;
      res.write(rest.subarray(0, n)); // ...and then nothing, until stop() destroys the socket
      return;
    }
    rec.bytesSent = rest.length;
    res.end(rest);
  }
}

// ------------------------------------------------------------------------------------------------

async function rejectsAhs(p: Promise<unknown>, code: ErrorCode, ...patterns: (string | RegExp)[]): Promise<AhsError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AhsError, `expected an AhsError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const pat of patterns) {
    if (typeof pat === 'string') assert.ok(caught.message.includes(pat), `message lacks ${JSON.stringify(pat)}:\n${caught.message}`);
    else assert.match(caught.message, pat);
  }
  return caught;
}

const ENV_KEYS = ['AHS_SEG_CACHE', 'XDG_CACHE_HOME', 'HF_ENDPOINT', 'HF_HUB_OFFLINE', 'AHS_SEG_DOWNLOAD_TIMEOUT'] as const;

describe('hub registry and cache layout', () => {
  it('resolves canonical names and the OpenAI aliases CAT-Seg configs use', () => {
    // If this fails, configs with CLIP_PRETRAINED "ViT-B/16" / "ViT-L/14@336px" cannot find their weights.
    assert.equal(resolveHubModel('ViT-B/16').repo, 'openai/clip-vit-base-patch16');
    assert.equal(resolveHubModel('ViT-L/14@336px').repo, 'openai/clip-vit-large-patch14-336');
    assert.equal(resolveHubModel('openai/clip-vit-large-patch14-336').repo, 'openai/clip-vit-large-patch14-336');
    assert.equal(resolveHubModel(' vit-b/16 ').name, 'openai/clip-vit-base-patch16');
    for (const m of HUB_MODELS) {
      assert.equal(m.revision, 'main');
      assert.deepEqual([...m.files], ['config.json', 'model.safetensors']);
    }
    assert.equal(knownModelNames().length, 4);
  });

  it('rejects unknown names listing the known ones', () => {
    // If this fails, a typo in a config gives an unhelpful error (or a request for a nonexistent repo).
    assert.throws(
      () => resolveHubModel('ViT-H/14'),
      (err: unknown) => err instanceof AhsError && err.code === 'AHS_ERR_INVALID_ARGUMENT' && err.message.includes('ViT-L/14@336px'),
    );
  });

  it('picks the cache root from AHS_SEG_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    // If this fails, downloads land somewhere the user did not ask for.
    assert.equal(cacheRoot({ AHS_SEG_CACHE: '/a/b', XDG_CACHE_HOME: '/x' }), path.resolve('/a/b'));
    assert.equal(cacheRoot({ XDG_CACHE_HOME: '/x' }), path.resolve('/x/ahs-seg'));
    assert.equal(cacheRoot({ AHS_SEG_CACHE: '', XDG_CACHE_HOME: '' }).endsWith(path.join('.cache', 'ahs-seg')), true);
  });

  it('lays files out as <cache>/hub/<owner>--<repo>/<revision>/<file> and URLs as <endpoint>/<repo>/resolve/<rev>/<file>', () => {
    // If this fails, the documented layout (which users fill by hand when offline) is not the one read.
    assert.equal(repoCacheDir(REPO, 'main', '/c'), path.resolve('/c/hub/openai--clip-vit-base-patch16/main'));
    assert.equal(cachedFilePath(REPO, 'main', 'model.safetensors', '/c'), path.resolve('/c/hub/openai--clip-vit-base-patch16/main/model.safetensors'));
    assert.throws(() => cachedFilePath(REPO, 'main', '../evil', '/c'), /invalid file name/);
    assert.equal(hubFileUrl('https://huggingface.co/', REPO, 'main', 'config.json'), 'https://huggingface.co/openai/clip-vit-base-patch16/resolve/main/config.json');
    assert.equal(normalizeEtag('W/"abc"'), 'abc');
    assert.equal(normalizeEtag('"abc"'), 'abc');
  });
});

describe('ensureModelFiles against a fake hub', () => {
  const hub = new FakeHub();
  const config = Buffer.from(JSON.stringify({ model_type: 'clip', projection_dim: 512 }));
  const model = randomBytes(2 * 1024 * 1024 + 4321);
  const modelSha = sha256(model);
  const savedEnv: Record<string, string | undefined> = {};
  let cache = '';
  const tmpRoots: string[] = [];

  before(async () => {
    await hub.start();
  });
  after(async () => {
    await hub.stop();
    for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
  });
  beforeEach(() => {
    for (const k of ENV_KEYS) {
      savedEnv[k] = process.env[k];
      delete process.env[k];
    }
    cache = mkdtempSync(path.join(tmpdir(), 'ahs-hub-'));
    tmpRoots.push(cache);
    hub.reset();
    hub.setRepo(config, model);
  });
  afterEach(() => {
    for (const k of ENV_KEYS) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
  });

  const dirOf = (root: string) => repoCacheDir(REPO, 'main', root);
  const opts = (extra: Record<string, unknown> = {}) => ({ endpoint: hub.base, cacheDir: cache, retries: 0, retryDelayMs: 10, ...extra });

  it('downloads both files, verifies them and writes meta.json', async () => {
    // If this fails, a plain first download is broken: wrong paths, wrong bytes, or no metadata for offline use.
    const events: DownloadProgress[] = [];
    const r = await ensureModelFiles('ViT-B/16', opts({ onProgress: (p: DownloadProgress) => events.push({ ...p }) }));
    assert.equal(r.dir, dirOf(cache));
    assert.equal(r.name, REPO);
    assert.deepEqual(Object.keys(r.files).sort(), ['config.json', 'model.safetensors']);
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    assert.deepEqual(readFileSync(r.files['config.json']!), config);
    assert.ok(!existsSync(`${r.files['model.safetensors']}.incomplete`));
    const meta = JSON.parse(readFileSync(`${r.files['model.safetensors']}.meta.json`, 'utf8'));
    assert.equal(meta.sha256, modelSha);
    assert.equal(meta.etag, modelSha);
    assert.equal(meta.size, model.length);
    assert.equal(meta.complete, true);
    assert.equal(meta.commit, 'c0ffee'.padEnd(40, '0'));
    const cmeta = JSON.parse(readFileSync(`${r.files['config.json']}.meta.json`, 'utf8'));
    assert.equal(cmeta.etag, sha1(config)); // a git sha1: kept as the etag, not mistaken for a sha256
    assert.equal(cmeta.sha256, sha256(config)); // what we computed
    // one HEAD + one GET per file, no Range on a fresh download
    assert.equal(hub.count('HEAD'), 2);
    assert.equal(hub.count('GET'), 2);
    assert.ok(hub.requests.every((q) => q.range === undefined));
    const mp = events.filter((e) => e.file === 'model.safetensors');
    assert.ok(mp.length > 2);
    for (let i = 1; i < mp.length; i++) assert.ok(mp[i]!.received >= mp[i - 1]!.received);
    assert.deepEqual(mp.at(-1), { file: 'model.safetensors', received: model.length, total: model.length });
  });

  it('a second call does not touch the network', async () => {
    // If this fails, every model load re-contacts (or re-downloads from) the hub.
    await ensureModelFiles(REPO, opts());
    const n = hub.requests.length;
    const r = await ensureModelFiles('ViT-B/16', opts());
    assert.equal(hub.requests.length, n);
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
  });

  it('(a) resumes an interrupted download with Range from the partial file', async () => {
    // If this fails, an interrupted 600 MB download restarts from zero, or a resume yields wrong bytes.
    hub.b.cutOnce = 700_000;
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_DOWNLOAD', /interrupted after \d+ of \d+ bytes/, 'kept in', 'resumes');
    const dest = cachedFilePath(REPO, 'main', 'model.safetensors', cache);
    assert.ok(!existsSync(dest), 'no final file after an interrupted download');
    const have = statSync(`${dest}.incomplete`).size;
    assert.ok(have > 0 && have <= 700_000, `partial has ${have} bytes`);

    hub.requests.length = 0;
    const r = await ensureModelFiles(REPO, opts());
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    const gets = hub.requests.filter((q) => q.method === 'GET' && q.path.endsWith('model.safetensors'));
    assert.equal(gets.length, 1);
    assert.equal(gets[0]!.range, `bytes=${have}-`);
    assert.equal(gets[0]!.status, 206);
    assert.equal(gets[0]!.bytesSent, model.length - have, 'only the missing bytes travel');
    assert.ok(!existsSync(`${dest}.incomplete`));
    assert.equal(hub.count('GET', 'config.json'), 0, 'config.json was already complete');
  });

  it('(a) resumes within one call when retries are allowed', async () => {
    // If this fails, a dropped connection aborts the whole download instead of picking up where it was.
    hub.b.cutOnce = 500_000;
    const r = await ensureModelFiles(REPO, opts({ retries: 1 }));
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    const gets = hub.requests.filter((q) => q.method === 'GET' && q.path.endsWith('model.safetensors'));
    assert.equal(gets.length, 2);
    assert.match(gets[1]!.range ?? '', /^bytes=[1-9]\d*-$/);
  });

  it('(b) rejects corrupted bytes against X-Linked-Etag and leaves no file behind', async () => {
    // If this fails, a corrupted or tampered model file is accepted as the real weights.
    hub.b.corrupt = true;
    const url = hubFileUrl(hub.base, REPO, 'main', 'model.safetensors');
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_DOWNLOAD', url, `expected sha256 ${modelSha}`, /got [0-9a-f]{64}/);
    const dest = cachedFilePath(REPO, 'main', 'model.safetensors', cache);
    assert.ok(!existsSync(dest));
    assert.ok(!existsSync(`${dest}.incomplete`));
    // and a later clean download works
    hub.b.corrupt = false;
    const r = await ensureModelFiles(REPO, opts());
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
  });

  it('(c) follows the hub redirect to the CDN for GET, reads HEAD headers from the 302 itself', async () => {
    // If this fails, LFS files (always redirected by the real hub) cannot be downloaded or are not verified.
    hub.b.redirect = true;
    hub.b.corrupt = true; // the CDN copy is bad: only the 302's X-Linked-Etag can tell
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_DOWNLOAD', `expected sha256 ${modelSha}`);
    assert.equal(hub.count('HEAD', '/cdn/'), 0, 'HEAD must not follow the redirect to the CDN');
    hub.b.corrupt = false;
    hub.requests.length = 0;
    hub.b.cutOnce = 600_000;
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_DOWNLOAD', 'interrupted');
    const r = await ensureModelFiles(REPO, opts());
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    const cdnGets = hub.requests.filter((q) => q.method === 'GET' && q.path.startsWith('/cdn/'));
    assert.equal(cdnGets.length, 2);
    assert.match(cdnGets[1]!.range ?? '', /^bytes=[1-9]\d*-$/, 'the Range header survives the redirect');
    assert.equal(cdnGets[1]!.status, 206);
  });

  it('follows relative redirects (a renamed repository) for HEAD and GET', async () => {
    // If this fails, a repository renamed on the hub (hub answers 307 with a relative Location) breaks.
    const r = await ensureModelFiles(REPO, opts({ endpoint: `${hub.base}/moved` }));
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    assert.equal(hub.count('HEAD', '/moved/'), 2);
    assert.equal(hub.requests.filter((q) => q.method === 'HEAD' && !q.path.startsWith('/moved/')).length, 2);
    const meta = JSON.parse(readFileSync(`${r.files['model.safetensors']}.meta.json`, 'utf8'));
    assert.equal(meta.sha256, modelSha);
  });

  it('(d) a closed port gives AHS_ERR_OFFLINE naming every URL and destination path', async () => {
    // If this fails, a user without network gets a raw fetch error instead of instructions.
    const down = new FakeHub();
    await down.start();
    const base = down.base;
    await down.stop();
    const err = await rejectsAhs(ensureModelFiles('ViT-B/16', opts({ endpoint: base })), 'AHS_ERR_OFFLINE', 'ECONNREFUSED', 'AHS_SEG_CACHE', 'HF_ENDPOINT');
    for (const f of ['config.json', 'model.safetensors']) {
      assert.ok(err.message.includes(hubFileUrl(base, REPO, 'main', f)), err.message);
      assert.ok(err.message.includes(cachedFilePath(REPO, 'main', f, cache)), err.message);
    }
  });

  it('offline (option or HF_HUB_OFFLINE=1) makes no request: cached files work, missing ones give AHS_ERR_OFFLINE', async () => {
    // If this fails, offline mode still contacts the network, or refuses files that are in the cache.
    await rejectsAhs(ensureModelFiles(REPO, opts({ offline: true })), 'AHS_ERR_OFFLINE', 'offline mode', cachedFilePath(REPO, 'main', 'model.safetensors', cache));
    process.env.HF_HUB_OFFLINE = '1';
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_OFFLINE', 'HF_HUB_OFFLINE', hubFileUrl(hub.base, REPO, 'main', 'config.json'));
    assert.equal(hub.requests.length, 0);
    delete process.env.HF_HUB_OFFLINE;
    await ensureModelFiles(REPO, opts());
    const n = hub.requests.length;
    process.env.HF_HUB_OFFLINE = 'true';
    const r = await ensureModelFiles(REPO, opts());
    assert.equal(hub.requests.length, n);
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
  });

  it('honours AHS_SEG_CACHE and HF_ENDPOINT', async () => {
    // If this fails, users cannot move the cache or point at a mirror through the environment.
    const own = mkdtempSync(path.join(tmpdir(), 'ahs-hub-env-'));
    tmpRoots.push(own);
    process.env.AHS_SEG_CACHE = own;
    process.env.HF_ENDPOINT = hub.base;
    const r = await ensureModelFiles('ViT-B/16', { retries: 0 });
    assert.equal(r.dir, dirOf(own));
    assert.ok(r.files['model.safetensors']!.startsWith(path.join(own, 'hub', 'openai--clip-vit-base-patch16', 'main')));
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    assert.equal(hub.count('GET'), 2, 'HF_ENDPOINT pointed the download at the fake hub');
  });

  it('aborts a stalled connection after the stall timeout and keeps the partial bytes', async () => {
    // If this fails, a dead connection hangs forever, or its progress is thrown away.
    hub.b.stallOnce = 300_000;
    const t0 = Date.now();
    await rejectsAhs(ensureModelFiles(REPO, opts({ stallTimeoutMs: 300 })), 'AHS_ERR_DOWNLOAD', 'stalled', 'no data for 0.3 s', 'kept in');
    assert.ok(Date.now() - t0 < 10_000);
    const dest = cachedFilePath(REPO, 'main', 'model.safetensors', cache);
    const have = statSync(`${dest}.incomplete`).size;
    assert.ok(have > 0 && have <= 300_000);
    hub.requests.length = 0;
    const r = await ensureModelFiles(REPO, opts({ stallTimeoutMs: 300 }));
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    assert.equal(hub.requests.find((q) => q.method === 'GET')?.range, `bytes=${have}-`);
  });

  it('restarts from byte 0 when the server answers a Range request with 200', async () => {
    // If this fails, a server without Range support makes us append the whole file after the partial.
    hub.b.cutOnce = 400_000;
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_DOWNLOAD');
    hub.b.ignoreRange = true;
    hub.requests.length = 0;
    const r = await ensureModelFiles(REPO, opts());
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    const get = hub.requests.find((q) => q.method === 'GET')!;
    assert.ok(get.range !== undefined && get.status === 200);
  });

  it('a full .incomplete (crash before rename) is verified without a GET; with no HEAD info a 416 finishes it', async () => {
    // If this fails, a download that crashed at the last step is fetched again, or a 416 is an error.
    const dest = cachedFilePath(REPO, 'main', 'model.safetensors', cache);
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(`${dest}.incomplete`, model);
    await ensureModelFiles(REPO, opts());
    assert.equal(hub.count('GET', 'model.safetensors'), 0);
    assert.equal(sha256(readFileSync(dest)), modelSha);

    rmSync(path.dirname(dest), { recursive: true });
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(`${dest}.incomplete`, model);
    hub.b.bareHead = true;
    hub.requests.length = 0;
    await ensureModelFiles(REPO, opts());
    const get = hub.requests.find((q) => q.method === 'GET' && q.path.endsWith('model.safetensors'))!;
    assert.equal(get.range, `bytes=${model.length}-`);
    assert.equal(get.status, 416);
    assert.equal(sha256(readFileSync(dest)), modelSha);
  });

  it('drops a partial file whose remote changed (etag differs from meta.json)', async () => {
    // If this fails, a resume glues bytes of an old version to a new one and only the hash check catches it.
    hub.b.cutOnce = 800_000;
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_DOWNLOAD');
    const model2 = randomBytes(model.length + 1000);
    hub.setRepo(config, model2);
    hub.requests.length = 0;
    const r = await ensureModelFiles(REPO, opts());
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), sha256(model2));
    const get = hub.requests.find((q) => q.method === 'GET' && q.path.endsWith('model.safetensors'))!;
    assert.equal(get.range, undefined, 'no Range: the old partial was discarded');
  });

  it('re-downloads a cached file whose size contradicts its meta.json', async () => {
    // If this fails, a truncated cached weight file is handed to the loader.
    const r0 = await ensureModelFiles(REPO, opts());
    writeFileSync(r0.files['model.safetensors']!, model.subarray(0, 1000));
    hub.requests.length = 0;
    const r = await ensureModelFiles(REPO, opts());
    assert.equal(sha256(readFileSync(r.files['model.safetensors']!)), modelSha);
    assert.equal(hub.count('GET', 'model.safetensors'), 1);
    assert.equal(hub.count('GET', 'config.json'), 0);
  });

  it('concurrent calls for the same model download each file once', async () => {
    // If this fails, two loads at once append to the same .incomplete and corrupt it.
    const [a, b] = await Promise.all([ensureModelFiles(REPO, opts()), ensureModelFiles('ViT-B/16', opts())]);
    assert.deepEqual(a.files, b.files);
    assert.equal(hub.count('GET', 'model.safetensors'), 1);
    assert.equal(sha256(readFileSync(a.files['model.safetensors']!)), modelSha);
  });

  it('a 404 is AHS_ERR_DOWNLOAD (not offline) with the URL', async () => {
    // If this fails, a wrong mirror/endpoint looks like a network outage.
    hub.files.delete(`/${REPO}/resolve/main/config.json`);
    await rejectsAhs(ensureModelFiles(REPO, opts()), 'AHS_ERR_DOWNLOAD', 'HTTP 404', hubFileUrl(hub.base, REPO, 'main', 'config.json'));
  });

  it('rejects bad options', async () => {
    // If this fails, nonsense settings are silently ignored.
    await rejectsAhs(ensureModelFiles(REPO, opts({ endpoint: 'ftp://x' })), 'AHS_ERR_INVALID_ARGUMENT', 'http(s)');
    await rejectsAhs(ensureModelFiles(REPO, opts({ stallTimeoutMs: 0 })), 'AHS_ERR_INVALID_ARGUMENT', 'stallTimeoutMs');
    await rejectsAhs(ensureModelFiles('nope', opts()), 'AHS_ERR_INVALID_ARGUMENT', 'unknown CLIP model');
  });
});
