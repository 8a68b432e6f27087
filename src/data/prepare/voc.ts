// PASCAL VOC 2012, as CAT-Seg's datasets/prepare_voc.py, for the val list of
// ImageSets/Segmentation/val.txt and the SegmentationClassAug masks (0 background, 1..20 classes,
// 255 object boundaries / void). Two outputs per mask:
//   annotations_detectron2/val     (voc20):  k -> k-1, background 0 -> 255, 255 stays 255
//   annotations_detectron2_bg/val  (voc20b): k -> k-1, background 0 -> 20,  255 stays 255
// any other value becomes 255. As in the script, a mask that is entirely 255 after the mapping
// is not written at all (so voc20 has no file for an image that shows only background).
//
// --src: VOCtrainval_11-May-2012.tar unpacked (the folder holding VOCdevkit/, VOCdevkit itself,
//   or VOC2012), with SegmentationClassAug.zip unpacked into VOC2012/ (or next to it in --src).
// --root: VOCdevkit/VOC2012/JPEGImages/*.jpg (links, the val images) and the two folders above.

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AhsError, check } from '../../errors.js';
import { readLabelMap, writeLabelPng } from '../label_io.js';
import { isDir, linkImages, locate, runTask, type PrepareOptions, type PrepareReport } from './common.js';

/** clsID_to_trID of prepare_voc.py (without background) as a 256-entry table. */
export const VOC_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256).fill(255);
  for (let k = 1; k <= 20; k++) lut[k] = k - 1;
  return lut;
})();

/** clsID_to_trID_bg: the same with background 0 -> 20. */
export const VOC_BG_LUT: Uint8Array = (() => {
  const lut = Uint8Array.from(VOC_LUT);
  lut[0] = 20;
  return lut;
})();

const AUG_URL = 'https://www.dropbox.com/s/oeu149j8qtbs1x0/SegmentationClassAug.zip';
const TAR = 'unpack VOCtrainval_11-May-2012.tar (http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar) and pass the folder holding VOCdevkit';

/** Maps a mask; undefined when every pixel is 255 (the script then writes no file). */
export function mapVocMask(mask: ArrayLike<number>, lut: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(mask.length);
  let any = false;
  for (let i = 0; i < out.length; i++) {
    const v = mask[i]!;
    out[i] = v < 256 ? lut[v]! : 255;
    if (out[i] !== 255) any = true;
  }
  return any ? out : undefined;
}

export async function prepareVoc(opts: PrepareOptions): Promise<PrepareReport> {
  const valTxt = join('ImageSets', 'Segmentation', 'val.txt');
  const voc = await locate(opts.src, ['', 'VOC2012', join('VOCdevkit', 'VOC2012')], valTxt, TAR);
  let augDir: string | undefined;
  for (const d of [join(voc, 'SegmentationClassAug'), join(opts.src, 'SegmentationClassAug')]) {
    if (await isDir(d)) {
      augDir = d;
      break;
    }
  }
  check(augDir !== undefined, 'AHS_ERR_FILE_NOT_FOUND', () =>
    `voc: no SegmentationClassAug folder in '${resolve(voc)}' or '${resolve(opts.src)}'; download ` +
    `SegmentationClassAug.zip (${AUG_URL}) and unzip it into '${resolve(voc)}'`);
  const imgDir = join(voc, 'JPEGImages');
  check(await isDir(imgDir), 'AHS_ERR_FILE_NOT_FOUND', () => `voc: '${resolve(imgDir)}' is missing; ${TAR}`);

  // np.loadtxt(val.txt, dtype=str): one id per line.
  const ids = (await readFile(join(voc, valTxt), 'utf8')).split(/\s+/).filter((s) => s.length > 0);
  check(ids.length > 0, 'AHS_ERR_DATASET', () => `voc: '${resolve(join(voc, valTxt))}' lists no images`);

  const readMask = async (id: string) => {
    const path = join(augDir, `${id}.png`);
    try {
      return await readLabelMap(path);
    } catch (err) {
      if (err instanceof AhsError && err.code === 'AHS_ERR_FILE_NOT_FOUND') {
        throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `voc: '${resolve(path)}' (listed in val.txt) is missing; ` +
          `SegmentationClassAug.zip (${AUG_URL}) has a mask for every val image`, { cause: err });
      }
      throw err;
    }
  };
  const tasks = [];
  for (const [folder, lut, what] of [['annotations_detectron2', VOC_LUT, 'voc20'], ['annotations_detectron2_bg', VOC_BG_LUT, 'voc20b']] as const) {
    const outDir = join(opts.root, 'VOCdevkit', 'VOC2012', folder, 'val');
    tasks.push(await runTask(opts, `voc val labels (${what})`, outDir, ids, (id) => join(outDir, `${id}.png`), async (id, out) => {
      const mask = await readMask(id);
      const mapped = mapVocMask(mask.data, lut);
      if (mapped === undefined) return false;
      await writeLabelPng(out, mapped, mask.width, mask.height);
      return true;
    }));
  }
  tasks.push(await linkImages(opts, 'voc val images', imgDir, join(opts.root, 'VOCdevkit', 'VOC2012', 'JPEGImages'), '.jpg', new Set(ids)));
  return { dataset: 'voc', tasks };
}
