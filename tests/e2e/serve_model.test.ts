// `ahs-seg serve` with a real (tiny) model in its worker thread: results equal the library's
// in-process ones, 300 requests from 2 concurrent clients all succeed without the process growing,
// a model that cannot load is reported (not waited for), and the CLI command starts and answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { createSegmenter } from '../../src/api/segmenter.js';
import { buildServer } from '../../src/service/server.js';
import { WorkerBackend } from '../../src/service/worker_backend.js';
import { writeTinyClip } from '../helpers/shapes_dataset.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
let dir: string, clip: string, app: FastifyInstance, url: string, backend: WorkerBackend;
const LABELS = ['sky', 'cup', 'table'];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-serve-model-'));
  clip = writeTinyClip(join(dir, 'clip.safetensors'));
  backend = new WorkerBackend({ options: { clip, mode: 'whole', textCacheDir: null } }, 'tiny');
  app = await buildServer({ backend, staticDir: null });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  await backend.loaded;
});
after(async () => {
  await app?.close();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

const image = (seed: number) => sharp(Buffer.from(Array.from({ length: 48 * 32 * 3 }, (_, i) => (i * (seed + 7) * 37) % 251)), { raw: { width: 48, height: 32, channels: 3 } }).png().toBuffer();

async function post(img: Buffer, labels: string[]): Promise<{ status: number; json: Record<string, unknown> }> {
  const f = new FormData();
  f.append('image', new Blob([img]), 'x.png');
  f.append('labels', labels.join(', '));
  f.append('raw', '1');
  const r = await fetch(`${url}/v1/segment`, { method: 'POST', body: f });
  return { status: r.status, json: await r.json() as Record<string, unknown> };
}

describe('ahs-seg serve with a model', () => {
  it('answers what the library computes in-process', async () => {
    // Wrong here: the worker boundary loses or reorders the label map, or runs another model.
    const img = await image(1);
    const served = await post(img, LABELS);
    assert.equal(served.status, 200, JSON.stringify(served.json));
    const seg = await createSegmenter({ clip, mode: 'whole', textCacheDir: null });
    const direct = await seg.segment(img, LABELS);
    seg.dispose();
    const raw = Buffer.from(served.json.labelsRaw as string, 'base64');
    assert.deepEqual(Array.from({ length: direct.labels.length }, (_, i) => raw.readUInt16LE(2 * i)), [...direct.labels]);
    assert.deepEqual((served.json.classes as { share: number }[]).map((c) => c.share), direct.classes.map((c) => c.share));
    const ready = await (await fetch(`${url}/readyz`)).json() as { status: string };
    assert.equal(ready.status, 'ready');
  });

  it('300 requests from 2 concurrent clients all succeed; RSS grows by less than 5% from the first hundred to the last', async () => {
    // Wrong here: tensors or buffers leak per request (the service would eventually run out of memory).
    const imgs = await Promise.all([image(2), image(3)]);
    const want = await Promise.all(imgs.map(async (img) => (await post(img, LABELS)).json.labelsRaw));
    let done = 0, rssAt100 = 0;
    const client = async (c: number) => {
      for (let i = 0; i < 150; i++) {
        const r = await post(imgs[c]!, LABELS);
        assert.equal(r.status, 200);
        assert.equal(r.json.labelsRaw, want[c], `client ${c} request ${i}: another image's result`);
        if (++done === 100) rssAt100 = process.memoryUsage().rss;
      }
    };
    await Promise.all([client(0), client(1)]);
    const rssEnd = process.memoryUsage().rss;
    assert.ok(rssEnd < rssAt100 * 1.05, `RSS ${(rssAt100 / 2 ** 20).toFixed(0)} MiB after 100 requests, ${(rssEnd / 2 ** 20).toFixed(0)} MiB after 300`);
  });

  it('a model that cannot load is reported by /readyz and /v1/segment, not waited for', async () => {
    // Wrong here: a bad --model leaves the server answering "still loading" forever.
    const bad = new WorkerBackend({ options: { clip: join(dir, 'missing.safetensors') } }, 'missing');
    const srv = await buildServer({ backend: bad, staticDir: null });
    await bad.loaded.catch(() => {});
    const r = await srv.inject({ method: 'GET', url: '/readyz' });
    const body = JSON.parse(r.body) as { code: string; message: string };
    assert.equal(r.statusCode, 404, r.body);
    assert.equal(body.code, 'AHS_ERR_FILE_NOT_FOUND');
    assert.match(body.message, /missing\.safetensors/);
    await srv.close();
    await bad.close();
  });

  it('the CLI command starts the server and answers /healthz', async () => {
    // Wrong here: `ahs-seg serve` does not start, or does not say where it listens.
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'serve', '--port', '0', '--clip', clip, '--mode', 'whole'], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const listening = await new Promise<string>((res, rej) => {
        let err = '';
        child.stderr.on('data', (d: Buffer) => { err += d.toString(); const m = /(http:\/\/[\d.]+:\d+)/.exec(err); if (m) res(m[1]!); });
        child.on('exit', (code) => rej(new Error(`serve exited with ${code}: ${err}`)));
      });
      const r = await fetch(`${listening}/healthz`);
      assert.equal(r.status, 200);
      const page = await fetch(`${listening}/`);
      assert.match(await page.text(), /ahs-seg/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
