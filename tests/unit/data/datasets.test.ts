// Training datasets: registered detectron2 names in their folder layout, custom folders, and the
// errors for every malformed dataset, each naming the file at fault.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BENCHMARKS } from '../../../src/data/benchmarks.js';
import { defaultIgnoreLabel, parseClassList } from '../../../src/data/custom_dataset.js';
import { registeredDatasetNames, resolveDataset } from '../../../src/data/datasets.js';
import { AhsError } from '../../../src/errors.js';
import { writeCustomDataset, writeImage, writeLabel } from './fixtures/write_dataset.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-datasets-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Asserts an AHS_ERR_DATASET rejection whose message contains every fragment. */
async function rejectsWith(p: Promise<unknown>, ...fragments: string[]): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AhsError, `expected an AhsError, got ${String(err)}`);
    assert.equal(err.code, 'AHS_ERR_DATASET', err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `message lacks '${f}': ${err.message}`);
    return true;
  });
}

const items = (n: number, w = 6, h = 4) => Array.from({ length: n }, (_, i) => ({ key: `img_${i}`, width: w, height: h }));

describe('registered datasets', () => {
  it('coco_2017_train_stuff_all_sem_seg reads CAT-Seg training folders, skipping unlabelled images', async () => {
    // Wrong folders, class list or ignore label would train on the wrong data or vocabulary.
    const root = join(dir, 'd2');
    const img = join(root, 'coco-stuff/images/train2017');
    const lab = join(root, 'coco-stuff/annotations_detectron2/train2017');
    mkdirSync(img, { recursive: true });
    mkdirSync(lab, { recursive: true });
    for (const k of ['000002', '000001', '000003']) await writeImage(join(img, `${k}.jpg`), 1, 4, 3);
    for (const k of ['000001', '000002']) await writeLabel(join(lab, `${k}.png`), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255], 4, 3);
    const ds = await resolveDataset('coco_2017_train_stuff_all_sem_seg', { root });
    assert.equal(ds.name, 'coco_2017_train_stuff_all_sem_seg');
    assert.equal(ds.classNames.length, 171);
    assert.equal(ds.ignoreLabel, 255);
    assert.deepEqual(ds.items, [
      { key: '000001', imagePath: join(img, '000001.jpg'), labelPath: join(lab, '000001.png') },
      { key: '000002', imagePath: join(img, '000002.jpg'), labelPath: join(lab, '000002.png') },
    ]);
    // $DETECTRON2_DATASETS is the root when none is given.
    const saved = process.env['DETECTRON2_DATASETS'];
    process.env['DETECTRON2_DATASETS'] = root;
    try {
      assert.equal((await resolveDataset('coco_2017_train_stuff_all_sem_seg')).items.length, 2);
    } finally {
      if (saved === undefined) delete process.env['DETECTRON2_DATASETS'];
      else process.env['DETECTRON2_DATASETS'] = saved;
    }
    // A missing split names the folder and the layout expected.
    await rejectsWith(resolveDataset('coco_2017_train_stuff_all_sem_seg', { root: join(dir, 'nowhere') }), 'coco-stuff/images/train2017', 'does not exist');
  });

  it('every benchmark resolves by its detectron2 name with its vocabulary and ignore label', async () => {
    // A benchmark name that fails here could not be used as DATASETS.TRAIN / TEST.
    const root = join(dir, 'bench');
    for (const b of Object.values(BENCHMARKS)) {
      mkdirSync(join(root, b.imageDir), { recursive: true });
      mkdirSync(join(root, b.labelDir), { recursive: true });
      await writeImage(join(root, b.imageDir, `x${b.imageExt}`), 2, 3, 2);
      await writeLabel(join(root, b.labelDir, `x${b.labelExt}`), [0, 1, 2, 0, 1, b.ignoreLabel], 3, 2);
      const ds = await resolveDataset(b.datasetName, { root });
      assert.equal(ds.name, b.datasetName);
      assert.equal(ds.ignoreLabel, b.ignoreLabel);
      assert.ok(ds.classNames.length >= 20, b.datasetName);
      assert.deepEqual(ds.items.map((i) => i.key), ['x']);
    }
    assert.deepEqual(registeredDatasetNames().slice(0, 1), ['coco_2017_train_stuff_all_sem_seg']);
    assert.equal(registeredDatasetNames().length, 1 + Object.keys(BENCHMARKS).length);
  });

  it('an unknown name that is no folder lists the registered names and maps short names', async () => {
    // Without the list the user cannot tell a typo from a missing folder.
    await rejectsWith(resolveDataset(join(dir, 'no_such_thing')), 'no_such_thing', 'coco_2017_train_stuff_all_sem_seg', 'ade20k_150_test_sem_seg');
    await rejectsWith(resolveDataset('ade150'), "registered as 'ade20k_150_test_sem_seg'");
  });
});

