import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLabelMap } from '../../../../src/data/label_io.js';
import { decodeRle, rleCountsFromString } from '../../../../src/data/prepare/coco_rle.js';
import { forEachTopLevelItem } from '../../../../src/data/prepare/json_scan.js';
import { PC59_LUT, preparePc59 } from '../../../../src/data/prepare/pascal_context_59.js';
import { H, W, rejectsWith, rleEncode, tempDir, writeJpeg, writeText } from './fixtures.js';

let dir: string;
before(async () => {
  dir = await tempDir('pc59');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rect = (x0: number, y0: number, x1: number, y1: number) =>
  Array.from({ length: W * H }, (_, i) => (i % W >= x0 && i % W < x1 && Math.floor(i / W) >= y0 && Math.floor(i / W) < y1 ? 1 : 0));

describe('COCO RLE and the JSON scanner', () => {
  it('decodes pycocotools compressed counts, negative differences included', () => {
    // Counts where the 4th is smaller than the 2nd exercise the sign bit of the encoding.
    const mask = rect(1, 1, 7, 5).map((v, i) => (i === 20 ? 0 : v));
    const rle = rleEncode(mask, W, H);
    assert.deepEqual(Array.from(decodeRle(rle, 't').mask), mask);
    // rleToString of counts [3, 40, 2, 3], worked by hand from maskApi.c (not by our encoder):
    // the 4th is sent as 3 - 40 = -37, two 5-bit groups 'k' 'N' with the sign bit set.
    assert.deepEqual(rleCountsFromString('3X12kN'), [3, 40, 2, 3]);
  });

  it('walks one top-level array, skipping values with brackets and quotes inside strings', () => {
    const text = JSON.stringify({ info: { s: 'a ] } " [ {' }, parts: [[1, [2]], '\\]'], images: [{ a: 1 }, { a: '}' }], tail: 1 });
    const got: unknown[] = [];
    assert.equal(forEachTopLevelItem(Buffer.from(text), 'images', 't.json', (x) => got.push(x)), true);
    assert.deepEqual(got, [{ a: 1 }, { a: '}' }]);
    assert.equal(forEachTopLevelItem(Buffer.from(text), 'nope', 't.json', () => undefined), false);
    assert.throws(() => forEachTopLevelItem(Buffer.from(text.slice(0, 40)), 'images', 'cut.json', () => undefined), /cut\.json/);
  });
});

describe('prepare pc59', () => {
  it('paints the val segments in file order and maps the 59 classes to 0..58, the rest to 255', async () => {
    // If the mapping table is wrong, pc59 class k is scored against another class.
    const expectMap: Record<number, number> = { 0: 255, 2: 0, 9: 1, 259: 34, 458: 58, 3: 255 };
    for (const [id, v] of Object.entries(expectMap)) assert.equal(PC59_LUT[Number(id)], v, `id ${id}`);

    const src = join(dir, 'download');
    const voc = join(src, 'VOCdevkit', 'VOC2010');
    for (const id of ['2008_000002', '2008_000003', '2008_000004']) await writeJpeg(join(voc, 'JPEGImages', `${id}.jpg`));
    const segs = [
      { image_id: 1, category_id: 2, m: rect(0, 0, 4, 6) },
      { image_id: 3, category_id: 9, m: rect(0, 0, 8, 6) }, // a train image: ignored
      { image_id: 1, category_id: 259, m: rect(2, 0, 8, 2) }, // over the first one
      { image_id: 1, category_id: 3, m: rect(6, 4, 8, 6) }, // not one of the 59
      { image_id: 1, category_id: 458, m: rect(0, 5, 2, 6) },
    ];
    const json = {
      info: { note: 'annos first, images last, as the reader must not depend on the order' },
      annos_segmentation: segs.map((s) => ({ image_id: s.image_id, category_id: s.category_id, segmentation: rleEncode(s.m, W, H), area: 1 })),
      categories: [{ category_id: 2, name: 'aeroplane' }],
      images: [
        { image_id: 1, file_name: '2008_000002.jpg', height: H, width: W, phase: 'val' },
        { image_id: 2, file_name: '2008_000003.jpg', height: H, width: W, phase: 'val' },
        { image_id: 3, file_name: '2008_000004.jpg', height: H, width: W, phase: 'train' },
      ],
    };
    await writeText(join(voc, 'trainval_merged.json'), JSON.stringify(json));
    const root = join(dir, 'datasets');
    const logs: string[] = [];
    const rep = await preparePc59({ src, root, log: (l) => logs.push(l) });

    const ids = new Array(W * H).fill(0);
    for (const s of segs.filter((x) => x.image_id === 1)) s.m.forEach((v, i) => v && (ids[i] = s.category_id));
    const outDir = join(root, 'VOCdevkit', 'VOC2010', 'annotations_detectron2', 'pc59_val');
    const lab = await readLabelMap(join(outDir, '2008_000002.png'));
    // If this fails, segments are painted in the wrong order, transposed, or mapped wrongly.
    assert.deepEqual(Array.from(lab.data), ids.map((v) => expectMap[v]));
    // A val image without segments: all ignore (the script would crash there).
    const bare = await readLabelMap(join(outDir, '2008_000003.png'));
    assert.ok(bare.data.every((v) => v === 255));
    assert.ok(logs.some((l) => l.includes('1 val images have no segment')), logs.join('\n'));
    assert.deepEqual((await readdir(outDir)).sort(), ['2008_000002.png', '2008_000003.png']);
    assert.deepEqual((await readdir(join(root, 'VOCdevkit', 'VOC2010', 'JPEGImages'))).sort(), ['2008_000002.jpg', '2008_000003.jpg']);
    assert.equal(rep.tasks[0]!.written, 2);
    // Second run: nothing to do, and the annotations are not even scanned.
    assert.equal((await preparePc59({ src, root })).tasks[0]!.skipped, 2);
  });

  it('asks for trainval_merged.json by its URL and rejects a JSON of another kind', async () => {
    const src = join(dir, 'nojson');
    await writeJpeg(join(src, 'VOC2010', 'JPEGImages', 'a.jpg'));
    await rejectsWith(preparePc59({ src, root: join(dir, 'r') }), 'AHS_ERR_FILE_NOT_FOUND', 'trainval_merged.json', 'codalabuser');
    await writeText(join(src, 'trainval_merged.json'), JSON.stringify({ annotations: [] }));
    await rejectsWith(preparePc59({ src, root: join(dir, 'r') }), 'AHS_ERR_FILE_FORMAT', 'no "images" list');
  });
});
