// safetensors (https://github.com/huggingface/safetensors): u64 little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {str: str}}, then the
// raw little-endian bytes, offsets relative to the end of the header. Every entry is validated
// when the file is opened so a bad file fails once, up front, with the tensor name in the message;
// tensors are then read one by one at their offsets.

import * as fs from 'node:fs';
import { AhsError, check, fmtShape } from '../errors.js';
import { checkSameSize, openForRead, readExactly, withFile } from './file_range.js';
import { DTYPE_ITEMSIZE, isValidShape, numelOf, type DTypeName, type LazyTensor, type RawTensor } from './raw_tensor.js';

const ST_TO_DTYPE: Record<string, DTypeName> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64', I64: 'int64',
  I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const DTYPE_TO_ST = Object.fromEntries(Object.entries(ST_TO_DTYPE).map(([k, v]) => [v, k])) as Record<DTypeName, string>;

/** The reference implementation refuses headers over 100 MB; so do we (a corrupt length would otherwise allocate GBs). */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  dtype: DTypeName;
  shape: number[];
  /** Absolute offset of the first byte in the file (not relative to the data section). */
  byteOffset: number;
  byteLength: number;
}

export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Record<string, string>;
  readonly entries: Map<string, SafetensorsEntry>;
  read(name: string): RawTensor;
  readAll(): Map<string, RawTensor>;
  close(): void;
}

interface Header {
  metadata: Record<string, string>;
  entries: Map<string, SafetensorsEntry>;
}

