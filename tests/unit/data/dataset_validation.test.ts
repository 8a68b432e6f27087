// validateDataset: the checks run before training (label size, label values, unreadable files),
// each failing with an AHS_ERR_DATASET error naming the file, and the sampled mode of big datasets.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { resolveDataset } from '../../../src/data/datasets.js';
import { sampleIndices, validateDataset } from '../../../src/data/dataset_validation.js';
import type { SegDataset } from '../../../src/data/sample.js';
import { AhsError } from '../../../src/errors.js';
import { writeCustomDataset, writeLabel } from './fixtures/write_dataset.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-validate-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function dataset(name: string, edit?: (root: string) => Promise<void> | void, o: Parameters<typeof writeCustomDataset>[2] = {}): Promise<SegDataset> {
  const root = join(dir, name);
  await writeCustomDataset(root, [{ key: 'a', width: 6, height: 4 }, { key: 'b', width: 4, height: 6 }, { key: 'c', width: 5, height: 5 }], o);
  await edit?.(root);
  return resolveDataset(root);
}

async function rejectsWith(p: Promise<unknown>, ...fragments: string[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AhsError && err.code === 'AHS_ERR_DATASET', String(err));
    for (const f of fragments) assert.ok(err.message.includes(f), `message lacks '${f}': ${err.message}`);
    return true;
  });
}

describe('validateDataset', () => {
  it('passes a good dataset, ignore pixels included, and reports progress', async () => {
    // A false alarm here would stop every training run before it starts.
    const ds = await dataset('good');
    const seen: number[] = [];
    const summary = await validateDataset(ds, { onProgress: (n, total) => seen.push(n * 10 + total) });
    assert.deepEqual(summary, { checked: 3, total: 3, full: true, description: `checked all 3 items of '${ds.name}'` });
    assert.deepEqual(seen, [13, 23, 33]);
  });

  it('16-bit TIFF labels with 65535 as the ignore label pass', async () => {
    // 300 classes need 16-bit labels; rejecting 65535 or values above 255 would block them.
    const ds = await dataset('wide', undefined, { numClasses: 300, ignore: 65535, labelExt: '.tif' });
    assert.equal(ds.ignoreLabel, 65535);
    assert.equal((await validateDataset(ds)).checked, 3);
  });

  it('a label of another size than its image names both files and sizes', async () => {
    // The mapper would crop image and label at different places.
    const ds = await dataset('size', (r) => writeLabel(join(r, 'labels', 'b.png'), Array(20).fill(0), 5, 4));
    await rejectsWith(validateDataset(ds), join('size', 'labels', 'b.png'), '5x4', join('size', 'images', 'b.png'), '4x6');
  });

  it('the image size is taken after EXIF orientation', async () => {
    // detectron2 rotates by EXIF before the label is applied: a 6x4 JPEG shown rotated is 4x6.
    const ds = await dataset('exif', async (r) => {
      const raw = Buffer.alloc(6 * 4 * 3, 90);
      await sharp(raw, { raw: { width: 6, height: 4, channels: 3 } }).jpeg().withMetadata({ orientation: 6 }).toFile(join(r, 'images', 'a.jpg'));
      rmSync(join(r, 'images', 'a.png'));
    });
    await rejectsWith(validateDataset(ds), join('exif', 'labels', 'a.png'), 'is 6x4', 'is 4x6');
    await writeLabel(join(dir, 'exif', 'labels', 'a.png'), Array(24).fill(1), 4, 6);
    assert.equal((await validateDataset(ds)).checked, 3);
  });

  it('a value that is neither a class nor the ignore label names the file, value and pixel', async () => {
    // Such a value indexes past the class list in the loss.
    const ds = await dataset('value', (r) => {
      const v = Array(25).fill(1);
      v[7] = 5; // classes are 0..4
      v[9] = 200;
      return writeLabel(join(r, 'labels', 'c.png'), v, 5, 5);
    });
    await rejectsWith(validateDataset(ds), join('value', 'labels', 'c.png'), 'value 5 at pixel (x=2, y=1)', '2 pixels', '5 classes (0..4)', 'ignore label 255', 'values 5, 200');
  });

  it('corrupt images and labels are named', async () => {
    // A file that does not decode would crash a worker hours into training.
    const img = await dataset('bad_image', (r) => writeFileSync(join(r, 'images', 'b.png'), 'not a png'));
    await rejectsWith(validateDataset(img), `image '${join(dir, 'bad_image', 'images', 'b.png')}'`);
    const lab = await dataset('bad_label', (r) => writeFileSync(join(r, 'labels', 'a.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2])));
    await rejectsWith(validateDataset(lab), join('bad_label', 'labels', 'a.png'));
    const gone = await dataset('gone');
    rmSync(gone.items[1]!.imagePath);
    await rejectsWith(validateDataset(gone), `image '${gone.items[1]!.imagePath}' does not exist`);
  });

  it('reports the first bad item in dataset order', async () => {
    // With concurrent checks, the reported file must not depend on which check finished first.
    const ds = await dataset('first', async (r) => {
      await writeLabel(join(r, 'labels', 'b.png'), Array(24).fill(9), 4, 6);
      await writeLabel(join(r, 'labels', 'c.png'), Array(25).fill(9), 5, 5);
    });
    for (let i = 0; i < 3; i++) await rejectsWith(validateDataset(ds), join('first', 'labels', 'b.png'));
  });

  it('a big dataset is checked on a fixed sample, and says so', async () => {
    // Checking 118k COCO labels before every run would take many minutes.
    const root = join(dir, 'big');
    await writeCustomDataset(root, [{ key: 'a', width: 4, height: 3 }]);
    const one = (await resolveDataset(root)).items[0]!;
    const ds: SegDataset = { name: 'big', classNames: ['a', 'b', 'c', 'd', 'e'], ignoreLabel: 255, items: Array.from({ length: 6000 }, (_, i) => ({ ...one, key: `k${i}` })) };
    const summary = await validateDataset(ds);
    assert.equal(summary.checked, 500);
    assert.equal(summary.full, false);
    assert.match(summary.description, /fixed sample of 500 of the 6000 items/);
    // full: true overrides the default (checked on a smaller copy to keep the test fast).
    assert.equal((await validateDataset({ ...ds, items: ds.items.slice(0, 40) }, { full: true })).checked, 40);
  });

  it('the sample is distinct, sorted, in range and the same every time', () => {
    // A varying sample would let a bad file pass one run and fail the next.
    const s = sampleIndices(6000, 500);
    assert.equal(s.length, 500);
    assert.equal(new Set(s).size, 500);
    assert.ok(s.every((v, i) => v >= 0 && v < 6000 && (i === 0 || v > s[i - 1]!)));
    assert.deepEqual(sampleIndices(6000, 500), s);
    assert.ok(s[499]! > 5000 && s[0]! < 1000, 'spread over the whole dataset');
    assert.deepEqual(sampleIndices(3, 500), [0, 1, 2]);
  });
});
