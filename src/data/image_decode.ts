// Image decoding for the training loader, with sharp alone. image_io.ts decodes the same way, but
// it also imports the tensor engine (for imageToTensor); loader workers import this file instead so
// that their module graph holds nothing of src/tensor (no libtorch, a fast worker start).
// Semantics match image_io.readImage and detectron2's read_image: EXIF orientation applied, alpha
// dropped, sRGB, interleaved 8-bit RGB.
import sharp from 'sharp';

export interface DecodedRgb {
  width: number;
  height: number;
  /** data[(y * width + x) * 3 + c], RGB. */
  data: Uint8Array;
}

/** Decodes the whole image; throws sharp's own error (callers add the dataset context). */
export async function decodeRgb(path: string): Promise<DecodedRgb> {
  const { data, info } = await sharp(path).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new Error(`decoded to ${info.width}x${info.height} with ${info.channels} channels (${data.length} bytes); expected RGB`);
  }
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Width and height after EXIF orientation, from the file header only (no pixel decode). */
export async function readImageSize(path: string): Promise<{ width: number; height: number }> {
  const meta = await sharp(path).metadata();
  // autoOrient swaps width and height for EXIF orientations 5-8 (90/270 degree rotations).
  const { width, height } = meta.autoOrient ?? meta;
  if (!width || !height) throw new Error(`header has no image size (format ${meta.format ?? 'unknown'})`);
  return { width, height };
}
