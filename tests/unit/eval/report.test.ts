import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  formatMainTable,
  formatOneDecimal,
  formatPerClassCsv,
  writeMainTable,
  writePerClassCsv,
  writeResultsJson,
} from '../../../src/eval/report.js';
import type { SemSegResults } from '../../../src/eval/sem_seg_metrics.js';
import { IGNORE_COLOR, labelColor, renderSideBySide, writeSideBySide } from '../../../src/eval/visualize.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ahs-report-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RESULTS: SemSegResults = {
  sem_seg: {
    mIoU: 55.00000000000001,
    fwIoU: 56.25,
    'IoU-wall': 60,
    'IoU-building, edifice': NaN,
    mACC: 63.33,
    pACC: 62.5,
    'ACC-wall': 60,
    'ACC-building, edifice': NaN,
  },
};

const mk = (mIoU: number): SemSegResults => ({ sem_seg: { mIoU } });

describe('report files', () => {
  it('results.json keeps detectron2 keys and order, NaN as null', async () => {
    const path = join(dir, 'results.json');
    await writeResultsJson(path, RESULTS);
    const text = await readFile(path, 'utf8');
    const parsed = JSON.parse(text);
    assert.deepEqual(Object.keys(parsed.sem_seg), Object.keys(RESULTS.sem_seg));
    assert.equal(parsed.sem_seg['IoU-building, edifice'], null);
    assert.equal(parsed.sem_seg.mIoU, 55.00000000000001); // full precision, no rounding
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []); // atomic write cleaned up
  });

  it('per-class CSV quotes names with commas', async () => {
    const path = join(dir, 'per_class.csv');
    await writePerClassCsv(path, RESULTS, ['wall', 'building, edifice']);
    assert.equal(await readFile(path, 'utf8'), 'class,IoU,ACC\nwall,60,60\n"building, edifice",NaN,NaN\n');
    assert.throws(() => formatPerClassCsv(RESULTS, ['sky']), /class 'sky' has no IoU-\/ACC- entry/);
  });

  it('main table: models as rows, README benchmark order, one decimal', async () => {
    const path = join(dir, 'table.md');
    await writeMainTable(path, [
      { model: 'CAT-Seg ViT-B', results: { ade150: mk(31.849), ade847: mk(12.04), voc20b: mk(77.25) } },
      { model: 'a|b', results: { pc59: mk(NaN) } },
    ]);
    assert.equal(
      await readFile(path, 'utf8'),
      [
        '| Model | A-847 | PC-459 | A-150 | PC-59 | PAS-20 | PAS-20b |',
        '|---|---:|---:|---:|---:|---:|---:|',
        '| CAT-Seg ViT-B | 12.0 | - | 31.8 | - | - | 77.2 |', // 77.25 is an exact tie: Python rounds to even
        '| a\\|b | - | - | - | - | - | - |',
        '',
      ].join('\n'),
    );
    assert.equal(formatMainTable([{ model: 'm', results: { coco171: mk(41.93) } }], ['coco171']).split('\n')[2], '| m | 41.9 |');
  });

  it("formats one decimal like Python's '%.1f'", () => {
    // Expected strings are what CPython prints for '%.1f' % v.
    const cases: Array<[number, string]> = [
      [77.25, '77.2'], [77.75, '77.8'], [0.25, '0.2'], [0.35, '0.3'], [2.675, '2.7'], [31.849, '31.8'],
      [99.95, '100.0'], [0.05, '0.1'], [12.5, '12.5'], [0.45, '0.5'], [-0.25, '-0.2'], [100, '100.0'],
    ];
    for (const [v, want] of cases) assert.equal(formatOneDecimal(v), want, String(v));
  });
});

describe('side-by-side visualization', () => {
  it('composes image | gt | prediction with a legend', async () => {
    const w = 40;
    const h = 30;
    const image = await sharp({ create: { width: 80, height: 60, channels: 3, background: { r: 10, g: 200, b: 30 } } })
      .jpeg()
      .toBuffer();
    const gt = { width: w, height: h, data: new Uint8Array(w * h).fill(1) };
    gt.data[0] = 255;
    const pred = { width: w, height: h, data: new Uint16Array(w * h).fill(300) };
    const outPath = join(dir, 'vis', 'x.png');
    await writeSideBySide({ image, gt, pred, classNames: Array.from({ length: 301 }, (_, i) => `c${i}`), ignoreLabel: 255, outPath });
    const { data, info } = await sharp(outPath).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 3 * w);
    assert.ok(info.height > 20 + h, 'a legend row is added below the panels');
    const px = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    // The image is resized into the first panel (JPEG: approximately the fill colour).
    const [r, g, b] = px(w / 2, 20 + h / 2);
    assert.ok(Math.abs(r! - 10) < 8 && Math.abs(g! - 200) < 8 && Math.abs(b! - 30) < 8);
    assert.deepEqual(px(w + 5, 25), [...labelColor(1)]);
    assert.deepEqual(px(w, 20), [...IGNORE_COLOR]);
    assert.deepEqual(px(2 * w + 5, 25), [...labelColor(300)]);
    await assert.rejects(renderSideBySide({ image, gt, pred: { width: 2, height: 2, data: [0, 0, 0, 0] }, classNames: [], ignoreLabel: 255 }), /ground truth is 40x30 but prediction is 2x2/);
  });

  it('the palette is deterministic and distinct for many classes', () => {
    assert.deepEqual(labelColor(1), [128, 0, 0]); // VOC aeroplane colour
    assert.deepEqual(labelColor(15), [192, 128, 128]); // VOC person colour
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => labelColor(i).join(',')));
    assert.equal(seen.size, 1000);
  });
});
