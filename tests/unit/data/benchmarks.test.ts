import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AhsError } from '../../../src/errors.js';
import {
  BENCHMARKS,
  MAIN_TABLE_BENCHMARKS,
  getBenchmark,
  listBenchmarkSamples,
  loadClassNames,
} from '../../../src/data/benchmarks.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ahs-bench-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('benchmark registry', () => {
  it('registers CAT-Seg dataset names, ignore labels and class counts', async () => {
    const expected: Record<string, [string, number, number]> = {
      ade150: ['ade20k_150_test_sem_seg', 255, 150],
      ade847: ['ade20k_full_sem_seg_freq_val_all', 65535, 847],
      pc59: ['context_59_test_sem_seg', 255, 59],
      pc459: ['context_459_test_sem_seg', 459, 459],
      voc20: ['voc_2012_test_sem_seg', 255, 20],
      voc20b: ['voc_2012_test_background_sem_seg', 255, 59],
      coco171: ['coco_2017_test_stuff_all_sem_seg', 255, 171],
    };
    assert.deepEqual(Object.keys(BENCHMARKS).sort(), Object.keys(expected).sort());
    for (const [name, [dataset, ignore, count]] of Object.entries(expected)) {
      const b = getBenchmark(name);
      assert.equal(b.datasetName, dataset, name);
      assert.equal(b.ignoreLabel, ignore, name);
      // Reads assets/classes through import.meta.url: fails if the relative path is off.
      assert.equal((await loadClassNames(b)).length, count, name);
      assert.equal(getBenchmark(dataset), b); // lookup by detectron2 name
    }
    assert.equal(BENCHMARKS.voc20b.evaluatorVariant, 'voc20b');
    assert.equal(BENCHMARKS.ade847.labelExt, '.tif');
    assert.deepEqual(MAIN_TABLE_BENCHMARKS.map((b) => BENCHMARKS[b].title), ['A-847', 'PC-459', 'A-150', 'PC-59', 'PAS-20', 'PAS-20b']);
    assert.equal((await loadClassNames('ade150'))[7], 'bed '); // CAT-Seg's trailing space is kept
  });

  it('names the valid choices for an unknown benchmark', () => {
    assert.throws(() => getBenchmark('ade'), (e: unknown) => e instanceof AhsError && e.message.startsWith("unknown benchmark 'ade'; expected one of ade150, ade847"));
  });
});

describe('listBenchmarkSamples', () => {
  it('pairs labels with images by stem and skips images without labels', async () => {
    const img = join(root, 'VOCdevkit/VOC2012/JPEGImages');
    const lab = join(root, 'VOCdevkit/VOC2012/annotations_detectron2/val');
    await mkdir(img, { recursive: true });
    await mkdir(lab, { recursive: true });
    for (const s of ['b', 'a', 'train_only']) await writeFile(join(img, `${s}.jpg`), '');
    for (const s of ['b', 'a']) await writeFile(join(lab, `${s}.png`), '');
    await writeFile(join(lab, 'notes.txt'), '');
    const samples = await listBenchmarkSamples('voc20', root);
    assert.deepEqual(samples, [
      { key: 'a', imagePath: join(img, 'a.jpg'), labelPath: join(lab, 'a.png') },
      { key: 'b', imagePath: join(img, 'b.jpg'), labelPath: join(lab, 'b.png') },
    ]);
    await writeFile(join(lab, 'orphan.png'), '');
    await assert.rejects(listBenchmarkSamples('voc20', root), /1 of 3 labels in .* have no '\.jpg' image .* \(e\.g\. orphan\)/);
  });

  it('names the expected folder when the layout is missing', async () => {
    await assert.rejects(listBenchmarkSamples('ade847', root), (e: unknown) =>
      e instanceof AhsError &&
      e.code === 'AHS_ERR_DATASET' &&
      e.message.includes(`label folder '${join(root, 'ADE20K_2021_17_01/annotations_detectron2/validation')}' does not exist`) &&
      e.message.includes('<root>/ADE20K_2021_17_01/images_detectron2/validation'),
    );
  });
});
