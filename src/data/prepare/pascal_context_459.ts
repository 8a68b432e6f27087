// PASCAL Context 459, as CAT-Seg's datasets/prepare_pascal_context_459.py: for each id of
// pascalcontext_val.txt whose trainval/<id>.mat exists (the others are skipped silently, as the
// script does), `LabelMap - 1` is saved as a TIFF. LabelMap holds 1..459 (labels.txt's
// indices), so the output holds 0..458; register_pascal_context.py sets ignore_label 459.
//
// Not knowable from the script: the storage class of LabelMap. The script's output dtype follows
// it (PIL writes uint16 as a 16-bit TIFF), and its `assert min >= 0` only bites for signed or
// float classes. We always write 16-bit grayscale TIFF (what the benchmark reads) and, in the
// spirit of that assert, refuse a map with a 0 or a value above 65536 instead of wrapping it.
//
// --src: VOCdevkit/VOC2010 (from VOCtrainval_03-May-2010.tar; or the folder holding VOCdevkit),
//   with trainval/*.mat and labels.txt from trainval.tar.gz and CAT-Seg's
//   datasets/pascalcontext_val.txt, in VOC2010/ (as CAT-Seg's README puts them) or in --src.
// --root: VOCdevkit/VOC2010/JPEGImages/*.jpg (links) and
//   VOCdevkit/VOC2010/annotations_detectron2/pc459_val/*.tif (16-bit).

import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AhsError, check } from '../../errors.js';
import { exists, isDir, linkImages, locate, readWholeFile, runTask, writeLabelTiff16, type PrepareOptions, type PrepareReport } from './common.js';
import { matMatrix2d, readMat } from './mat_reader.js';

export const VOC2010_TAR = 'unpack VOCtrainval_03-May-2010.tar (http://host.robots.ox.ac.uk/pascal/VOC/voc2010/VOCtrainval_03-May-2010.tar) and pass the folder holding VOCdevkit';
const TRAINVAL_URL = 'https://roozbehm.info/pascal-context/trainval.tar.gz';
const VAL_LIST_URL = 'https://github.com/cvlab-kaist/CAT-Seg/blob/main/datasets/pascalcontext_val.txt';

/** The VOC2010 folder of --src (it must hold JPEGImages). */
export async function locateVoc2010(src: string): Promise<string> {
  return locate(src, ['', 'VOC2010', join('VOCdevkit', 'VOC2010')], 'JPEGImages', VOC2010_TAR);
}

/** `name` in the VOC2010 folder, else in --src; undefined when in neither. */
export async function findBeside(voc: string, src: string, name: string): Promise<string | undefined> {
  for (const p of [join(voc, name), join(src, name)]) if (await exists(p)) return p;
  return undefined;
}

/** LabelMap (1-based, row-major) -> 0-based uint16 labels; refuses what the script's assert would. */
export function pc459Labels(labelMap: Float64Array, source: string): Uint16Array {
  const out = new Uint16Array(labelMap.length);
  for (let i = 0; i < out.length; i++) {
    const v = labelMap[i]! - 1;
    if (!(v >= 0 && v <= 65535 && Number.isInteger(v))) {
      throw new AhsError('AHS_ERR_DATASET', `pc459: '${source}' has LabelMap value ${labelMap[i]} at pixel ${i}; ` +
        `PASCAL Context labels are 1..459 (is this a trainval.tar.gz .mat file?)`);
    }
    out[i] = v;
  }
  return out;
}

export async function preparePc459(opts: PrepareOptions): Promise<PrepareReport> {
  const voc = await locateVoc2010(opts.src);
  const matDir = join(voc, 'trainval');
  const matDirSrc = join(opts.src, 'trainval');
  const mats = (await isDir(matDir)) ? matDir : (await isDir(matDirSrc)) ? matDirSrc : undefined;
  check(mats !== undefined, 'AHS_ERR_FILE_NOT_FOUND', () =>
    `pc459: no trainval/ folder of .mat files in '${resolve(voc)}' or '${resolve(opts.src)}'; download ` +
    `trainval.tar.gz (${TRAINVAL_URL}) and unpack it into '${resolve(voc)}'`);
  // The script opens labels.txt (and only builds a name table from it), so its absence is an error there too.
  const labels = await findBeside(voc, opts.src, 'labels.txt');
  check(labels !== undefined, 'AHS_ERR_FILE_NOT_FOUND', () =>
    `pc459: no labels.txt in '${resolve(voc)}' or '${resolve(opts.src)}'; it comes with trainval.tar.gz (${TRAINVAL_URL})`);
  const valList = await findBeside(voc, opts.src, 'pascalcontext_val.txt');
  check(valList !== undefined, 'AHS_ERR_FILE_NOT_FOUND', () =>
    `pc459: no pascalcontext_val.txt in '${resolve(voc)}' or '${resolve(opts.src)}'; it is not part of the ` +
    `official downloads: copy CAT-Seg's datasets/pascalcontext_val.txt (${VAL_LIST_URL}) into '${resolve(voc)}'`);

  const ids = (await readFile(valList, 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const present: string[] = [];
  for (const id of ids) if (await exists(join(mats, `${id}.mat`))) present.push(id);
  if (present.length < ids.length) opts.log?.(`pc459: ${ids.length - present.length} of ${ids.length} val ids have no .mat in '${resolve(mats)}' (skipped, as the script does)`);
  check(present.length > 0, 'AHS_ERR_DATASET', () =>
    `pc459: none of the ${ids.length} ids of '${resolve(valList)}' has a .mat file in '${resolve(mats)}'; ` +
    `unpack trainval.tar.gz (${TRAINVAL_URL}) there`);

  const outDir = join(opts.root, 'VOCdevkit', 'VOC2010', 'annotations_detectron2', 'pc459_val');
  const task = await runTask(opts, 'pc459 val labels', outDir, present, (id) => join(outDir, `${id}.tif`), async (id, out) => {
    const path = resolve(join(mats, `${id}.mat`));
    const m = matMatrix2d(readMat(await readWholeFile(path, 'PASCAL Context .mat'), path), 'LabelMap', path);
    await writeLabelTiff16(out, pc459Labels(m.data, path), m.width, m.height);
    return true;
  });
  const images = await linkImages(opts, 'pc459 val images', join(voc, 'JPEGImages'), join(opts.root, 'VOCdevkit', 'VOC2010', 'JPEGImages'), '.jpg', new Set(present));
  return { dataset: 'pc459', tasks: [task, images] };
}
