import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLabelMap } from '../../../../src/data/label_io.js';
import { COCO_STUFF_LUT, prepareCocoStuff } from '../../../../src/data/prepare/coco_stuff.js';
import { H, W, rejectsWith, tempDir, writeGreyPng, writeJpeg } from './fixtures.js';

let dir: string;
before(async () => {
  dir = await tempDir('coco');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Official COCO-Stuff id -> expected trainId (prepare_coco_stuff.py's COCO_CATEGORIES).
const CASES: [number, number][] = [
  [0, 0], [10, 10], [11, 255], [12, 11], [24, 23], [25, 255], [26, 24], [89, 79], [90, 255],
  [91, 80], [92, 81], [181, 170], [182, 255], [200, 255], [255, 255],
];
const input = Array.from({ length: W * H }, (_, i) => CASES[i % CASES.length]![0]);
const expected = Array.from({ length: W * H }, (_, i) => CASES[i % CASES.length]![1]);

describe('prepare coco-stuff', () => {
  it('the table maps the 171 used ids onto 0..170 in order and the rest to 255', () => {
    // If this fails, class k of the model is scored against another COCO-Stuff class.
    const used = Array.from(COCO_STUFF_LUT).filter((v) => v !== 255);
    assert.equal(used.length, 171);
    assert.deepEqual(used, Array.from({ length: 171 }, (_, i) => i));
  });

  it('writes annotations_detectron2/<split> with the 182 -> 171 mapping and links the images', async () => {
    const src = join(dir, 'download');
    const root = join(dir, 'datasets');
    await writeGreyPng(join(src, 'annotations', 'val2017', '000000000139.png'), input);
    await writeGreyPng(join(src, 'annotations', 'val2017', '000000000285.png'), new Array(W * H).fill(255));
    await writeJpeg(join(src, 'images', 'val2017', '000000000139.jpg'));
    await writeJpeg(join(src, 'images', 'val2017', '000000000285.jpg'));
    const logs: string[] = [];
    const rep = await prepareCocoStuff({ src, root, log: (l) => logs.push(l) });
    const lab = await readLabelMap(join(root, 'coco-stuff', 'annotations_detectron2', 'val2017', '000000000139.png'));
    // If this fails, the label ids are off (an unused id kept, or the 11 gaps not closed).
    assert.equal(lab.bitDepth, 8);
    assert.deepEqual(Array.from(lab.data), expected);
    const blank = await readLabelMap(join(root, 'coco-stuff', 'annotations_detectron2', 'val2017', '000000000285.png'));
    assert.ok(blank.data.every((v) => v === 255));
    // Images end up where register_coco_stuff.py looks for them, byte for byte.
    assert.deepEqual(await readFile(join(root, 'coco-stuff', 'images', 'val2017', '000000000139.jpg')),
      await readFile(join(src, 'images', 'val2017', '000000000139.jpg')));
    assert.deepEqual(rep.tasks.map((t) => [t.task, t.written]), [['coco-stuff val2017 labels', 2], ['coco-stuff val2017 images', 2]]);
    // A missing train split is reported, not an error (evaluation needs val only).
    assert.ok(logs.some((l) => l.includes('train2017') && l.includes('skipped')), logs.join('\n'));

    // Re-running skips what is there (resumable), instead of rewriting 118k files.
    const again = await prepareCocoStuff({ src, root });
    assert.deepEqual(again.tasks.map((t) => [t.written, t.skipped]), [[0, 2], [0, 2]]);
  });

  it('names the missing archive when the label maps or the images are absent', async () => {
    const empty = join(dir, 'empty');
    await writeJpeg(join(empty, 'images', 'val2017', 'a.jpg'));
    // If this fails, a user with only the images gets no hint which zip to fetch.
    await rejectsWith(prepareCocoStuff({ src: empty, root: join(dir, 'r1') }), 'AHS_ERR_FILE_NOT_FOUND', 'stuffthingmaps_trainval2017.zip');
    const noImages = join(dir, 'noimages');
    await writeGreyPng(join(noImages, 'stuffthingmaps_trainval2017', 'val2017', 'a.png'), input);
    await rejectsWith(prepareCocoStuff({ src: noImages, root: join(dir, 'r2') }), 'AHS_ERR_FILE_NOT_FOUND', 'val2017.zip', 'images');
  });
});
