import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLabelMap } from '../../../../src/data/label_io.js';
import { prepareVoc } from '../../../../src/data/prepare/voc.js';
import { H, W, rejectsWith, tempDir, writeGreyPng, writeJpeg, writeText } from './fixtures.js';

let dir: string;
before(async () => {
  dir = await tempDir('voc');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 0 background, 1..20 classes, 255 boundary, 21 and 100 are not VOC values.
const VALUES = [0, 1, 2, 15, 20, 255, 21, 100];
const input = Array.from({ length: W * H }, (_, i) => VALUES[i % VALUES.length]!);

async function vocDownload(src: string, ids: string[]): Promise<string> {
  const voc = join(src, 'VOCdevkit', 'VOC2012');
  await writeText(join(voc, 'ImageSets', 'Segmentation', 'val.txt'), ids.join('\n') + '\n');
  for (const id of ids) await writeJpeg(join(voc, 'JPEGImages', `${id}.jpg`));
  await writeJpeg(join(voc, 'JPEGImages', '2007_999999.jpg')); // a train image: not linked
  return voc;
}

describe('prepare voc', () => {
  it('writes voc20 (background ignored) and voc20b (background = 20) from SegmentationClassAug', async () => {
    const src = join(dir, 'download');
    const voc = await vocDownload(src, ['2007_000033', '2007_000042']);
    await writeGreyPng(join(voc, 'SegmentationClassAug', '2007_000033.png'), input);
    // Background and boundary only: all 255 without background, so voc20 gets no file for it.
    await writeGreyPng(join(voc, 'SegmentationClassAug', '2007_000042.png'), input.map((v) => (v === 255 ? 255 : 0)));
    const root = join(dir, 'datasets');
    const rep = await prepareVoc({ src, root });
    const out = join(root, 'VOCdevkit', 'VOC2012');
    const voc20 = await readLabelMap(join(out, 'annotations_detectron2', 'val', '2007_000033.png'));
    const voc20b = await readLabelMap(join(out, 'annotations_detectron2_bg', 'val', '2007_000033.png'));
    // If these fail, classes are shifted, background is scored as a class in voc20 (or not in
    // voc20b), or a non-VOC value survives instead of becoming ignore.
    const exp = (bg: number) => input.map((v) => (v === 0 ? bg : v >= 1 && v <= 20 ? v - 1 : 255));
    assert.deepEqual(Array.from(voc20.data), exp(255));
    assert.deepEqual(Array.from(voc20b.data), exp(20));
    // prepare_voc.py skips a mask that is entirely 255 after the mapping.
    assert.deepEqual(await readdir(join(out, 'annotations_detectron2', 'val')), ['2007_000033.png']);
    assert.deepEqual((await readdir(join(out, 'annotations_detectron2_bg', 'val'))).sort(), ['2007_000033.png', '2007_000042.png']);
    assert.deepEqual(rep.tasks.map((t) => [t.written, t.omitted]), [[1, 1], [2, 0], [2, 0]]);
    assert.deepEqual((await readdir(join(out, 'JPEGImages'))).sort(), ['2007_000033.jpg', '2007_000042.jpg']);
  });

  it('asks for SegmentationClassAug.zip when it is missing, and names a missing mask', async () => {
    const src = join(dir, 'noaug');
    await vocDownload(src, ['2007_000033']);
    // If this fails, users get a bare ENOENT instead of where to download the SBD masks.
    await rejectsWith(prepareVoc({ src, root: join(dir, 'r') }), 'AHS_ERR_FILE_NOT_FOUND', 'SegmentationClassAug.zip');
    const partial = join(dir, 'partial');
    const voc = await vocDownload(partial, ['2007_000033', '2007_000042']);
    await writeGreyPng(join(voc, 'SegmentationClassAug', '2007_000033.png'), input);
    await rejectsWith(prepareVoc({ src: partial, root: join(dir, 'r2') }), 'AHS_ERR_FILE_NOT_FOUND', '2007_000042.png', 'val.txt');
  });
});
