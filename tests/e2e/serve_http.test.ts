// `ahs-seg serve`'s HTTP layer (src/service) against a real server on loopback, with a stand-in
// model (labels from pixel brightness): every bad input gets its 4xx with the catalog's JSON body
// and the server stays healthy; the queue limit gives 503 with Retry-After; the per-request time
// limit holds; the web folder is the only thing served; overlapping clients all get correct results.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/service/server.js';
import { BandBackend } from '../helpers/band_backend.js';

let dir: string, app: FastifyInstance, url: string;
const backend = new BandBackend();
const png = (w: number, h: number, red: (x: number, y: number) => number) => sharp(Buffer.from(Array.from({ length: w * h * 3 }, (_, i) => (i % 3 === 0 ? red((i / 3) % w, Math.floor(i / 3 / w)) : 0))), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-serve-'));
  mkdirWeb(dir);
  app = await buildServer({ backend, staticDir: join(dir, 'web'), limits: { bodyBytes: 200_000, imagePixels: 100_000, labels: 16, labelChars: 40, queue: 1, timeoutMs: 3000 } });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

function mkdirWeb(root: string): void {
  mkdirSync(join(root, 'web'), { recursive: true });
  writeFileSync(join(root, 'web', 'index.html'), '<!doctype html><title>ahs-seg</title>');
  writeFileSync(join(root, 'secret.txt'), 'not for the web');
}

async function post(body: FormData | string, type?: string): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`${url}/v1/segment`, { method: 'POST', body, headers: type ? { 'content-type': type } : {} });
  return { status: r.status, json: await r.json() as Record<string, unknown>, headers: r.headers };
}

const form = (image: Buffer | null, labels: string | null, extra: Record<string, string> = {}) => {
  const f = new FormData();
  if (image) f.append('image', new Blob([image]), 'x.png');
  if (labels !== null) f.append('labels', labels);
  for (const [k, v] of Object.entries(extra)) f.append(k, v);
  return f;
};

