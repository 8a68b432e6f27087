// PASCAL Context 59, as CAT-Seg's datasets/prepare_pascal_context_59.py. That script reads
// trainval_merged.json (the Detail API annotation file) with json + pycocotools, not the Detail
// API itself: for every image with phase "val" it starts from a zero mask of the image's size,
// paints each of the image's `annos_segmentation` RLE masks with its category_id (459-class
// ids, 0 = unlabeled) in file order, later ones over earlier ones, then maps the 60 ids of its
// `_mapping` (sorted) to 255, 0, 1, ..., 58: id 0 -> 255, the 59 classes -> 0..58, and every other
// id -> 255. We do the same with our own RLE decoder (coco_rle.ts) and a streaming scan of the
// JSON (json_scan.ts). One difference: a val image without any segment makes the script crash
// (KeyError); here it gets an all-255 map and a line in the log.
//
// --src: VOCdevkit/VOC2010 (see pascal_context_459.ts) with trainval_merged.json
//   (https://codalabuser.blob.core.windows.net/public/trainval_merged.json) in VOC2010/ or in --src.
// --root: VOCdevkit/VOC2010/JPEGImages/*.jpg (links) and
//   VOCdevkit/VOC2010/annotations_detectron2/pc59_val/*.png.

import { join, parse, resolve } from 'node:path';
import { check } from '../../errors.js';
import { writeLabelPng } from '../label_io.js';
import { decodeRle, type Rle } from './coco_rle.js';
import { forEachTopLevelItem } from './json_scan.js';
import { findBeside, locateVoc2010 } from './pascal_context_459.js';
import { isDone, linkImages, readWholeFile, runTask, type PrepareOptions, type PrepareReport } from './common.js';

/** `_mapping` of prepare_pascal_context_59.py (sorted there with np.sort). */
const MAPPING = [
  0, 2, 259, 260, 415, 324, 9, 258, 144, 18, 19, 22, 23, 397, 25, 284,
  158, 159, 416, 33, 162, 420, 454, 295, 296, 427, 44, 45, 46, 308, 59,
  440, 445, 31, 232, 65, 354, 424, 68, 326, 72, 458, 34, 207, 80, 355,
  85, 347, 220, 349, 360, 98, 187, 104, 105, 366, 189, 368, 113, 115,
].sort((a, b) => a - b);

/** category id (0..65535) -> pc59 label: the i-th sorted id -> uint8(i - 1), others 255. */
export const PC59_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(65536).fill(255);
  MAPPING.forEach((id, i) => (lut[id] = (i + 255) & 255));
  return lut;
})();

const JSON_URL = 'https://codalabuser.blob.core.windows.net/public/trainval_merged.json';

interface ValImage {
  id: number;
  fileName: string;
  width: number;
  height: number;
  annos: { category_id: number; segmentation: Rle }[];
}

/** The pc59 map of one image: segments painted in order, then mapped. */
export function pc59Mask(img: ValImage, source: string): Uint8Array {
  const ids = new Uint16Array(img.width * img.height);
  for (const a of img.annos) {
    const what = `${source}: segment of image ${img.id}`;
    const { width, height, mask } = decodeRle(a.segmentation, what);
    check(width === img.width && height === img.height, 'AHS_ERR_FILE_FORMAT',
      () => `${what} is ${width}x${height}, the image is ${img.width}x${img.height}`);
    check(Number.isInteger(a.category_id) && a.category_id >= 0 && a.category_id < 65536, 'AHS_ERR_FILE_FORMAT',
      () => `${what} has category_id ${String(a.category_id)}`);
    for (let i = 0; i < mask.length; i++) if (mask[i]) ids[i] = a.category_id;
  }
  const out = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = PC59_LUT[ids[i]!]!;
  return out;
}

export async function preparePc59(opts: PrepareOptions): Promise<PrepareReport> {
  const voc = await locateVoc2010(opts.src);
  const jsonPath = await findBeside(voc, opts.src, 'trainval_merged.json');
  check(jsonPath !== undefined, 'AHS_ERR_FILE_NOT_FOUND', () =>
    `pc59: no trainval_merged.json in '${resolve(voc)}' or '${resolve(opts.src)}'; download it (${JSON_URL}) into '${resolve(voc)}'`);
  const source = resolve(jsonPath);
  opts.log?.(`pc59: reading ${source}`);
  const buf = await readWholeFile(jsonPath, 'PASCAL Context annotations');

  const val = new Map<number, ValImage>();
  const hasImages = forEachTopLevelItem(buf, 'images', source, (item) => {
    const d = item as { image_id?: number; file_name?: string; height?: number; width?: number; phase?: string };
    if (d.phase !== 'val') return;
    check(typeof d.file_name === 'string' && Number.isInteger(d.height) && Number.isInteger(d.width), 'AHS_ERR_FILE_FORMAT',
      () => `${source}: val image ${String(d.image_id)} lacks file_name, height or width`);
    val.set(d.image_id!, { id: d.image_id!, fileName: d.file_name, width: d.width!, height: d.height!, annos: [] });
  });
  check(hasImages && val.size > 0, 'AHS_ERR_FILE_FORMAT', () =>
    `${source} has ${hasImages ? 'no images with phase "val"' : 'no "images" list'}; is it the Detail API trainval_merged.json (${JSON_URL})?`);

  const outDir = join(opts.root, 'VOCdevkit', 'VOC2010', 'annotations_detectron2', 'pc59_val');
  // filename.replace('jpg', 'png'), as the script names its outputs.
  const outPath = (img: ValImage) => join(outDir, img.fileName.replaceAll('jpg', 'png'));
  const images = [...val.values()];
  let todo = 0;
  for (const img of images) if (!(await isDone(outPath(img)))) todo++;
  if (todo > 0) {
    const hasAnnos = forEachTopLevelItem(buf, 'annos_segmentation', source, (item) => {
      const a = item as { image_id: number; category_id: number; segmentation: Rle };
      val.get(a.image_id)?.annos.push({ category_id: a.category_id, segmentation: a.segmentation });
    });
    check(hasAnnos, 'AHS_ERR_FILE_FORMAT', () => `${source} has no "annos_segmentation" list; is it the Detail API trainval_merged.json (${JSON_URL})?`);
    const bare = images.filter((i) => i.annos.length === 0).length;
    if (bare > 0) opts.log?.(`pc59: ${bare} val images have no segment; their maps are all 255`);
  }
  const task = await runTask(opts, 'pc59 val labels', outDir, images, outPath, async (img, out) => {
    await writeLabelPng(out, pc59Mask(img, source), img.width, img.height);
    img.annos = [];
    return true;
  });
  const stems = new Set(images.map((i) => parse(i.fileName).name));
  const links = await linkImages(opts, 'pc59 val images', join(voc, 'JPEGImages'), join(opts.root, 'VOCdevkit', 'VOC2010', 'JPEGImages'), '.jpg', stems);
  return { dataset: 'pc59', tasks: [task, links] };
}
