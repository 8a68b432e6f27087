// What `segment` accepts as an image: a file path, the bytes of an encoded image (PNG, JPEG, WebP,
// TIFF: what a browser upload or an HTTP body holds), or raw pixels with their size (RGB, or RGBA
// as a canvas's ImageData gives them; alpha is dropped). Decoded with sharp, EXIF orientation
// applied, as the CLI and the evaluator decode files.
import sharp from 'sharp';
import { AhsError, printable } from '../errors.js';
import { readImage, type RgbImage } from '../data/image_io.js';

export interface RawImage {
  /** Interleaved pixels, row-major: data[(y * width + x) * channels + c]. */
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 3 (RGB, default) or 4 (RGBA). */
  channels?: 3 | 4;
}

export type ImageInput = string | Uint8Array | RawImage;

export const ENCODED_FORMATS = ['png', 'jpeg', 'webp', 'tiff'] as const;

const isRaw = (x: unknown): x is RawImage => typeof x === 'object' && x !== null && !(x instanceof Uint8Array) && 'data' in x;

/** A name for messages: the path, or what kind of value was given. */
export function describeInput(input: unknown): string {
  if (typeof input === 'string') return `image '${printable(input)}'`;
  if (input instanceof Uint8Array) return `image bytes (${input.byteLength} bytes)`;
  if (isRaw(input)) return `raw image ${input.width}x${input.height}`;
  return 'image';
}

export async function decodeImageInput(input: ImageInput): Promise<RgbImage> {
  if (typeof input === 'string') {
    if (input.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'image: an empty path');
    return readImage(input, `'${printable(input)}'`);
  }
  if (input instanceof Uint8Array) return decodeEncoded(input);
  if (isRaw(input)) return fromRaw(input);
  throw new AhsError('AHS_ERR_INVALID_ARGUMENT',
    `image: expected a file path, a Buffer/Uint8Array of PNG, JPEG, WebP or TIFF bytes, or { data, width, height } raw RGB pixels; got ${input === null ? 'null' : typeof input}`);
}

async function decodeEncoded(bytes: Uint8Array): Promise<RgbImage> {
  const what = describeInput(bytes);
  if (bytes.byteLength === 0) throw new AhsError('AHS_ERR_FILE_FORMAT', `${what}: empty`);
  let format: string | undefined;
  try {
    format = (await sharp(bytes).metadata()).format;
  } catch (e) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${what} are not an image sharp can read (${(e as Error).message}); give PNG, JPEG, WebP or TIFF`, { cause: e });
  }
  if (!(ENCODED_FORMATS as readonly string[]).includes(format ?? '')) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${what} are ${format ?? 'an unknown format'}; give PNG, JPEG, WebP or TIFF`);
  }
  return readImage(bytes, what);
}

function fromRaw(raw: RawImage): RgbImage {
  const { width, height } = raw;
  const channels = raw.channels ?? 3;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `raw image: width and height must be positive integers, got ${width}x${height}`);
  }
  if (channels !== 3 && channels !== 4) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `raw image: channels must be 3 (RGB) or 4 (RGBA), got ${String(channels)}`);
  if (!(raw.data instanceof Uint8Array || raw.data instanceof Uint8ClampedArray)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'raw image: data must be a Uint8Array (or Uint8ClampedArray) of 8-bit samples');
  }
  const want = width * height * channels;
  if (raw.data.length !== want) {
    throw new AhsError('AHS_ERR_SHAPE', `raw image: ${raw.data.length} bytes for ${width}x${height}x${channels} = ${want}`);
  }
  const src = raw.data;
  // A copy: the caller may reuse its buffer while the result's PNGs are still being encoded.
  if (channels === 3) return { data: Uint8Array.from(src), width, height };
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < want; i += 4, j += 3) { rgb[j] = src[i]!; rgb[j + 1] = src[i + 1]!; rgb[j + 2] = src[i + 2]!; }
  return { data: rgb, width, height };
}
