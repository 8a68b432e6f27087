// ADE20K-150, as CAT-Seg's datasets/prepare_ade20k_150.py: the SceneParsing annotations store
// 0 for "other" and 1..150 for the classes; the script computes `img - 1` on uint8, so 0 wraps to
// 255 (ignore) and class k becomes k-1. Validation split only, as the script.
//
// --src: ADEChallengeData2016.zip unpacked (the ADEChallengeData2016 folder, or the folder holding it).
// --root: ADEChallengeData2016/images/validation/*.jpg (links) and
//   ADEChallengeData2016/annotations_detectron2/validation/*.png.

import { join, resolve } from 'node:path';
import { check } from '../../errors.js';
import { readLabelMap, writeLabelPng } from '../label_io.js';
import { isDir, linkImages, listFiles, locate, runTask, type PrepareOptions, type PrepareReport } from './common.js';

/** uint8 `value - 1`: 0 -> 255, k -> k-1. */
export function ade150Label(v: number): number {
  return (v + 255) & 255;
}

const ZIP = 'unzip ADEChallengeData2016.zip (http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip) and pass its folder';

export async function prepareAde150(opts: PrepareOptions): Promise<PrepareReport> {
  const base = await locate(opts.src, ['', 'ADEChallengeData2016'], join('annotations', 'validation'), ZIP);
  const annDir = join(base, 'annotations', 'validation');
  const imgDir = join(base, 'images', 'validation');
  check(await isDir(imgDir), 'AHS_ERR_FILE_NOT_FOUND', () => `ade150: '${resolve(imgDir)}' is missing (the validation images of ADEChallengeData2016.zip); ${ZIP}`);
  const names = await listFiles(annDir, '.png', 'ade150 validation annotations');
  check(names.length > 0, 'AHS_ERR_DATASET', () => `ade150: '${resolve(annDir)}' holds no .png annotations; ${ZIP}`);

  const outDir = join(opts.root, 'ADEChallengeData2016', 'annotations_detectron2', 'validation');
  const labels = await runTask(opts, 'ade150 validation labels', outDir, names, (n) => join(outDir, n), async (n, out) => {
    const path = join(annDir, n);
    const lab = await readLabelMap(path);
    check(lab.bitDepth === 8, 'AHS_ERR_FILE_FORMAT', () => `ade150 annotation '${resolve(path)}' is 16-bit; the script asserts uint8`);
    const data = new Uint8Array(lab.data.length);
    for (let i = 0; i < data.length; i++) data[i] = (lab.data[i]! + 255) & 255;
    await writeLabelPng(out, data, lab.width, lab.height);
    return true;
  });
  const images = await linkImages(opts, 'ade150 validation images', imgDir, join(opts.root, 'ADEChallengeData2016', 'images', 'validation'), '.jpg');
  return { dataset: 'ade150', tasks: [labels, images] };
}
