// Images in and out: decoded with sharp to RGB uint8, EXIF orientation applied (as detectron2's
// read_image does), handed to the engine as [3, H, W] tensors.
import sharp from 'sharp';
import { existsSync } from 'node:fs';
import { AhsError } from '../errors.js';
import { fromBytes, tidy, type Tensor } from '../tensor/index.js';

export interface RgbImage {
  /** Interleaved RGB bytes, row-major: data[(y * width + x) * 3 + c]. */
  data: Uint8Array;
  width: number;
  height: number;
}

/** Decodes any image sharp reads (PNG, JPEG, WebP, TIFF, ...) from a path or bytes. */
export async function readImage(source: string | Uint8Array, name = typeof source === 'string' ? source : 'image'): Promise<RgbImage> {
  if (typeof source === 'string' && !existsSync(source)) throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `image ${source} not found`);
  try {
    const { data, info } = await sharp(source).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
  } catch (e) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `cannot decode image ${name}: ${(e as Error).message}`, { cause: e });
  }
}

/** Width and height as decoded (EXIF orientation applied), from the header alone. */
export async function readImageSize(path: string): Promise<{ width: number; height: number }> {
  if (!existsSync(path)) throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `image ${path} not found`);
  try {
    const m = await sharp(path).metadata();
    if (!m.width || !m.height) throw new Error('no size in the header');
    // EXIF orientations 5-8 turn the image by 90 degrees.
    return (m.orientation ?? 1) >= 5 ? { width: m.height, height: m.width } : { width: m.width, height: m.height };
  } catch (e) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `cannot read image ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** [3, H, W] uint8 tensor (CHW, as detectron2 feeds models). */
export function imageToTensor(img: RgbImage): Tensor {
  // In a scope of its own: the permuted view is freed too when the caller has no scope open.
  return tidy(() => fromBytes(img.data, 'uint8', [img.height, img.width, 3]).permute([2, 0, 1]).contiguous());
}

/** Encodes interleaved RGB bytes as PNG. */
export async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
