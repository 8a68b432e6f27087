import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { AhsError } from '../../../src/errors.js';
import { encodeLabelPng, readLabelMap, writeLabelPng } from '../../../src/data/label_io.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ahs-label-io-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Values that break a wrong depth: > 255 (lost by 8-bit), 0x1234 and 0x0201 (byte-swapped by a
// wrong endianness), 65535 and 459 (ignore labels of ADE-847 and PC-459).
const VALUES16 = [0, 1, 255, 256, 257, 300, 459, 846, 847, 1000, 0x1234, 65534, 65535, 12345, 0x0201];
const W = 5;
const H = 3;

describe('label maps', () => {
  it('8-bit PNG round trip keeps every byte value, 255 included', async () => {
    const labels = Uint8Array.from({ length: 16 * 16 }, (_, i) => i);
    const path = join(dir, 'a8.png');
    await writeLabelPng(path, labels, 16, 16);
    const meta = await sharp(path).metadata();
    assert.equal(meta.channels, 1); // grayscale, not sharp's default sRGB
    assert.equal(meta.depth, 'uchar');
    const back = await readLabelMap(path);
    assert.equal(back.bitDepth, 8);
    assert.ok(back.data instanceof Uint8Array);
    assert.deepEqual([back.width, back.height], [16, 16]);
    assert.deepEqual(Array.from(back.data), Array.from(labels));
  });

  it('16-bit PNG round trip keeps values above 255 exactly', async () => {
    const path = join(dir, 'a16.png');
    await writeLabelPng(path, VALUES16, W, H);
    assert.equal((await sharp(path).metadata()).depth, 'ushort'); // chosen because max > 255
    const back = await readLabelMap(path);
    assert.equal(back.bitDepth, 16);
    assert.ok(back.data instanceof Uint16Array);
    assert.deepEqual(Array.from(back.data), VALUES16);
  });

  it('16-bit TIFF (ADE-847 / PC-459 style) reads back exactly', async () => {
    const path = join(dir, 'a16.tif');
    await sharp(Uint16Array.from(VALUES16), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('grey16')
      .tiff({ compression: 'lzw' })
      .toFile(path);
    const back = await readLabelMap(path);
    assert.equal(back.bitDepth, 16);
    assert.deepEqual(Array.from(back.data), VALUES16);
  });

  it('rejects RGB and palette images naming the file', async () => {
    const rgb = join(dir, 'rgb.png');
    await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 1, g: 2, b: 3 } } }).png().toFile(rgb);
    await assert.rejects(readLabelMap(rgb), (e: unknown) =>
      e instanceof AhsError && e.code === 'AHS_ERR_FILE_FORMAT' && e.message.startsWith(`label map '${rgb}' has 3 channels (srgb)`),
    );
    const pal = join(dir, 'pal.png');
    await sharp(Uint8Array.from([0, 1, 2, 3]), { raw: { width: 2, height: 2, channels: 1 } }).png({ palette: true }).toFile(pal);
    await assert.rejects(readLabelMap(pal), /has a colour palette/);
  });

  it('reports missing and corrupt files with their codes', async () => {
    const missing = join(dir, 'nope.png');
    await assert.rejects(readLabelMap(missing), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_FILE_NOT_FOUND' && e.message.includes(missing));
    const bad = join(dir, 'bad.png');
    await writeFile(bad, 'not a png');
    await assert.rejects(readLabelMap(bad), (e: unknown) => e instanceof AhsError && e.code === 'AHS_ERR_FILE_FORMAT');
  });

  it('validates what it writes and leaves no temp files', async () => {
    await assert.rejects(encodeLabelPng([0, 1, 2], 2, 2), /3 labels do not fill 2x2 = 4 pixels/);
    await assert.rejects(encodeLabelPng([0, 70000], 2, 1), /label 70000 at pixel 1 does not fit/);
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  });
});
