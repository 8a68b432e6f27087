import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLabelMap } from '../../../../src/data/label_io.js';
import { prepareAde150 } from '../../../../src/data/prepare/ade20k_150.js';
import { H, W, rejectsWith, tempDir, writeGreyPng, writeJpeg } from './fixtures.js';

let dir: string;
before(async () => {
  dir = await tempDir('ade150');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('prepare ade150', () => {
  it('shifts 1..150 to 0..149 and turns 0 ("other") into 255', async () => {
    // --src is the folder that holds ADEChallengeData2016/, as the zip unpacks.
    const src = join(dir, 'download');
    const base = join(src, 'ADEChallengeData2016');
    const input = Array.from({ length: W * H }, (_, i) => [0, 1, 2, 75, 149, 150][i % 6]!);
    await writeGreyPng(join(base, 'annotations', 'validation', 'ADE_val_00000001.png'), input);
    await writeJpeg(join(base, 'images', 'validation', 'ADE_val_00000001.jpg'));
    const root = join(dir, 'datasets');
    const rep = await prepareAde150({ src, root });
    const lab = await readLabelMap(join(root, 'ADEChallengeData2016', 'annotations_detectron2', 'validation', 'ADE_val_00000001.png'));
    // If this fails, every ADE-150 class is scored as its neighbour, or "other" counts as a class.
    assert.deepEqual(Array.from(lab.data), input.map((v) => (v === 0 ? 255 : v - 1)));
    assert.deepEqual(rep.tasks.map((t) => t.written), [1, 1]);
  });

  it('runs in place when --src is already the folder under --root', async () => {
    // The scripts work in place; the images must not be linked onto themselves.
    const root = join(dir, 'inplace');
    const base = join(root, 'ADEChallengeData2016');
    await writeGreyPng(join(base, 'annotations', 'validation', 'a.png'), new Array(W * H).fill(3));
    await writeJpeg(join(base, 'images', 'validation', 'a.jpg'));
    const rep = await prepareAde150({ src: base, root });
    assert.equal(rep.tasks[0]!.written, 1);
    assert.equal(rep.tasks[1]!.written, 0);
    const lab = await readLabelMap(join(base, 'annotations_detectron2', 'validation', 'a.png'));
    assert.ok(lab.data.every((v) => v === 2));
  });

  it('says which part of ADEChallengeData2016.zip is missing', async () => {
    const src = join(dir, 'broken');
    await writeGreyPng(join(src, 'annotations', 'validation', 'a.png'), new Array(W * H).fill(3));
    // If this fails, a half-unpacked zip produces labels without images (or a bare ENOENT).
    await rejectsWith(prepareAde150({ src, root: join(dir, 'r') }), 'AHS_ERR_FILE_NOT_FOUND', join('images', 'validation'), 'ADEChallengeData2016.zip');
    await rejectsWith(prepareAde150({ src: join(dir, 'nowhere'), root: join(dir, 'r') }), 'AHS_ERR_FILE_NOT_FOUND', '--src', 'ADEChallengeData2016.zip');
  });
});
