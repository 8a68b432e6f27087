import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { allocAligned, type RawTensor } from '../../../src/io/raw_tensor.js';
import { openSafetensors, readSafetensorsLazy, writeSafetensors } from '../../../src/io/safetensors.js';
import { assertAhsError, assertTensor, expected, fixture, tempDir, type ExpectedTensor } from './helpers.js';

interface StExpected {
  keys: string[];
  metadata: Record<string, string>;
  tensors: Record<string, ExpectedTensor>;
}
const EXP = expected<StExpected>('simple.safetensors.expected.json');

/** A copy of the fixture with its header JSON replaced (length prefix recomputed). */
function withHeader(dir: string, edit: (h: Record<string, unknown>) => void): string {
  const buf = fs.readFileSync(fixture('simple.safetensors'));
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.toString('utf8', 8, 8 + n)) as Record<string, unknown>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const p = path.join(dir, 'edited.safetensors');
  fs.writeFileSync(p, Buffer.concat([len, json, buf.subarray(8 + n)]));
  return p;
}

test('reads every dtype of a Python-written safetensors file with its metadata', () => {
  const f = openSafetensors(fixture('simple.safetensors'));
  try {
    // Wrong key order would mean the header was re-sorted; wrong values a dtype or offset bug.
    assert.deepEqual([...f.entries.keys()], EXP.keys);
    assert.deepEqual(f.metadata, EXP.metadata);
    for (const name of EXP.keys) assertTensor(f.read(name), EXP.tensors[name]!, name);
    const all = f.readAll();
    assert.deepEqual([...all.keys()], EXP.keys);
    // Offsets are absolute: the first tensor starts right after the padded header.
    const n = Number(fs.readFileSync(fixture('simple.safetensors')).readBigUInt64LE(0));
    assert.equal(f.entries.get(EXP.keys[0]!)!.byteOffset, 8 + n);
  } finally {
    f.close();
  }
});

test('read() names the missing tensor and refuses reads after close()', () => {
  const p = fixture('simple.safetensors');
  const f = openSafetensors(p);
  // A silent undefined here would surface later as a confusing engine error.
  assertAhsError(() => f.read('nope'), 'AHS_ERR_INVALID_ARGUMENT', p, /no tensor 'nope'/);
  f.close();
  f.close(); // idempotent
  assertAhsError(() => f.read('f32'), 'AHS_ERR_INVALID_ARGUMENT', p, /after close/);
});

test('a missing file is AHS_ERR_FILE_NOT_FOUND', () => {
  assertAhsError(() => openSafetensors('/nonexistent/x.safetensors'), 'AHS_ERR_FILE_NOT_FOUND', '/nonexistent/x.safetensors');
});

test('write + read round trip keeps order, bytes and metadata; header is space-padded to 8', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'out.safetensors');
  const mk = (dtype: RawTensor['dtype'], shape: number[], bytes: number[]): RawTensor => ({ dtype, shape, data: Buffer.from(bytes) });
  const tensors = new Map<string, RawTensor>([
    ['z.last_name_first', mk('float16', [2], [0x00, 0x3c, 0x00, 0xc0])],
    ['a', mk('int64', [1], [1, 2, 3, 4, 5, 6, 7, 0x80])],
    ['empty', mk('float32', [0, 4], [])],
    ['flag', mk('bool', [3], [1, 0, 1])],
  ]);
  const meta = { config: '{"w": 1}', note: 'ünï' };
  writeSafetensors(p, tensors, meta);
  // The temp file must have been renamed away (atomic write).
  assert.deepEqual(fs.readdirSync(dir), ['out.safetensors']);
  const raw = fs.readFileSync(p);
  const n = Number(raw.readBigUInt64LE(0));
  assert.equal(n % 8, 0, 'header length is a multiple of 8');
  assert.match(raw.toString('utf8', 8, 8 + n), /\} *$/);
  const f = openSafetensors(p);
  try {
    assert.deepEqual(f.metadata, meta);
    assert.deepEqual([...f.entries.keys()], [...tensors.keys()], 'insertion order, not sorted');
    for (const [k, v] of tensors) {
      const r = f.read(k);
      assert.equal(r.dtype, v.dtype);
      assert.deepEqual(r.shape, v.shape);
      assert.ok(r.data.equals(v.data), k);
    }
  } finally {
    f.close();
  }
  // Record input and no metadata also work.
  writeSafetensors(p, { x: mk('uint8', [1], [9]) });
  const g = openSafetensors(p);
  assert.deepEqual(g.metadata, {});
  assert.deepEqual([...g.read('x').data], [9]);
  g.close();
});

test('writeSafetensors rejects data whose size does not match the shape, and leaves no temp file', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'bad.safetensors');
  assertAhsError(() => writeSafetensors(p, { w: { dtype: 'float32', shape: [2, 2], data: allocAligned(12) } }), 'AHS_ERR_SHAPE', p, /'w'.*needs 16 bytes/);
  assert.deepEqual(fs.readdirSync(dir), []);
});

