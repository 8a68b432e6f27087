// ADE20K-847 (ADE20K-full), as CAT-Seg's datasets/prepare_ade20k_full.py, validation only (the
// script skips training). For each image of index_ade20k.pkl whose file name has 'val' as its
// second '_' field:
// * the class map is decoded from <name>_seg.png as floor(R / 10) * 256 + G;
// * if the shorter side exceeds 512, image and map are resized so that it is 512, the other side
//   round(long / short * 512) with Python's round; the image with cv2 INTER_LINEAR, the map
//   with INTER_NEAREST (cv_resize.ts re-does both exactly);
// * the 847 ids of ADE20K_SEM_SEG_FULL_CATEGORIES become their trainId 0..846, every other value
//   65535 (the ignore label), saved as a 16-bit TIFF;
// * the image is saved as JPEG, as PIL's Image.save does by default: quality 75, 4:2:0.
// Images are read as PIL reads them: no EXIF rotation, the ICC profile ignored, grey kept grey.
// On synthetic ADE-style data (5 images of 530x515 up to 1200x900) the labels and the decoded pixels
// of the written JPEGs were identical to the script's under Pillow 9.4 + OpenCV 4.6; the JPEG
// files' bytes are sharp's (Huffman tables optimised). Not matched: a CMYK JPEG, which PIL
// would keep as CMYK, is converted to RGB here.
//
// --src: ADE20K_2021_17_01.zip unpacked (the ADE20K_2021_17_01 folder with index_ade20k.pkl and
//   images/ADE/..., or the folder holding it).
// --root: ADE20K_2021_17_01/images_detectron2/validation/*.jpg and
//   ADE20K_2021_17_01/annotations_detectron2/validation/*.tif (16-bit, ignore 65535).

import { dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { AhsError, check } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic_write.js';
import { ADE847_IDS } from './ade20k_847_ids.js';
import { readAde20kIndex } from './ade20k_index.js';
import { exists, locate, readWholeFile, runTask, writeLabelTiff16, type PrepareOptions, type PrepareReport } from './common.js';
import { pyRound, resizeLinear, resizeNearest } from './cv_resize.js';

const DOWNLOAD = 'download ADE20K_2021_17_01.zip (https://groups.csail.mit.edu/vision/datasets/ADE20K/request_data/), unzip it and pass its folder';
const MAX_SIZE = 512;

/** Class-encoding value (R/10*256+G, at most 25*256+255) -> trainId, 65535 elsewhere. */
export const ADE847_LUT: Uint16Array = (() => {
  const lut = new Uint16Array(26 * 256).fill(65535);
  ADE847_IDS.forEach((id, trainId) => (lut[id] = trainId));
  return lut;
})();

/** The script's target size: the shorter side to 512 when it is longer; undefined = keep. */
export function ade847Size(w: number, h: number): { width: number; height: number } | undefined {
  if (w >= h && h > MAX_SIZE) return { height: MAX_SIZE, width: pyRound((w / h) * MAX_SIZE) };
  if (h >= w && w > MAX_SIZE) return { height: pyRound((h / w) * MAX_SIZE), width: MAX_SIZE };
  return undefined;
}

/** trainIds of a decoded _seg.png (interleaved, `channels` >= 2: R and G are used). */
export function ade847Labels(seg: Uint8Array, channels: number): Uint16Array {
  const n = Math.floor(seg.length / channels);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = ADE847_LUT[Math.floor(seg[i * channels]! / 10) * 256 + seg[i * channels + 1]!]!;
  return out;
}

/** Where an index `folder` lies: the pickle names it from the parent of ADE20K_2021_17_01. */
export function resolveIndexFolder(datasetDir: string, folder: string): string {
  const parts = folder.split(/[\\/]+/);
  const at = parts.indexOf('ADE20K_2021_17_01');
  return at >= 0 ? join(datasetDir, ...parts.slice(at + 1)) : join(dirname(datasetDir), folder);
}

async function decode(path: string, what: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  check(await exists(path), 'AHS_ERR_FILE_NOT_FOUND', () => `ade847: ${what} '${path}' (listed in index_ade20k.pkl) is missing; ${DOWNLOAD}`);
  try {
    // PIL applies neither the EXIF orientation nor the ICC profile, and keeps a grey JPEG grey
    // (sharp would hand out 3 channels unless asked for 'b-w').
    const meta = await sharp(path).metadata();
    let pipe = sharp(path, { ignoreIcc: true });
    if (meta.channels === 1) pipe = pipe.toColourspace('b-w');
    else if (what === 'image' && meta.channels !== 3) pipe = pipe.removeAlpha().toColourspace('srgb');
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels };
  } catch (err) {
    throw new AhsError('AHS_ERR_FILE_FORMAT', `ade847: cannot decode ${what} '${path}': ${(err as Error).message}`, { cause: err });
  }
}

export async function prepareAde847(opts: PrepareOptions): Promise<PrepareReport> {
  const dataset = await locate(opts.src, ['', 'ADE20K_2021_17_01'], 'index_ade20k.pkl', DOWNLOAD);
  const indexPath = resolve(join(dataset, 'index_ade20k.pkl'));
  opts.log?.(`ade847: reading ${indexPath}`);
  const index = readAde20kIndex(await readWholeFile(indexPath, 'ADE20K index'), indexPath);
  const items = index.filename
    .map((name, i) => ({ name, folder: index.folder[i]! }))
    .filter((it) => it.name.split('_')[1] === 'val');
  check(items.length > 0, 'AHS_ERR_DATASET', () => `ade847: '${indexPath}' lists no validation images (ADE_val_*.jpg)`);

  const base = join(opts.root, 'ADE20K_2021_17_01');
  const imgOut = join(base, 'images_detectron2', 'validation');
  const labOut = join(base, 'annotations_detectron2', 'validation');
  // The label is written after the image, so a finished label means a finished pair.
  const task = await runTask(opts, 'ade847 validation images and labels', labOut, items, (it) => join(labOut, it.name.replaceAll('.jpg', '.tif')), async (it, out) => {
    const imgPath = resolve(resolveIndexFolder(dataset, it.folder), it.name);
    const img = await decode(imgPath, 'image');
    const seg = await decode(imgPath.replaceAll('.jpg', '_seg.png'), 'segmentation');
    check(seg.channels >= 2, 'AHS_ERR_FILE_FORMAT', () => `ade847: '${imgPath.replaceAll('.jpg', '_seg.png')}' is single-channel; ADE20K _seg.png files are RGB`);
    check(seg.width === img.width && seg.height === img.height, 'AHS_ERR_DATASET',
      () => `ade847: '${imgPath}' is ${img.width}x${img.height} but its _seg.png is ${seg.width}x${seg.height}`);
    let pixels = img.data;
    let labels = ade847Labels(seg.data, seg.channels);
    let { width, height } = img;
    const size = ade847Size(width, height);
    if (size !== undefined) {
      pixels = resizeLinear(pixels, width, height, img.channels, size.width, size.height);
      labels = resizeNearest(labels, width, height, 1, size.width, size.height);
      ({ width, height } = size);
    }
    let enc = sharp(pixels, { raw: { width, height, channels: img.channels as 1 | 3 } });
    if (img.channels === 1) enc = enc.toColourspace('b-w');
    await writeFileAtomic(join(imgOut, it.name), await enc.jpeg({ quality: 75, chromaSubsampling: '4:2:0' }).toBuffer());
    await writeLabelTiff16(out, labels, width, height);
    return true;
  });
  return { dataset: 'ade847', tasks: [task] };
}