function parseHeader(fd: number, size: number, path: string): Header {
  const bad = (what: string) => new AhsError('AHS_ERR_FILE_FORMAT', `${path}: not a valid safetensors file: ${what}`);
  if (size < 8) throw bad(`the file is ${size} bytes, too short for the 8-byte header length`);
  const n64 = readExactly(fd, path, 0, 8, 'header length').readBigUInt64LE(0);
  if (n64 > BigInt(size - 8)) throw bad(`bad header length ${n64}: only ${size - 8} bytes follow it (truncated file?)`);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw bad(`bad header length ${n64}: more than ${MAX_HEADER_BYTES} bytes`);
  const headerLength = Number(n64);
  const text = readExactly(fd, path, 8, headerLength, 'JSON header').toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad(`header is not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('header JSON is not an object');

  const dataStart = 8 + headerLength;
  const dataSize = size - dataStart;
  const metadata: Record<string, string> = {};
  const entries = new Map<string, SafetensorsEntry>();
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw bad(`__metadata__['${k}'] is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof e !== 'object' || e === null) throw bad(`entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string') throw bad(`entry '${name}' has no dtype`);
    const dtype = ST_TO_DTYPE[e.dtype];
    if (dtype === undefined) {
      throw new AhsError('AHS_ERR_DTYPE', `${path}: tensor '${name}' has dtype ${e.dtype}; supported: ${Object.keys(ST_TO_DTYPE).join(', ')}`);
    }
    if (!isValidShape(e.shape)) throw bad(`entry '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0) || offs[0] > offs[1]) {
      throw bad(`entry '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataSize) throw bad(`tensor '${name}' offsets [${begin}, ${end}] are out of range: the data section has ${dataSize} bytes (truncated file?)`);
    const expected = numelOf(e.shape) * DTYPE_ITEMSIZE[dtype];
    if (end - begin !== expected) {
      throw bad(`tensor '${name}' (${e.dtype} ${fmtShape(e.shape)}) needs ${expected} bytes but its offsets [${begin}, ${end}] span ${end - begin}`);
    }
    entries.set(name, { dtype, shape: e.shape, byteOffset: dataStart + begin, byteLength: expected });
  }
  const sorted = [...entries].filter(([, e]) => e.byteLength > 0).sort((a, b) => a[1].byteOffset - b[1].byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const [prevName, prev] = sorted[i - 1]!;
    const [curName, cur] = sorted[i]!;
    if (cur.byteOffset < prev.byteOffset + prev.byteLength) throw bad(`tensors '${prevName}' and '${curName}' overlap`);
  }
  return { metadata, entries };
}

function noSuchTensor(path: string, name: string, entries: Map<string, unknown>): AhsError {
  const some = [...entries.keys()].slice(0, 8).join(', ');
  return new AhsError('AHS_ERR_INVALID_ARGUMENT', `${path}: no tensor '${name}' (the file has ${entries.size}: ${some}${entries.size > 8 ? ', ...' : ''})`);
}

function readEntry(fd: number, path: string, name: string, e: SafetensorsEntry): RawTensor {
  return { dtype: e.dtype, shape: [...e.shape], data: readExactly(fd, path, e.byteOffset, e.byteLength, `tensor '${name}'`) };
}

/** Opens a safetensors file, validates its header and keeps it open until close(). */
export function openSafetensors(path: string): SafetensorsFile {
  const { fd, size } = openForRead(path);
  let header: Header;
  try {
    header = parseHeader(fd, size, path);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  let open = true;
  const { metadata, entries } = header;
  const read = (name: string): RawTensor => {
    check(open, 'AHS_ERR_INVALID_ARGUMENT', () => `${path}: read('${name}') after close()`);
    const e = entries.get(name);
    if (!e) throw noSuchTensor(path, name, entries);
    return readEntry(fd, path, name, e);
  };
  return {
    path,
    metadata,
    entries,
    read,
    readAll: () => new Map([...entries.keys()].map((name) => [name, read(name)])),
    close: () => {
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

/**
 * The tensors of a safetensors file as lazy handles that hold no descriptor: each read() opens the
 * file, checks it still has the size the header was validated against, reads and closes.
 */
export function readSafetensorsLazy(path: string): { metadata: Record<string, string>; tensors: Map<string, LazyTensor> } {
  const { metadata, entries, size } = withFile(path, (fd, size) => ({ ...parseHeader(fd, size, path), size }));
  const tensors = new Map<string, LazyTensor>();
  for (const [name, e] of entries) {
    tensors.set(name, {
      dtype: e.dtype,
      shape: e.shape,
      read: () => withFile(path, (fd, now) => {
        checkSameSize(path, now, size);
        return readEntry(fd, path, name, e);
      }),
    });
  }
  return { metadata, tensors };
}

/**
 * Writes tensors in the given order, header padded with spaces to a multiple of 8 as the reference
 * does. The file appears atomically: written to `<path>.tmp-<pid>`, flushed, then renamed.
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, RawTensor> | Map<string, RawTensor>,
  metadata?: Record<string, string>,
): void {
  const list = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      check(typeof v === 'string', 'AHS_ERR_INVALID_ARGUMENT', () => `writeSafetensors ${path}: metadata['${k}'] must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of list) {
    check(name !== '__metadata__' && name.length > 0, 'AHS_ERR_INVALID_ARGUMENT', () => `writeSafetensors ${path}: invalid tensor name '${name}'`);
    check(t.dtype in DTYPE_TO_ST, 'AHS_ERR_DTYPE', () => `writeSafetensors ${path}: tensor '${name}' has unknown dtype ${String(t.dtype)}`);
    check(isValidShape(t.shape), 'AHS_ERR_SHAPE', () => `writeSafetensors ${path}: tensor '${name}' has an invalid shape ${JSON.stringify(t.shape)}`);
    const bytes = numelOf(t.shape) * DTYPE_ITEMSIZE[t.dtype];
    check(t.data.byteLength === bytes, 'AHS_ERR_SHAPE',
      () => `writeSafetensors ${path}: tensor '${name}' (${t.dtype} ${fmtShape(t.shape)}) needs ${bytes} bytes, its data has ${t.data.byteLength}`);
    header[name] = { dtype: DTYPE_TO_ST[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  json = Buffer.concat([json, Buffer.alloc((8 - (json.byteLength % 8)) % 8, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.byteLength));

  const tmp = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w');
    const writeAll = (buf: Uint8Array) => {
      for (let done = 0; done < buf.byteLength;) done += fs.writeSync(fd!, buf, done, buf.byteLength - done);
    };
    writeAll(prefix);
    writeAll(json);
    for (const [, t] of list) writeAll(t.data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (err instanceof AhsError) throw err;
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${path}: cannot write safetensors file (${(err as Error).message})`, { cause: err });
  }
}
