// A minimal ZIP reader for torch.save / torch.jit.save archives. Those store tensors uncompressed
// (STORED) and 64-byte aligned, and always end with a ZIP64 end-of-central-directory record, so we
// read the central directory from the tail and then any byte range of an entry directly, without
// touching the rest of a multi-GB file. DEFLATE entries (TorchScript's debug files, other tools'
// zips) are inflated whole.
//
// No descriptor is kept open: every read opens the file, checks its size did not change, reads
// and closes, so handles that outlive their use (lazy tensors) cannot leak descriptors.

import * as zlib from 'node:zlib';
import { AhsError, check } from '../errors.js';
import { checkSameSize, readExactly, withFile } from './file_range.js';
import { allocAligned } from './raw_tensor.js';

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;

export interface ZipEntry {
  name: string;
  /** 0 = STORED, 8 = DEFLATE. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  flags: number;
  localHeaderOffset: number;
}

function u64(buf: Buffer, at: number, path: string, what: string): number {
  const v = buf.readBigUInt64LE(at);
  check(v <= BigInt(Number.MAX_SAFE_INTEGER), 'AHS_ERR_FILE_FORMAT', () => `${path}: corrupt zip: ${what} ${v} is too large`);
  return Number(v);
}

export class ZipReader {
  private readonly byName = new Map<string, ZipEntry>();
  private readonly dataStarts = new Map<string, number>();

  private constructor(readonly path: string, private readonly fileSize: number, entries: ZipEntry[]) {
    for (const e of entries) if (!this.byName.has(e.name)) this.byName.set(e.name, e);
  }

  /** Reads the central directory of `path`; throws AHS_ERR_FILE_FORMAT when it is not a readable zip. */
  static open(path: string): ZipReader {
    return withFile(path, (fd, size) => new ZipReader(path, size, readCentralDirectory(fd, size, path)));
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  entry(name: string): ZipEntry | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The whole (decompressed) entry; its CRC-32 is checked. */
  readEntry(name: string): Buffer {
    const e = this.require(name);
    const raw = this.withDataStart(e, (fd, start) => readExactly(fd, this.path, start, e.compressedSize, `zip entry '${name}'`));
    let data: Buffer;
    if (e.method === METHOD_STORED) {
      data = raw;
    } else {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(e.size, 1) });
      } catch (err) {
        throw new AhsError('AHS_ERR_FILE_FORMAT', `${this.path}: zip entry '${name}' does not inflate (${(err as Error).message})`, { cause: err });
      }
    }
    check(data.byteLength === e.size, 'AHS_ERR_FILE_FORMAT',
      () => `${this.path}: zip entry '${name}' has ${data.byteLength} bytes, its directory says ${e.size}`);
    check(zlib.crc32(data) === e.crc32, 'AHS_ERR_FILE_FORMAT', () => `${this.path}: zip entry '${name}' fails its CRC-32 check (corrupt file)`);
    return data;
  }

  /** `length` bytes from `offset` inside the decompressed entry; STORED entries are read in place. */
  readRange(name: string, offset: number, length: number): Buffer {
    const e = this.require(name);
    check(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= e.size,
      'AHS_ERR_FILE_FORMAT', () => `${this.path}: range [${offset}, ${offset + length}) is outside zip entry '${name}' (${e.size} bytes)`);
    if (e.method !== METHOD_STORED) {
      const out = allocAligned(length);
      out.set(this.readEntry(name).subarray(offset, offset + length));
      return out;
    }
    return this.withDataStart(e, (fd, start) => readExactly(fd, this.path, start + offset, length, `zip entry '${name}'`));
  }

  private require(name: string): ZipEntry {
    const e = this.byName.get(name);
    if (!e) throw new AhsError('AHS_ERR_FILE_FORMAT', `${this.path}: missing zip entry '${name}'`);
    check((e.flags & 1) === 0, 'AHS_ERR_FILE_FORMAT', () => `${this.path}: zip entry '${name}' is encrypted`);
    check(e.method === METHOD_STORED || e.method === METHOD_DEFLATE, 'AHS_ERR_FILE_FORMAT',
      () => `${this.path}: zip entry '${name}' uses compression method ${e.method}; only STORED (0) and DEFLATE (8) are supported`);
    check(e.method !== METHOD_STORED || e.compressedSize === e.size, 'AHS_ERR_FILE_FORMAT',
      () => `${this.path}: stored zip entry '${name}' has size ${e.size} but ${e.compressedSize} stored bytes`);
    return e;
  }

  /** Opens the file and finds where the entry's bytes start (after its local header, whose extra field differs from the central one). */
  private withDataStart<T>(e: ZipEntry, fn: (fd: number, start: number) => T): T {
    return withFile(this.path, (fd, size) => {
      checkSameSize(this.path, size, this.fileSize);
      let start = this.dataStarts.get(e.name);
      if (start === undefined) {
        const h = readExactly(fd, this.path, e.localHeaderOffset, 30, `local header of '${e.name}'`);
        check(h.readUInt32LE(0) === SIG_LOCAL, 'AHS_ERR_FILE_FORMAT',
          () => `${this.path}: corrupt zip: no local header for '${e.name}' at offset ${e.localHeaderOffset}`);
        start = e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
        const end = start + e.compressedSize;
        check(end <= size, 'AHS_ERR_FILE_FORMAT',
          () => `${this.path}: file is truncated: zip entry '${e.name}' needs bytes up to ${end}, the file has ${size}`);
        this.dataStarts.set(e.name, start);
      }
      return fn(fd, start);
    });
  }
}