describe('custom dataset folders', () => {
  it('pairs images and labels of every supported format by stem, sorted', async () => {
    // A format left out would make a valid dataset look unpaired.
    const root = join(dir, 'formats');
    mkdirSync(join(root, 'images'), { recursive: true });
    mkdirSync(join(root, 'labels'), { recursive: true });
    writeFileSync(join(root, 'classes.json'), JSON.stringify(['sky', 'road', 'tree']));
    const exts: [string, string][] = [['.jpg', '.png'], ['.jpeg', '.tif'], ['.PNG', '.png'], ['.webp', '.tiff'], ['.tif', '.png']];
    for (const [i, [ie, le]] of exts.entries()) {
      await writeImage(join(root, 'images', `s${i}${ie}`), i, 4, 4);
      await writeLabel(join(root, 'labels', `s${i}${le}`), Array(16).fill(1), 4, 4);
    }
    writeFileSync(join(root, 'images', 'notes.txt'), 'not an image');
    const ds = await resolveDataset(root);
    assert.equal(ds.name, root);
    assert.deepEqual(ds.classNames, ['sky', 'road', 'tree']);
    assert.equal(ds.ignoreLabel, 255);
    assert.deepEqual(ds.items.map((i) => [i.key, i.imagePath.slice(root.length), i.labelPath.slice(root.length)]), [
      ['s0', '/images/s0.jpg', '/labels/s0.png'],
      ['s1', '/images/s1.jpeg', '/labels/s1.tif'],
      ['s2', '/images/s2.PNG', '/labels/s2.png'],
      ['s3', '/images/s3.webp', '/labels/s3.tiff'],
      ['s4', '/images/s4.tif', '/labels/s4.png'],
    ]);
  });

  it('classes.json as an object sets the ignore label; 255+ classes default to 65535', async () => {
    // A wrong default would turn class 255 into ignored pixels.
    assert.deepEqual(parseClassList({ classes: ['a', 'b'], ignore_label: 7 }, 'c.json'), { classNames: ['a', 'b'], ignoreLabel: 7 });
    assert.equal(parseClassList(['a', 'b'], 'c.json').ignoreLabel, 255);
    const many = Array.from({ length: 255 }, (_, i) => `c${i}`);
    assert.equal(parseClassList(many, 'c.json').ignoreLabel, 65535);
    assert.equal(defaultIgnoreLabel(254), 255);
    const root = join(dir, 'obj');
    await writeCustomDataset(root, items(1), { classes: { classes: ['a', 'b', 'c', 'd', 'e'], ignore_label: 5 }, ignore: 5 });
    assert.equal((await resolveDataset(root)).ignoreLabel, 5);
  });

  const bad = async (name: string, edit: (root: string) => void, ...fragments: string[]): Promise<void> => {
    const root = join(dir, name);
    await writeCustomDataset(root, items(7));
    edit(root);
    await rejectsWith(resolveDataset(root), ...fragments);
  };

  it('missing folders and files are named', async () => {
    // Each of these would otherwise surface as an obscure failure at the first step.
    await bad('no_images', (r) => rmSync(join(r, 'images'), { recursive: true }), join('no_images', 'images'), 'does not exist');
    await bad('no_labels', (r) => rmSync(join(r, 'labels'), { recursive: true }), join('no_labels', 'labels'), 'does not exist');
    await bad('no_classes', (r) => rmSync(join(r, 'classes.json')), join('no_classes', 'classes.json'), 'does not exist');
    await bad('bad_json', (r) => writeFileSync(join(r, 'classes.json'), '["a", '), join('bad_json', 'classes.json'), 'not valid JSON');
  });

  it('unpaired files are listed, at most 5, with the count', async () => {
    // Silently dropping an unlabelled image or a label would train on less than the user thinks.
    await bad('orphan_images', (r) => {
      for (let i = 0; i < 7; i++) rmSync(join(r, 'labels', `img_${i}.png`));
      writeFileSync(join(r, 'labels', 'keep.png'), '');
      writeFileSync(join(r, 'images', 'keep.png'), '');
    }, '7 of 8 images', "'img_0.png', 'img_1.png', 'img_2.png', 'img_3.png', 'img_4.png', ... (7 in all)", join('orphan_images', 'labels'));
    await bad('orphan_label', (r) => rmSync(join(r, 'images', 'img_3.png')), '1 of 7 labels', "'img_3.png'", join('orphan_label', 'images'));
    await bad('same_stem', (r) => writeFileSync(join(r, 'images', 'img_2.jpg'), ''), "'img_2.jpg' and 'img_2.png'", 'one stem');
  });

  it('bad class lists are rejected with the file and the entry', async () => {
    // Each would give a model with missing, unnamed or ambiguous prompts.
    const cls = (name: string, content: unknown, ...f: string[]) =>
      bad(name, (r) => writeFileSync(join(r, 'classes.json'), JSON.stringify(content)), join(name, 'classes.json'), ...f);
    await cls('empty', [], 'no classes');
    await cls('empty_obj', { classes: [] }, 'no classes');
    await cls('non_string', ['a', 3], 'class 1 must be a string, got 3');
    await cls('blank', ['a', '  '], 'class 1 is blank');
    await cls('duplicate', ['sky', 'road', 'sky '], 'class 2 "sky " repeats class 0 "sky"');
    await cls('ignore_inside', { classes: ['a', 'b', 'c'], ignore_label: 2 }, '"ignore_label" 2 is the index of class "c"');
    await cls('ignore_not_int', { classes: ['a'], ignore_label: 'x' }, '"ignore_label" must be an integer');
    await cls('unknown_key', { classes: ['a'], ignore: 3 }, "unknown key 'ignore'");
    await cls('not_list', 'sky', 'must hold a JSON array');
  });
});
