// Reading and writing label maps (one integer label per pixel) with sharp.
//
// Benchmarks store ground truth as 8-bit grayscale PNG (ADE-150, PC-59, VOC, COCO-Stuff; ignore
// 255) or 16-bit grayscale TIFF (ADE-847 with ignore 65535, PC-459 with ignore 459). Two sharp
// pitfalls decide the code below:
// * sharp converts to sRGB by default, on read and on write. A 16-bit grey image read with plain
//   `.raw()` comes back as 3 channels scaled to 8 bits, and an 8-bit label written with plain
//   `.png()` becomes RGB. So reads and writes pin the colourspace: 'b-w' for 8-bit, 'grey16'
//   for 16-bit, which leaves the values untouched.
// * sharp expands palette PNGs to RGB, losing the palette indices PIL would return. Palette and
//   colour images are therefore rejected with a message saying what to convert them to.

import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../io/atomic_write.js';
import sharp from 'sharp';
import { AhsError, check } from '../errors.js';

export interface LabelMap {
  width: number;
  height: number;
  /** Row-major labels; Uint8Array for 8-bit files, Uint16Array for 16-bit ones. */
  data: Uint8Array | Uint16Array;
  /** Bits per sample of the file the map was read from (or will be written as). */
  bitDepth: 8 | 16;
}

/** Reads an 8- or 16-bit single-channel PNG or TIFF label map, values exactly as stored. */
export async function readLabelMap(path: string): Promise<LabelMap> {
  let input: Buffer;
  try {
    input = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `label map '${path}' does not exist`, { cause: err });
    }
    throw err;
  }
  let meta: sharp.Metadata;
  try {
    meta = await sharp(input).metadata();
  } catch (err) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `label map '${path}' is not a readable image: ${(err as Error).message}`, {
      cause: err,
    });
  }
  check(
    meta.format === 'png' || meta.format === 'tiff',
    'AHS_ERR_FILE_FORMAT',
    () => `label map '${path}' is ${meta.format ?? 'an unknown format'}; expected a PNG or TIFF`,
  );
  check(
    !meta.isPalette && meta.channels === 1,
    'AHS_ERR_FILE_FORMAT',
    () =>
      `label map '${path}' has ${meta.isPalette ? 'a colour palette' : `${meta.channels} channels`} ` +
      `(${meta.space}); label maps must be single-channel grayscale with the class index as the ` +
      `pixel value (convert palette PNGs to their index values first)`,
  );
  const bits = meta.bitsPerSample;
  check(
    (meta.depth === 'uchar' || meta.depth === 'ushort') && (bits === undefined || bits === 8 || bits === 16),
    'AHS_ERR_FILE_FORMAT',
    () =>
      `label map '${path}' has ${bits ?? '?'}-bit samples (${meta.depth}); only 8- and 16-bit ` +
      `unsigned grayscale is supported`,
  );
  const width = meta.width;
  const height = meta.height;
  if (meta.depth === 'ushort') {
    const { data } = await sharp(input).toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({
      resolveWithObject: true,
    });
    const labels = new Uint16Array(width * height);
    check(
      data.length === labels.byteLength,
      'AHS_ERR_FILE_FORMAT',
      () => `label map '${path}': decoded ${data.length} bytes for ${width}x${height} 16-bit pixels`,
    );
    // Copy into a fresh, 2-byte-aligned buffer: sharp's Buffer may sit at an odd pool offset.
    // Both sides are native-endian, which is how sharp hands out ushort samples.
    new Uint8Array(labels.buffer).set(data);
    return { width, height, data: labels, bitDepth: 16 };
  }
  const { data } = await sharp(input).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
  check(
    data.length === width * height,
    'AHS_ERR_FILE_FORMAT',
    () => `label map '${path}': decoded ${data.length} bytes for ${width}x${height} 8-bit pixels`,
  );
  return { width, height, data: new Uint8Array(data), bitDepth: 8 };
}

/** Encodes labels as a grayscale PNG: 8-bit when every value is <= 255, else 16-bit. */
export async function encodeLabelPng(
  labels: ArrayLike<number>,
  width: number,
  height: number,
  what = 'label map',
): Promise<Buffer> {
  check(
    Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0,
    'AHS_ERR_INVALID_ARGUMENT',
    () => `${what}: width and height must be positive integers, got ${width}x${height}`,
  );
  check(
    labels.length === width * height,
    'AHS_ERR_SHAPE',
    () => `${what}: ${labels.length} labels do not fill ${width}x${height} = ${width * height} pixels`,
  );
  let max = 0;
  for (let i = 0; i < labels.length; i++) {
    const v = labels[i];
    if (!Number.isInteger(v) || v < 0 || v > 65535) {
      throw new AhsError(
        'AHS_ERR_INVALID_ARGUMENT',
        `${what}: label ${v} at pixel ${i} does not fit an unsigned 16-bit PNG`,
      );
    }
    if (v > max) max = v;
  }
  const raw = { width, height, channels: 1 as const };
  if (max > 255) {
    return sharp(Uint16Array.from(labels), { raw }).toColourspace('grey16').png().toBuffer();
  }
  return sharp(Uint8Array.from(labels), { raw }).toColourspace('b-w').png().toBuffer();
}

/** Writes labels as an 8- or 16-bit grayscale PNG (see encodeLabelPng), atomically. */
export async function writeLabelPng(
  path: string,
  labels: ArrayLike<number>,
  width: number,
  height: number,
): Promise<void> {
  const png = await encodeLabelPng(labels, width, height, `label map '${path}'`);
  // Atomic so a reader never sees half a PNG (eval on a folder being written, crashes).
  await writeFileAtomic(path, png);
}
