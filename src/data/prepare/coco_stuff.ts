// COCO-Stuff 171, as CAT-Seg's datasets/prepare_coco_stuff.py: the stuffthingmaps PNGs hold the
// 182 COCO-Stuff ids (0..181, 255 unlabeled) of which 11 thing ids are never used; the script
// maps the 171 used ids, in order, to 0..170 and everything else to 255. Both splits, as the
// script does (train2017 is the training set of every model here).
//
// --src: the unpacked downloads, either in the layout of the cocostuff README (which CAT-Seg's
//   README repeats), `images/{train2017,val2017}` from train2017.zip / val2017.zip and
//   `annotations/{train2017,val2017}` from stuffthingmaps_trainval2017.zip, or with the maps left
//   in `stuffthingmaps_trainval2017/`; a `coco-stuff/` level above is fine too.
// --root: coco-stuff/images/<split>/*.jpg (links) and coco-stuff/annotations_detectron2/<split>/*.png.

import { join, resolve } from 'node:path';
import { check } from '../../errors.js';
import { readLabelMap, writeLabelPng } from '../label_io.js';
import { applyLut, isDir, linkImages, listFiles, runTask, type PrepareOptions, type PrepareReport } from './common.js';

/** The COCO-Stuff ids (0-based) prepare_coco_stuff.py's COCO_CATEGORIES leaves out. */
const UNUSED_IDS = [11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90];

/** id -> trainId: the 171 used ids of 0..181 in increasing order become 0..170, the rest 255. */
export const COCO_STUFF_LUT: Uint8Array = (() => {
  const lut = new Uint8Array(256).fill(255);
  let next = 0;
  for (let id = 0; id <= 181; id++) if (!UNUSED_IDS.includes(id)) lut[id] = next++;
  return lut;
})();

const SPLITS = ['train2017', 'val2017'] as const;
const ANN_DIRS = ['annotations', 'stuffthingmaps_trainval2017', 'coco-stuff/annotations'];
const IMG_DIRS = ['images', 'coco-stuff/images'];
const ZIP_OF = { train2017: 'train2017.zip', val2017: 'val2017.zip' } as const;

async function firstDir(src: string, bases: readonly string[], split: string): Promise<string | undefined> {
  for (const b of bases) if (await isDir(join(src, b, split))) return join(src, b, split);
  return undefined;
}

export async function prepareCocoStuff(opts: PrepareOptions): Promise<PrepareReport> {
  const report: PrepareReport = { dataset: 'coco-stuff', tasks: [] };
  const found: { split: string; annDir: string; imgDir: string }[] = [];
  for (const split of SPLITS) {
    const annDir = await firstDir(opts.src, ANN_DIRS, split);
    if (annDir === undefined) {
      opts.log?.(`coco-stuff: no ${split} label maps under --src, ${split} skipped`);
      continue;
    }
    const imgDir = await firstDir(opts.src, IMG_DIRS, split);
    check(imgDir !== undefined, 'AHS_ERR_FILE_NOT_FOUND', () =>
      `coco-stuff: found the ${split} label maps in '${resolve(annDir)}' but not the ${split} images; ` +
      `unzip ${ZIP_OF[split]} (http://images.cocodataset.org/zips/${ZIP_OF[split]}) into ` +
      `'${join(resolve(opts.src), 'images')}'`);
    found.push({ split, annDir, imgDir });
  }
  check(found.length > 0, 'AHS_ERR_FILE_NOT_FOUND', () =>
    `coco-stuff: no label maps under --src '${resolve(opts.src)}': looked for ` +
    `${ANN_DIRS.flatMap((b) => SPLITS.map((s) => `'${join(b, s)}'`)).join(', ')}; unzip ` +
    `stuffthingmaps_trainval2017.zip (http://calvin.inf.ed.ac.uk/wp-content/uploads/data/cocostuffdataset/` +
    `stuffthingmaps_trainval2017.zip) into '${join(resolve(opts.src), 'annotations')}'`);

  for (const { split, annDir, imgDir } of found) {
    const names = await listFiles(annDir, '.png', `coco-stuff ${split} label maps`);
    check(names.length > 0, 'AHS_ERR_DATASET', () => `coco-stuff: '${resolve(annDir)}' holds no .png label maps`);
    const outDir = join(opts.root, 'coco-stuff', 'annotations_detectron2', split);
    report.tasks.push(await runTask(opts, `coco-stuff ${split} labels`, outDir, names, (n) => join(outDir, n), async (n, out) => {
      const path = join(annDir, n);
      const lab = await readLabelMap(path);
      // The script asserts uint8 input; a 16-bit map is not a stuffthingmaps file.
      check(lab.bitDepth === 8, 'AHS_ERR_FILE_FORMAT', () => `coco-stuff label map '${resolve(path)}' is 16-bit; stuffthingmaps PNGs are 8-bit`);
      await writeLabelPng(out, applyLut(lab.data, COCO_STUFF_LUT, new Uint8Array(lab.data.length), 255), lab.width, lab.height);
      return true;
    }));
    report.tasks.push(await linkImages(opts, `coco-stuff ${split} images`, imgDir, join(opts.root, 'coco-stuff', 'images', split), '.jpg'));
  }
  return report;
}
