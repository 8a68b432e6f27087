// Writers of TINY copies of the official dataset formats, for the prepare tests: grayscale PNG
// label maps, JPEG images, RGB PNGs, MATLAB v5 .mat files (plain and miCOMPRESSED), COCO
// compressed RLE strings and Python pickles. Each is written independently of the readers
// under test (by the format's spec, not by calling src/data/prepare).

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { AhsError, type ErrorCode } from '../../../../src/errors.js';

export const W = 8;
export const H = 6;

export async function tempDir(tag: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ahs-prepare-${tag}-`));
}

async function put(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

/** 8-bit single-channel PNG with the given values (row-major). */
export async function writeGreyPng(path: string, values: ArrayLike<number>, w = W, h = H): Promise<void> {
  await put(path, await sharp(Uint8Array.from(values), { raw: { width: w, height: h, channels: 1 } }).toColourspace('b-w').png().toBuffer());
}

/** RGB PNG from interleaved bytes. */
export async function writeRgbPng(path: string, rgb: Uint8Array, w = W, h = H): Promise<void> {
  await put(path, await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer());
}

/** A flat-coloured JPEG (content does not matter to the label tests). */
export async function writeJpeg(path: string, w = W, h = H, rgb = [120, 60, 30]): Promise<void> {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) px.set(rgb, i * 3);
  await put(path, await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).toBuffer());
}

export async function writeText(path: string, text: string): Promise<void> {
  await put(path, text);
}

/** Asserts `p` rejects with an AhsError of `code` whose message contains every `parts`. */
export async function rejectsWith(p: Promise<unknown>, code: ErrorCode, ...parts: string[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AhsError, `expected an AhsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const part of parts) assert.ok(err.message.includes(part), `message lacks '${part}': ${err.message}`);
    return true;
  });
}

// ------------------------------------------------------------------ MATLAB level 5
const pad8 = (b: Buffer) => Buffer.concat([b, Buffer.alloc((8 - (b.length % 8)) % 8)]);
function element(type: number, body: Buffer): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(type, 0);
  tag.writeUInt32LE(body.length, 4);
  return Buffer.concat([tag, pad8(body)]);
}

/** A .mat file holding one uint16 matrix `name` (row-major `values`, h x w), stored as miUINT16. */
export function matFile(name: string, values: ArrayLike<number>, w: number, h: number, opts: { compress?: boolean; mxDouble?: boolean } = {}): Buffer {
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, written by the ahs-seg tests', 0, 'latin1');
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(opts.mxDouble ? 6 : 11, 0); // mxDOUBLE_CLASS / mxUINT16_CLASS
  const dims = Buffer.alloc(8);
  dims.writeInt32LE(h, 0);
  dims.writeInt32LE(w, 4);
  const col = Buffer.alloc(w * h * (opts.mxDouble ? 8 : 2));
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const i = x * h + y; // MATLAB is column-major
      if (opts.mxDouble) col.writeDoubleLE(values[y * w + x]!, i * 8);
      else col.writeUInt16LE(values[y * w + x]!, i * 2);
    }
  }
  const matrix = element(14, Buffer.concat([
    element(6, flags), element(5, dims), element(1, Buffer.from(name, 'latin1')), element(opts.mxDouble ? 9 : 4, col),
  ]));
  // A char variable first, so the reader has to skip something it does not need.
  const other = element(14, Buffer.concat([element(6, Buffer.from([4, 0, 0, 0, 0, 0, 0, 0])), element(5, Buffer.from([1, 0, 0, 0, 2, 0, 0, 0])),
    element(1, Buffer.from('note', 'latin1')), element(4, Buffer.from([104, 0, 105, 0]))]));
  const body = opts.compress
    ? Buffer.concat([other, compressed(matrix)])
    : Buffer.concat([other, matrix]);
  return Buffer.concat([header, body]);
}

function compressed(el: Buffer): Buffer {
  const z = deflateSync(el);
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(15, 0);
  tag.writeUInt32LE(z.length, 4);
  return Buffer.concat([tag, z]);
}

// ------------------------------------------------------------------ COCO RLE
/** pycocotools' rleToString of a row-major 0/1 mask (runs go down the columns). */
export function rleEncode(mask: ArrayLike<number>, w: number, h: number): { size: [number, number]; counts: string } {
  const cnts: number[] = [];
  let v = 0;
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const m = mask[y * w + x] ? 1 : 0;
      if (m !== v) {
        cnts.push(run);
        run = 0;
        v = m;
      }
      run++;
    }
  }
  cnts.push(run);
  let s = '';
  cnts.forEach((c, i) => {
    let x = i > 2 ? c - cnts[i - 2]! : c;
    let more = true;
    while (more) {
      let ch = x & 0x1f;
      x >>= 5;
      more = ch & 0x10 ? x !== -1 : x !== 0;
      if (more) ch |= 0x20;
      s += String.fromCharCode(ch + 48);
    }
  });
  return { size: [h, w], counts: s };
}

// ------------------------------------------------------------------ pickle (protocol 2)
function pyStr(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return Buffer.concat([Buffer.from('X'), len, b]);
}

/** pickle.dumps({key: [str, ...], ...}, protocol=2). */
export function pickleDictOfStrLists(d: Record<string, string[]>): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 2]), Buffer.from('}(')];
  for (const [k, list] of Object.entries(d)) {
    parts.push(pyStr(k), Buffer.from(']('), ...list.map(pyStr), Buffer.from('e'));
  }
  parts.push(Buffer.from('u.'));
  return Buffer.concat(parts);
}
