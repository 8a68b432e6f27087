import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readLabelMap } from '../../../../src/data/label_io.js';
import { matMatrix2d, readMat } from '../../../../src/data/prepare/mat_reader.js';
import { preparePc459 } from '../../../../src/data/prepare/pascal_context_459.js';
import { H, W, matFile, rejectsWith, tempDir, writeJpeg, writeText } from './fixtures.js';

let dir: string;
before(async () => {
  dir = await tempDir('pc459');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// 1..459 with values past 255 (lost by an 8-bit write) and an asymmetric layout (a transposed
// column-major read shows up).
const labelMap = Array.from({ length: W * H }, (_, i) => [1, 2, 256, 300, 458, 459][i % 6]!);
labelMap[1] = 17; // row 0, column 1: differs from row 1, column 0

describe('MAT v5 reader', () => {
  it('reads a uint16 and a double matrix, plain and miCOMPRESSED, in row-major order', () => {
    for (const opts of [{}, { compress: true }, { mxDouble: true, compress: true }]) {
      const vars = readMat(matFile('LabelMap', labelMap, W, H, opts), 'x.mat');
      const m = matMatrix2d(vars, 'LabelMap', 'x.mat');
      // If this fails, the matrix is transposed, or a storage type or compression is mis-read.
      assert.deepEqual([m.width, m.height, m.mxClass], [W, H, opts.mxDouble ? 'double' : 'uint16'], JSON.stringify(opts));
      assert.deepEqual(Array.from(m.data), labelMap, JSON.stringify(opts));
      assert.ok(vars.has('note')); // the char variable was skipped over, not mistaken for data
    }
  });

  it('refuses a truncated file and a missing variable by name', () => {
    const whole = matFile('LabelMap', labelMap, W, H, { compress: true });
    assert.throws(() => readMat(whole.subarray(0, whole.length - 10), 'cut.mat'), /cut\.mat/);
    assert.throws(() => matMatrix2d(readMat(matFile('Other', labelMap, W, H), 'o.mat'), 'LabelMap', 'o.mat'), /no variable 'LabelMap'.*Other/);
    assert.throws(() => readMat(Buffer.alloc(20), 's.mat'), /128-byte header/);
  });
});

async function pcDownload(src: string): Promise<string> {
  const voc = join(src, 'VOCdevkit', 'VOC2010');
  for (const id of ['2008_000002', '2008_000003', '2008_000007']) await writeJpeg(join(voc, 'JPEGImages', `${id}.jpg`));
  await writeText(join(voc, 'labels.txt'), '1: accordion\n2: aeroplane\n');
  return voc;
}

describe('prepare pc459', () => {
  it('writes LabelMap - 1 as 16-bit TIFFs for the val ids that have a .mat', async () => {
    const src = join(dir, 'download');
    const voc = await pcDownload(src);
    await writeText(join(voc, 'pascalcontext_val.txt'), '2008_000002\n2008_000003\n2008_000007\n');
    await writeText(join(voc, 'trainval', '.keep'), '');
    await writeFile(join(voc, 'trainval', '2008_000002.mat'), matFile('LabelMap', labelMap, W, H, { compress: true }));
    await writeFile(join(voc, 'trainval', '2008_000003.mat'), matFile('LabelMap', labelMap, W, H));
    // 2008_000007 has no .mat: the script skips it silently.
    const root = join(dir, 'datasets');
    const logs: string[] = [];
    const rep = await preparePc459({ src, root, log: (l) => logs.push(l) });
    const outDir = join(root, 'VOCdevkit', 'VOC2010', 'annotations_detectron2', 'pc459_val');
    assert.deepEqual((await readdir(outDir)).sort(), ['2008_000002.tif', '2008_000003.tif']);
    const lab = await readLabelMap(join(outDir, '2008_000002.tif'));
    // If this fails, PC-459 ids are off by one, clipped to 8 bits, or transposed.
    assert.equal(lab.bitDepth, 16);
    assert.deepEqual([lab.width, lab.height], [W, H]);
    assert.deepEqual(Array.from(lab.data), labelMap.map((v) => v - 1));
    assert.equal(rep.tasks[0]!.written, 2);
    assert.ok(logs.some((l) => l.includes('1 of 3')), logs.join('\n'));
    assert.deepEqual((await readdir(join(root, 'VOCdevkit', 'VOC2010', 'JPEGImages'))).sort(), ['2008_000002.jpg', '2008_000003.jpg']);
  });

  it('names what is missing: the val list (from CAT-Seg), trainval.tar.gz, a 0 in LabelMap', async () => {
    const src = join(dir, 'nolist');
    const voc = await pcDownload(src);
    await writeText(join(voc, 'trainval', '.keep'), '');
    // If this fails, users are not told that pascalcontext_val.txt comes from CAT-Seg's repository.
    await rejectsWith(preparePc459({ src, root: join(dir, 'r') }), 'AHS_ERR_FILE_NOT_FOUND', 'pascalcontext_val.txt', 'CAT-Seg');
    const src2 = join(dir, 'notrainval');
    await pcDownload(src2);
    await rejectsWith(preparePc459({ src: src2, root: join(dir, 'r') }), 'AHS_ERR_FILE_NOT_FOUND', 'trainval.tar.gz');
    const src3 = join(dir, 'zero');
    const voc3 = await pcDownload(src3);
    await writeText(join(voc3, 'pascalcontext_val.txt'), '2008_000002\n');
    await writeText(join(voc3, 'trainval', '.keep'), '');
    await writeFile(join(voc3, 'trainval', '2008_000002.mat'), matFile('LabelMap', labelMap.map((v, i) => (i === 5 ? 0 : v)), W, H));
    // The script asserts min(LabelMap - 1) >= 0; a wrapped 65535 would crash detectron2's evaluator.
    await rejectsWith(preparePc459({ src: src3, root: join(dir, 'r3') }), 'AHS_ERR_DATASET', '2008_000002.mat', 'value 0');
  });
});
