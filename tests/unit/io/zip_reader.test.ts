import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import { ZipReader } from '../../../src/io/zip_reader.js';
import { assertAhsError, expected, fixture, tempDir } from './helpers.js';

type ZipExpected = Record<string, Record<string, { size: number; crc32: number; method: number }>>;
const EXP = expected<ZipExpected>('zips.expected.json');

const stored = Buffer.alloc(1024, 0).map((_, i) => i % 256);
const deflated = Buffer.from('hello zip '.repeat(200));

test('reads STORED, DEFLATE and empty entries of a Python zipfile archive with a comment', () => {
  const z = ZipReader.open(fixture('mixed.zip'));
  // Metadata must match Python's zipfile view of the same file.
  assert.deepEqual(new Set(z.names()), new Set(Object.keys(EXP['mixed.zip']!)));
  for (const [name, e] of Object.entries(EXP['mixed.zip']!)) {
    const got = z.entry(name)!;
    assert.deepEqual({ size: got.size, crc32: got.crc32, method: got.method }, e, name);
  }
  assert.ok(z.readEntry('stored.bin').equals(stored));
  assert.ok(z.readEntry('dir/deflated.txt').equals(deflated));
  assert.equal(z.readEntry('empty').byteLength, 0);
  // Ranges: in place for STORED (wrapping past 255 checks the offset), inflated for DEFLATE.
  assert.deepEqual([...z.readRange('stored.bin', 250, 10)], [250, 251, 252, 253, 254, 255, 0, 1, 2, 3]);
  assert.equal(z.readRange('dir/deflated.txt', 1996, 4).toString(), 'zip ');
});

test('reads ZIP64 sizes, offsets and end-of-central-directory records', () => {
  const z = ZipReader.open(fixture('zip64.zip'));
  // Without ZIP64 support the sizes would read as 0xFFFFFFFF and the reads would fail.
  for (const [name, e] of Object.entries(EXP['zip64.zip']!)) assert.equal(z.entry(name)!.size, e.size, name);
  assert.ok(z.readEntry('archive/data/0').equals(Buffer.concat([0, 1, 2].map(() => Buffer.from([...Array(64).keys()])))));
  assert.equal(z.readEntry('archive/version').toString(), '3\n');
  assert.deepEqual([...z.readRange('archive/data/0', 63, 2)], [63, 0]);
});

test('reads torch.save archives (ZIP64 end record, padded local headers) and TorchScript deflated code', () => {
  const sd = ZipReader.open(fixture('state_dict.pt'));
  assert.ok(sd.has('state_dict/data.pkl'));
  // readEntry checks the CRC, so a wrong data offset (central vs local extra field) fails here.
  assert.equal(sd.readEntry('state_dict/data.pkl')[0], 0x80);
  assert.equal(sd.readEntry('state_dict/version').toString().trim(), '3');
  const js = ZipReader.open(fixture('tiny_clip.jit.pt'));
  const code = js.names().find((n) => n.endsWith('code/__torch__.py'))!;
  assert.equal(js.entry(code)!.method, 8);
  assert.match(js.readEntry(code).toString(), /class TinyClip\(Module\)/);
});

test('missing entries, bad ranges, truncation and corruption are clear AHS_ERR_FILE_FORMAT errors', (t) => {
  const dir = tempDir(t);
  const src = fixture('mixed.zip');
  const z = ZipReader.open(src);
  assertAhsError(() => z.readEntry('nope'), 'AHS_ERR_FILE_FORMAT', src, /missing zip entry 'nope'/);
  assertAhsError(() => z.readRange('stored.bin', 1020, 8), 'AHS_ERR_FILE_FORMAT', src, /outside zip entry/);

  const good = fs.readFileSync(src);
  const p = path.join(dir, 'x.zip');
  fs.writeFileSync(p, good.subarray(0, good.length - 40));
  assertAhsError(() => ZipReader.open(p), 'AHS_ERR_FILE_FORMAT', p, /end-of-central-directory/);
  fs.writeFileSync(p, 'just text, not a zip');
  assertAhsError(() => ZipReader.open(p), 'AHS_ERR_FILE_FORMAT', p, /not a valid zip/);

  const flipped = Buffer.from(good);
  flipped[good.indexOf('stored.bin') + 'stored.bin'.length + 100] ^= 0xff; // a data byte of stored.bin
  fs.writeFileSync(p, flipped);
  assertAhsError(() => ZipReader.open(p).readEntry('stored.bin'), 'AHS_ERR_FILE_FORMAT', p, /CRC-32/);

  const cd = Buffer.from(good);
  cd.writeUInt32LE(0x12345678, good.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])));
  fs.writeFileSync(p, cd);
  assertAhsError(() => ZipReader.open(p), 'AHS_ERR_FILE_FORMAT', p, /central directory entry 0 is corrupt/);
});

test('no byte flip anywhere in an archive can crash or hang the reader', (t) => {
  const dir = tempDir(t);
  const good = fs.readFileSync(fixture('zip64.zip'));
  const p = path.join(dir, 'f.zip');
  for (let i = 0; i < good.length; i++) {
    const bad = Buffer.from(good);
    bad[i] ^= 0xa5;
    fs.writeFileSync(p, bad);
    try {
      const z = ZipReader.open(p);
      for (const n of z.names()) z.readEntry(n);
    } catch (err) {
      // Anything but an AhsError (a RangeError from a bad offset...) is a bug.
      assert.ok(err instanceof AhsError, `byte ${i}: ${String(err)}`);
      assert.ok(err.message.includes(p));
    }
  }
});
