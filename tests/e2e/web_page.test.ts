// The web page (web/) in a real browser: playwright-core driving Debian's chromium (installed by
// scripts/setup.sh; no browser download) against the real server on loopback with the stand-in
// model. Upload a shipped photo, type labels, wait for the overlay, hover a pixel: the class the
// page shows is the label map's; the screenshot is not blank.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/service/server.js';
import { BandBackend } from '../helpers/band_backend.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const CHROMIUM = process.env.AHS_SEG_CHROMIUM ?? '/usr/bin/chromium';
const photo = join(repoRoot, 'assets/examples/coffee.png');
let app: FastifyInstance, url: string, browser: Browser, dir: string;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: scripts/setup.sh installs Debian's chromium (or set AHS_SEG_CHROMIUM)`);
  dir = mkdtempSync(join(tmpdir(), 'ahs-web-'));
  app = await buildServer({ backend: new BandBackend(), staticDir: join(repoRoot, 'web') });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
});
after(async () => {
  await browser?.close();
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('web page', () => {
  // Wrong here: the page cannot upload, does not draw the result, shows the wrong class under the
  // pointer (a row/column or byte-order mix-up), or renders nothing.
  it('segments an uploaded photo, shows the class under the pointer and a legend', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    // A string: this test is compiled without the DOM library (the page's code has its own tsconfig).
    await page.waitForFunction("document.getElementById('preset').options.length > 1");
    await page.setInputFiles('#file', photo);
    await page.fill('#labels', 'dark, mid, bright, very bright');
    await page.click('#run');
    await page.waitForSelector('#legend li');
    const legend = await page.$$eval('#legend li', (els) => els.map((e) => e.textContent ?? ''));
    assert.equal(legend.length, 4);
    assert.ok(legend.every((l) => /^(dark|mid|bright|very bright): \d+\.\d%/.test(l)), legend.join(' | '));

    // The label map, independently of the page: the same request through the API.
    const form = new FormData();
    form.append('image', new Blob([await sharp(photo).toBuffer()]), 'coffee.png');
    form.append('labels', 'dark, mid, bright, very bright');
    form.append('raw', '1');
    const api = await (await fetch(`${url}/v1/segment`, { method: 'POST', body: form })).json() as { width: number; height: number; labelsRaw: string; classes: { name: string }[] };
    const raw = Buffer.from(api.labelsRaw, 'base64');
    const box = (await page.locator('#canvas').boundingBox())!;
    for (const [fx, fy] of [[0.2, 0.3], [0.5, 0.5], [0.8, 0.7]] as const) {
      await page.mouse.move(box.x + fx * box.width, box.y + fy * box.height);
      const shown = await page.locator('#hover').textContent();
      const x = Number(await page.locator('#hover').getAttribute('data-x'));
      const y = Number(await page.locator('#hover').getAttribute('data-y'));
      assert.equal(shown, api.classes[raw.readUInt16LE(2 * (y * api.width + x))]!.name, `pixel ${x},${y}`);
    }
    const shot = process.env.AHS_SEG_SCREENSHOT ?? join(dir, 'page.png');
    await page.screenshot({ path: shot });
    const stats = await sharp(shot).stats();
    assert.ok(stats.channels.some((c) => c.stdev > 10), 'the screenshot is blank');
    const dl = await page.getAttribute('#download', 'href');
    assert.match(dl ?? '', /^data:image\/png;base64,/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