test('truncated copies fail with AHS_ERR_FILE_FORMAT naming the file', (t) => {
  const dir = tempDir(t);
  const good = fs.readFileSync(fixture('simple.safetensors'));
  const n = Number(good.readBigUInt64LE(0));
  // Cut inside the length, inside the header, and inside the data section.
  for (const cut of [0, 5, 8, 8 + Math.floor(n / 2), 8 + n + 3, good.length - 1]) {
    const p = path.join(dir, `cut${cut}.safetensors`);
    fs.writeFileSync(p, good.subarray(0, cut));
    assertAhsError(() => openSafetensors(p), 'AHS_ERR_FILE_FORMAT', p, /too short|header length|out of range|truncated/);
  }
});

test('corrupt headers give a message saying what is wrong', (t) => {
  const dir = tempDir(t);
  const good = fs.readFileSync(fixture('simple.safetensors'));
  const p = path.join(dir, 'c.safetensors');

  const huge = Buffer.from(good);
  huge.writeBigUInt64LE(2n ** 60n, 0);
  fs.writeFileSync(p, huge);
  assertAhsError(() => openSafetensors(p), 'AHS_ERR_FILE_FORMAT', p, /bad header length/);

  const badJson = Buffer.from(good);
  badJson[8] = 0x5b; // '[' -> not JSON that parses to the same thing
  badJson[9] = 0x7d;
  fs.writeFileSync(p, badJson);
  assertAhsError(() => openSafetensors(p), 'AHS_ERR_FILE_FORMAT', p, /JSON/);

  const q1 = withHeader(dir, (h) => { (h.f32 as { data_offsets: number[] }).data_offsets = [0, 10 ** 9]; });
  assertAhsError(() => openSafetensors(q1), 'AHS_ERR_FILE_FORMAT', q1, /'f32' offsets .* out of range/);
  const q2 = withHeader(dir, (h) => { (h.f32 as { shape: number[] }).shape = [4, 4]; });
  assertAhsError(() => openSafetensors(q2), 'AHS_ERR_FILE_FORMAT', q2, /'f32' \(F32 \[4,4\]\) needs 64 bytes/);
  const q3 = withHeader(dir, (h) => { (h.f32 as { dtype: string }).dtype = 'C64'; });
  assertAhsError(() => openSafetensors(q3), 'AHS_ERR_DTYPE', q3, /'f32' has dtype C64/);
  const q4 = withHeader(dir, (h) => { h.f16 = { ...(h.f16 as object), data_offsets: (h.f32 as { data_offsets: number[] }).data_offsets.map((o, i) => i === 0 ? o : o - 36) }; });
  assertAhsError(() => openSafetensors(q4), 'AHS_ERR_FILE_FORMAT', q4, /overlap/);
  const q5 = withHeader(dir, (h) => { h.__metadata__ = { n: 3 }; });
  assertAhsError(() => openSafetensors(q5), 'AHS_ERR_FILE_FORMAT', q5, /__metadata__\['n'\] is not a string/);
});

test('lazy tensors reopen the file and notice when it changed', (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'lazy.safetensors');
  fs.copyFileSync(fixture('simple.safetensors'), p);
  const { tensors, metadata } = readSafetensorsLazy(p);
  assert.deepEqual(metadata, EXP.metadata);
  assertTensor(tensors.get('transposed')!.read(), EXP.tensors.transposed!, 'transposed');
  fs.appendFileSync(p, Buffer.alloc(8));
  // Reading stale offsets from a replaced file would return garbage silently.
  assertAhsError(() => tensors.get('f32')!.read(), 'AHS_ERR_FILE_FORMAT', p, /changed since it was opened/);
});

const GOLDEN = process.env.AHS_GOLDEN_DIR ?? fileURLToPath(new URL('../../../../shared/fixtures/golden/', import.meta.url));
const goldenFiles = fs.existsSync(GOLDEN) ? fs.readdirSync(GOLDEN).filter((f) => f.endsWith('.safetensors')) : [];

test('every golden safetensors file opens and its F16 tensors have the size their shape implies',
  { skip: goldenFiles.length === 0 ? `no golden safetensors in ${GOLDEN} (set AHS_GOLDEN_DIR)` : false }, () => {
    let f16 = 0;
    for (const name of goldenFiles) {
      const f = openSafetensors(path.join(GOLDEN, name));
      try {
        assert.ok(f.entries.size > 0, `${name} has tensors`);
        for (const [k, e] of f.entries) {
          if (e.dtype !== 'float16') continue;
          const r = f.read(k);
          assert.equal(r.data.byteLength, e.shape.reduce((a, b) => a * b, 1) * 2, `${name}:${k}`);
          f16++;
        }
      } finally {
        f.close();
      }
    }
    // The README says weights and inputs are F16; finding none means we read the wrong thing.
    assert.ok(f16 > 0, 'some F16 tensors');
  });