describe('ahs-seg serve (HTTP)', () => {
  it('segments a multipart upload and a JSON request the same way', async () => {
    // Wrong here: a request format is parsed wrongly (labels split, image bytes) or the reply lacks a field.
    const img = await png(20, 10, (x) => x * 12);
    const a = await post(form(img, 'dark, mid, bright'));
    assert.equal(a.status, 200, JSON.stringify(a.json));
    const b = await post(JSON.stringify({ image: img.toString('base64'), labels: ['dark', 'mid', 'bright'] }), 'application/json');
    assert.equal(b.status, 200);
    assert.deepEqual({ ...a.json, seconds: 0 }, { ...b.json, seconds: 0 });
    const classes = a.json.classes as { name: string; share: number }[];
    assert.deepEqual(classes.map((c) => c.name), ['dark', 'mid', 'bright']);
    assert.ok(Math.abs(classes.reduce((s, c) => s + c.share, 0) - 1) < 1e-9);
    const meta = await sharp(Buffer.from(a.json.labelsPng as string, 'base64')).metadata();
    assert.deepEqual([meta.width, meta.height], [20, 10]);
    // raw: the label map as little-endian uint16, equal to the PNG's.
    const r = await post(form(img, 'dark, mid, bright', { raw: '1' }));
    const raw = Buffer.from(r.json.labelsRaw as string, 'base64');
    const { data } = await sharp(Buffer.from(r.json.labelsPng as string, 'base64')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual(Array.from({ length: 200 }, (_, i) => raw.readUInt16LE(2 * i)), [...data]);
    const presets = await (await fetch(`${url}/v1/presets`)).json() as Record<string, string[]>;
    assert.equal(presets.ade150?.length, 150);
  });

  it('answers every bad input with its 4xx and the catalog body, and stays healthy', async () => {
    // Wrong here: a user mistake is a 500 (or crashes the server), or the error does not say what is wrong.
    const img = await png(8, 8, () => 100);
    const cases: [string, () => Promise<{ status: number; json: Record<string, unknown> }>, number, string, RegExp][] = [
      ['wrong content type', () => post('hello', 'text/plain'), 415, 'AHS_ERR_UNSUPPORTED_MEDIA', /multipart\/form-data/],
      ['not an image', () => post(form(Buffer.from('not an image at all'), 'a, b')), 400, 'AHS_ERR_FILE_FORMAT', /not an image/],
      ['no image', () => post(form(null, 'a, b')), 400, 'AHS_ERR_INVALID_ARGUMENT', /no image/],
      ['zero labels', () => post(form(img, '')), 400, 'AHS_ERR_INVALID_ARGUMENT', /at least one class/],
      ['too many labels', () => post(form(img, Array.from({ length: 17 }, (_, i) => `c${i}`).join(','))), 400, 'AHS_ERR_INVALID_ARGUMENT', /at most 16/],
      ['label too long', () => post(form(img, `a, ${'x'.repeat(41)}`)), 400, 'AHS_ERR_INVALID_ARGUMENT', /entry 2 has 41 characters/],
      ['duplicate labels', () => post(form(img, 'cat, Cat')), 400, 'AHS_ERR_INVALID_ARGUMENT', /cat/i],
      ['labels not strings', () => post(JSON.stringify({ image: img.toString('base64'), labels: [1, 2] }), 'application/json'), 400, 'AHS_ERR_INVALID_ARGUMENT', /array of strings/],
      ['bad JSON', () => post('{"image": ', 'application/json'), 400, 'AHS_ERR_INVALID_ARGUMENT', /JSON/],
      ['unknown field', () => post(form(img, 'a', { colour: 'red' })), 400, 'AHS_ERR_INVALID_ARGUMENT', /colour/],
      ['too many pixels (header)', async () => post(form(await png(400, 300, () => 0), 'a, b')), 413, 'AHS_ERR_TOO_LARGE', /400x300/],
      ['body too large', () => post(form(Buffer.alloc(300_000, 7), 'a')), 413, 'AHS_ERR_TOO_LARGE', /.+/],
    ];
    for (const [name, run, status, code, re] of cases) {
      const r = await run();
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.code, code, name);
      assert.equal(r.json.statusCode, status, name);
      assert.equal(typeof r.json.error, 'string', name);
      assert.match(String(r.json.message), re, name);
    }
    const nf = await fetch(`${url}/v1/segmnet`);
    assert.equal(nf.status, 404);
    assert.match(((await nf.json()) as { message: string }).message, /POST \/v1\/segment/);
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  });

  it('serves the web folder at / and nothing outside it', async () => {
    // Wrong here: the static plugin lets a path climb out of web/ (a file leak).
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /ahs-seg/);
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt']) {
      const r = await fetch(`${url}${p}`);
      assert.notEqual(r.status, 200, p);
      assert.ok(!(await r.text()).includes('not for the web'), p);
    }
  });

  it('a full queue answers 503 with Retry-After; the time limit answers 503; readiness is reported', async () => {
    // Wrong here: requests pile up without bound, a slow request holds its client forever, or
    // /readyz says ready before the model is.
    const img = await png(8, 8, () => 0);
    backend.delayMs = 600;
    const first = post(form(img, 'a'));
    await new Promise((r) => setTimeout(r, 50));
    const second = post(form(img, 'a')); // waits (queue 1)
    await new Promise((r) => setTimeout(r, 50));
    const third = await post(form(img, 'a')); // refused
    assert.equal(third.status, 503);
    assert.equal(third.json.code, 'AHS_ERR_BUSY');
    assert.ok(Number(third.headers.get('retry-after')) >= 1);
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);
    backend.delayMs = 4000;
    const slow = await post(form(img, 'a'));
    assert.equal(slow.status, 503);
    assert.equal(slow.json.code, 'AHS_ERR_TIMEOUT');
    backend.delayMs = 0;
    await new Promise((r) => setTimeout(r, 1200)); // the abandoned run ends
    backend.loaded = false;
    const r = await fetch(`${url}/readyz`);
    assert.equal(r.status, 503);
    assert.equal(((await r.json()) as { code: string }).code, 'AHS_ERR_NOT_READY');
    assert.equal((await post(form(img, 'a'))).json.code, 'AHS_ERR_NOT_READY');
    backend.loaded = true;
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
  });

  it('two concurrent clients, 300 requests: all succeed with the right result', async () => {
    // Wrong here: overlapping requests mix their images or labels, or some fail under load.
    const imgs = await Promise.all([0, 1].map((c) => png(16, 8, (x) => (c === 0 ? x * 16 : 255 - x * 16))));
    const client = async (c: number) => {
      for (let i = 0; i < 150; i++) {
        const r = await post(form(imgs[c]!, c === 0 ? 'a, b' : 'p, q, r, s'));
        assert.equal(r.status, 200);
        const names = (r.json.classes as { name: string }[]).map((k) => k.name);
        assert.deepEqual(names, c === 0 ? ['a', 'b'] : ['p', 'q', 'r', 's']);
      }
    };
    await Promise.all([client(0), client(1)]);
  });
});