/** Finds the (ZIP64) end of central directory and parses every central directory entry. */
function readCentralDirectory(fd: number, size: number, path: string): ZipEntry[] {
  const bad = (what: string) => new AhsError('AHS_ERR_FILE_FORMAT', `${path}: not a valid zip archive: ${what}`);
  if (size < EOCD_SIZE) throw bad(`the file is ${size} bytes, too short`);
  const tailStart = Math.max(0, size - EOCD_SIZE - MAX_COMMENT);
  const tail = readExactly(fd, path, tailStart, size - tailStart, 'zip end of central directory');
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === SIG_EOCD && i + EOCD_SIZE + tail.readUInt16LE(i + 20) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw bad('no end-of-central-directory record (truncated file?)');
  const eocdPos = tailStart + at;
  check(tail.readUInt16LE(at + 4) === 0 && tail.readUInt16LE(at + 6) === 0, 'AHS_ERR_FILE_FORMAT', () => `${path}: multi-disk zip archives are not supported`);
  let count = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  let cdLimit = eocdPos;

  const locator = eocdPos >= 20 ? readExactly(fd, path, eocdPos - 20, 20, 'ZIP64 locator') : undefined;
  if (locator && locator.readUInt32LE(0) === SIG_ZIP64_LOCATOR) {
    const recPos = u64(locator, 8, path, 'ZIP64 record offset');
    if (recPos + 56 > eocdPos - 20) throw bad(`ZIP64 end-of-central-directory offset ${recPos} is out of range`);
    const rec = readExactly(fd, path, recPos, 56, 'ZIP64 end of central directory');
    if (rec.readUInt32LE(0) !== SIG_ZIP64_EOCD) throw bad(`no ZIP64 end-of-central-directory record at offset ${recPos}`);
    count = u64(rec, 32, path, 'entry count');
    cdSize = u64(rec, 40, path, 'central directory size');
    cdOffset = u64(rec, 48, path, 'central directory offset');
    cdLimit = recPos;
  } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw bad('ZIP64 fields without a ZIP64 locator');
  }
  if (cdOffset + cdSize > cdLimit) throw bad(`central directory [${cdOffset}, ${cdOffset + cdSize}) is out of range (truncated file?)`);
  if (count * 46 > cdSize) throw bad(`${count} entries cannot fit in a ${cdSize}-byte central directory`);

  const cd = readExactly(fd, path, cdOffset, cdSize, 'zip central directory');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== SIG_CENTRAL) throw bad(`central directory entry ${i} is corrupt`);
    const flags = cd.readUInt16LE(p + 8);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw bad(`central directory entry ${i} runs past the directory`);
    const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    let size = cd.readUInt32LE(p + 24);
    let compressedSize = cd.readUInt32LE(p + 20);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    // ZIP64 extended information: 64-bit values for exactly those fields that hold 0xFFFFFFFF.
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const next = (what: string) => {
          if (q + 8 > x + 4 + len) throw bad(`ZIP64 extra field of '${name}' is too short for its ${what}`);
          const v = u64(cd, q, path, `${what} of '${name}'`);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next('size');
        if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('local header offset');
      }
      x += 4 + len;
    }
    if (localHeaderOffset + 30 + compressedSize > cdOffset) {
      throw bad(`entry '${name}' (offset ${localHeaderOffset}, ${compressedSize} bytes) does not fit before the central directory`);
    }
    entries.push({ name, method: cd.readUInt16LE(p + 10), compressedSize, size, crc32: cd.readUInt32LE(p + 16), flags, localHeaderOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
