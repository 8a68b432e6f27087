// Shared by the io tests: fixture paths, expected-value JSON written by make_fixtures.py, an
// independent decoder of raw tensor bytes, and an assertion for "clear file-format error".

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AhsError, type ErrorCode } from '../../../src/errors.js';
import type { RawTensor } from '../../../src/io/raw_tensor.js';

export const FIXTURES = fileURLToPath(new URL('../../fixtures/io/', import.meta.url));
export const fixture = (name: string): string => path.join(FIXTURES, name);

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  /** Floats as numbers, int64 as decimal strings, bool as 0/1. */
  values: (number | string)[];
  sum: number | string;
}

export function expected<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fs.readFileSync(fixture(name), 'utf8')) as T;
}

function half(h: number): number {
  const e = (h >> 10) & 31;
  const m = h & 1023;
  const v = e === 0 ? m / 1024 * 2 ** -14 : e === 31 ? (m ? NaN : Infinity) : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}

/** Decodes a RawTensor's bytes with DataView (independent of the readers' own code). */
export function decode(t: RawTensor): (number | string)[] {
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out: (number | string)[] = [];
  const size = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 }[t.dtype];
  for (let i = 0; i < t.data.byteLength / size; i++) {
    const o = i * size;
    switch (t.dtype) {
      case 'float32': out.push(dv.getFloat32(o, true)); break;
      case 'float64': out.push(dv.getFloat64(o, true)); break;
      case 'float16': out.push(half(dv.getUint16(o, true))); break;
      case 'bfloat16': out.push(new Float32Array(new Uint32Array([dv.getUint16(o, true) << 16]).buffer)[0]!); break;
      case 'int64': out.push(dv.getBigInt64(o, true).toString()); break;
      case 'int32': out.push(dv.getInt32(o, true)); break;
      case 'int16': out.push(dv.getInt16(o, true)); break;
      case 'int8': out.push(dv.getInt8(o)); break;
      case 'uint8': case 'bool': out.push(dv.getUint8(o)); break;
    }
  }
  return out;
}

/** dtype, shape, every value (exactly) and the float64 sum of one tensor vs. the Python record. */
export function assertTensor(t: RawTensor, e: ExpectedTensor, name: string, opts: { prefixOnly?: boolean } = {}): void {
  assert.equal(t.dtype, e.dtype, `${name}: dtype`);
  assert.deepEqual(t.shape, e.shape, `${name}: shape`);
  const itemsize = { float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1 }[t.dtype];
  assert.equal(t.data.byteLength, e.shape.reduce((a, b) => a * b, 1) * itemsize, `${name}: byteLength`);
  const got = decode(t);
  const want = e.values;
  if (opts.prefixOnly) assert.deepEqual(got.slice(0, want.length), want, `${name}: first values`);
  else assert.deepEqual(got, want, `${name}: values`);
  if (typeof e.sum === 'string') {
    assert.equal(got.reduce<bigint>((a, v) => a + BigInt(v), 0n).toString(), e.sum, `${name}: sum`);
  } else {
    const s = got.reduce<number>((a, v) => a + Number(v), 0);
    assert.ok(Math.abs(s - e.sum) <= 1e-9 * Math.max(1, Math.abs(e.sum)), `${name}: sum ${s} vs ${e.sum}`);
  }
}

/** A fresh temp dir removed after the test. */
export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ahs-io-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Asserts `fn` throws an AhsError with `code` whose message names `file` and matches `pattern`. */
export function assertAhsError(fn: () => unknown, code: ErrorCode, file: string, pattern?: RegExp): AhsError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AhsError, `expected an AhsError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.includes(file), `message should name ${file}: ${caught.message}`);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}
