import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { writeLabelPng } from '../../../src/data/label_io.js';
import { AhsError } from '../../../src/errors.js';
import { evalMasks, type EvalProgress } from '../../../src/eval/eval_masks.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ahs-eval-masks-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Deterministic pseudo-random labels (LCG) so the test does not depend on Math.random.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const W = 7;
const H = 5;
const NUM_IMAGES = 6;

/** Writes a VOC-20 style folder: gt PNGs with ignore 255 and prediction PNGs. */
async function makeVocFolder(root: string): Promise<{ gtDir: string; predDir: string; imageDir: string }> {
  const rand = lcg(7);
  const gtDir = join(root, 'gt');
  const predDir = join(root, 'pred');
  const imageDir = join(root, 'images');
  await mkdir(imageDir, { recursive: true });
  for (let i = 0; i < NUM_IMAGES; i++) {
    const key = `img_${i}`;
    // Few classes per image so some classes are absent and some predicted-but-absent.
    const gt = Array.from({ length: W * H }, () => (rand() < 0.15 ? 255 : Math.floor(rand() * 4)));
    const pred = gt.map((g) => (rand() < 0.7 && g !== 255 ? g : Math.floor(rand() * 6)));
    await writeLabelPng(join(gtDir, `${key}.png`), gt, W, H);
    await writeLabelPng(join(predDir, `${key}.png`), pred, W, H);
    await sharp({ create: { width: W, height: H, channels: 3, background: { r: 9, g: 9, b: 9 } } }).jpeg().toFile(join(imageDir, `${key}.jpg`));
  }
  return { gtDir, predDir, imageDir };
}

describe('evalMasks', () => {
  it('scores a folder, writes the report, and a resumed run gives identical numbers', async () => {
    const { gtDir, predDir, imageDir } = await makeVocFolder(join(dir, 'voc'));
    const straightDir = join(dir, 'out_straight');
    const progress: EvalProgress[] = [];
    const straight = await evalMasks({
      predDir, gtDir, benchmark: 'voc20', outDir: straightDir, model: 'toy',
      onProgress: (p) => progress.push(p),
      visualize: { imageDir, max: 2 },
    });
    assert.equal(straight.numImages, NUM_IMAGES);
    assert.deepEqual(progress.map((p) => p.done), [1, 2, 3, 4, 5, 6]);
    assert.equal(progress[5]!.total, NUM_IMAGES);

    // Report files agree with the returned results.
    const json = JSON.parse(await readFile(straight.files.results, 'utf8'));
    assert.equal(json.sem_seg.mIoU, straight.results.sem_seg['mIoU']);
    assert.equal(json.sem_seg['IoU-sofa'], null); // class 17 never appears: NaN -> null
    const csv = (await readFile(straight.files.perClassCsv, 'utf8')).trim().split('\n');
    assert.equal(csv.length, 21); // header + 20 VOC classes
    assert.equal(csv[1], `aeroplane,${straight.results.sem_seg['IoU-aeroplane']},${straight.results.sem_seg['ACC-aeroplane']}`);
    const table = await readFile(straight.files.table, 'utf8');
    assert.equal(table.split('\n')[2], `| toy | ${straight.results.sem_seg['mIoU']!.toFixed(1)} |`);
    assert.equal(straight.files.visualizations.length, 2);
    assert.equal((await sharp(straight.files.visualizations[0]!).metadata()).width, 3 * W);

    // Interrupted run: the progress callback throws after 4 images; state is saved every 3.
    const resumeDir = join(dir, 'out_resume');
    await assert.rejects(
      evalMasks({
        predDir, gtDir, benchmark: 'voc20', outDir: resumeDir, checkpointEvery: 3,
        onProgress: (p) => {
          if (p.done === 4) throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    const resumedProgress: EvalProgress[] = [];
    const resumed = await evalMasks({
      predDir, gtDir, benchmark: 'voc20', outDir: resumeDir, checkpointEvery: 3,
      onProgress: (p) => resumedProgress.push(p),
    });
    assert.equal(resumed.resumedImages, 3);
    assert.deepEqual(resumedProgress.map((p) => p.resumed), [true, true, true, false, false, false]);
    assert.equal(resumed.numImages, NUM_IMAGES);
    // Bit-identical metrics: would differ if image 4 were counted twice or lost.
    assert.deepEqual(resumed.results, straight.results);
  });

  it('names both files when a prediction is outside the vocabulary', async () => {
    const root = join(dir, 'bad_pred');
    await writeLabelPng(join(root, 'gt', 'x.png'), [0, 1, 255, 2], 2, 2);
    await writeLabelPng(join(root, 'pred', 'x.png'), [0, 1, 20, 2], 2, 2); // VOC-20 has classes 0..19
    await assert.rejects(
      evalMasks({ predDir: join(root, 'pred'), gtDir: join(root, 'gt'), benchmark: 'voc20', outDir: join(root, 'out') }),
      (e: unknown) =>
        e instanceof AhsError &&
        e.message ===
          `ConfusionMatrix.add: prediction 20 at pixel 2 is outside [0, 20) (image 'x') ` +
            `[prediction '${join(root, 'pred', 'x.png')}', ground truth '${join(root, 'gt', 'x.png')}']`,
    );
  });

  it('lists missing predictions by stem', async () => {
    const { gtDir } = await makeVocFolder(join(dir, 'voc_missing'));
    const emptyPred = join(dir, 'voc_missing', 'no_preds');
    await mkdir(emptyPred, { recursive: true });
    await assert.rejects(
      evalMasks({ predDir: emptyPred, gtDir, benchmark: 'voc20', outDir: join(dir, 'out_missing') }),
      (e: unknown) =>
        e instanceof AhsError &&
        e.code === 'AHS_ERR_FILE_NOT_FOUND' &&
        e.message.startsWith(`6 of 6 ground-truth images have no prediction '<stem>.png' in '${emptyPred}' (e.g. img_0, img_1, img_2, img_3, img_4)`),
    );
  });

  it('scores 16-bit TIFF ground truth with ignore 65535 against 16-bit predictions', async () => {
    const root = join(dir, 'ade847');
    const gtDir = join(root, 'gt');
    const predDir = join(root, 'pred');
    await mkdir(gtDir, { recursive: true });
    // Labels above 255 need 16 bits end to end; 8-bit reading would turn 300 into 44.
    const gt = Uint16Array.from([300, 300, 5, 65535, 299, 5]);
    const pred = [300, 299, 5, 7, 299, 5];
    await sharp(gt, { raw: { width: 3, height: 2, channels: 1 } }).toColourspace('grey16')
      .tiff({ compression: 'lzw' }) // sharp's default TIFF compression is JPEG: lossy and 8-bit
      .toFile(join(gtDir, 'a.tif'));
    await writeLabelPng(join(predDir, 'a.png'), pred, 3, 2);
    const names = Array.from({ length: 847 }, (_, i) => `c${i}`);
    const out = await evalMasks({ predDir, gtDir, benchmark: 'ade847', outDir: join(root, 'out'), classNames: names });
    const r = out.results.sem_seg;
    // tp: c300=1, c299=1, c5=2; pos_gt: c300=2, c299=1, c5=2; pos_pred: c300=1, c299=2, c5=2
    assert.equal(r['IoU-c300'], 50);
    assert.equal(r['IoU-c299'], 50);
    assert.equal(r['IoU-c5'], 100);
    assert.equal(r['pACC'], 80); // 4 of 5 non-ignored pixels
    assert.ok(Number.isNaN(r['IoU-c7']!)); // predicted only on an ignored pixel
  });
});
