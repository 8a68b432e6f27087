import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { readLabelMap } from '../../../../src/data/label_io.js';
import { ADE847_IDS } from '../../../../src/data/prepare/ade20k_847_ids.js';
import { readAde20kIndex } from '../../../../src/data/prepare/ade20k_index.js';
import { ade847Size, prepareAde847 } from '../../../../src/data/prepare/ade20k_847.js';
import { H, W, pickleDictOfStrLists, rejectsWith, tempDir, writeJpeg, writeRgbPng } from './fixtures.js';

let dir: string;
before(async () => {
  dir = await tempDir('ade847');
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

// _seg.png colours: class value = floor(R / 10) * 256 + G (prepare_ade20k_full.py's loadAde20K).
const WALL = [115, 162]; // 11 * 256 + 162 = 2978, "wall", trainId 0
const SKY = [99, 116]; // 9 * 256 + 116 = 2420, "sky", trainId 2
const NONE = [0, 0]; // value 0: not one of the 847 -> 65535
const ODD = [250, 255]; // 25 * 256 + 255 = 6655: not a class either

function seg(w: number, h: number, pick: (x: number, y: number) => number[]): Uint8Array {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb.set([...pick(x, y), 7], (y * w + x) * 3);
  return rgb;
}

/** Hand-made protocol-3 pickle: {'folder': numpy 'U5' array, 'filename': [str]}. */
function pickleWithNumpyStrings(folders: string[], files: string[]): Buffer {
  const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
  const str = (s: string) => Buffer.concat([Buffer.from('X'), u32(Buffer.byteLength(s)), Buffer.from(s)]);
  const n = Math.max(...folders.map((f) => f.length));
  const raw = Buffer.alloc(folders.length * n * 4);
  folders.forEach((f, i) => [...f].forEach((ch, k) => raw.writeUInt32LE(ch.codePointAt(0)!, (i * n + k) * 4)));
  return Buffer.concat([
    Buffer.from([0x80, 3]), Buffer.from('}('), str('folder'),
    Buffer.from('cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(', 'latin1'),
    Buffer.from('K\x01K'), Buffer.from([folders.length]), Buffer.from('\x85cnumpy\ndtype\n', 'latin1'), str(`U${n}`),
    Buffer.from([0x89, 0x88, 0x87]), Buffer.from('R(K\x03'), str('<'), Buffer.from('NNNJ'), u32(4 * n), Buffer.from('K\x04K\x08tb'),
    Buffer.from([0x89]), Buffer.from('B'), u32(raw.length), raw, Buffer.from('tb'),
    str('filename'), Buffer.from(']('), ...files.map(str), Buffer.from('eu.'),
  ]);
}

describe('prepare ade847', () => {
  it('sizes as the script: shorter side to 512 with Python round, small images kept', () => {
    // If this fails, images and labels get a size one pixel off the reference ones.
    assert.deepEqual(ade847Size(1025, 1024), { width: 512, height: 512 }); // 512.5 rounds to even
    assert.deepEqual(ade847Size(1027, 1024), { width: 514, height: 512 }); // 513.5 -> 514
    assert.deepEqual(ade847Size(600, 900), { width: 512, height: 768 });
    assert.equal(ade847Size(1000, 400), undefined); // the shorter side is already <= 512
    assert.equal(ADE847_IDS.length, 847);
  });

  it('reads the index lists both as Python lists and as numpy string arrays', () => {
    // If this fails, index_ade20k.pkl yields no (or garbled) image paths and nothing is converted.
    const a = readAde20kIndex(pickleDictOfStrLists({ folder: ['f1', 'f2'], filename: ['a.jpg', 'b.jpg'] }), 'i.pkl');
    assert.deepEqual(a, { folder: ['f1', 'f2'], filename: ['a.jpg', 'b.jpg'] });
    const b = readAde20kIndex(pickleWithNumpyStrings(['ab', 'cdé'], ['a.jpg', 'b.jpg']), 'n.pkl');
    assert.deepEqual(b, { folder: ['ab', 'cdé'], filename: ['a.jpg', 'b.jpg'] });
    assert.throws(() => readAde20kIndex(pickleDictOfStrLists({ folder: [] }), 'x.pkl'), /no 'filename' entry/);
  });

  it('decodes R/10*256+G, maps the 847 ids to trainIds (65535 elsewhere) and resizes large images', async () => {
    const src = join(dir, 'download');
    const ds = join(src, 'ADE20K_2021_17_01');
    const valDir = join(ds, 'images', 'ADE', 'validation', 'cultural', 'apse__indoor');
    const folder = 'ADE20K_2021_17_01/images/ADE/validation/cultural/apse__indoor';
    await writeJpeg(join(valDir, 'ADE_val_00000001.jpg'));
    await writeRgbPng(join(valDir, 'ADE_val_00000001_seg.png'), seg(W, H, (x, y) => [WALL, SKY, NONE, ODD][(x + 2 * y) % 4]!));
    // A grey photo whose shorter side (515) exceeds 512: resized to 527x512.
    const [bw, bh] = [530, 515];
    await writeFile(join(valDir, 'ADE_val_00000002.jpg'), await sharp(new Uint8Array(bw * bh).fill(90), { raw: { width: bw, height: bh, channels: 1 } }).toColourspace('b-w').jpeg().toBuffer());
    await writeRgbPng(join(valDir, 'ADE_val_00000002_seg.png'), seg(bw, bh, (x) => (x < 265 ? WALL : SKY)), bw, bh);
    await writeFile(join(ds, 'index_ade20k.pkl'), pickleDictOfStrLists({
      folder: [folder, folder, 'ADE20K_2021_17_01/images/ADE/training/x'],
      filename: ['ADE_val_00000001.jpg', 'ADE_val_00000002.jpg', 'ADE_train_00000001.jpg'],
    }));
    const root = join(dir, 'datasets');
    const rep = await prepareAde847({ src, root });
    const out = join(root, 'ADE20K_2021_17_01');
    const lab = await readLabelMap(join(out, 'annotations_detectron2', 'validation', 'ADE_val_00000001.tif'));
    // If this fails, the colour decoding or the id -> trainId table is wrong, or the map is 8-bit.
    assert.equal(lab.bitDepth, 16);
    const exp = Array.from({ length: W * H }, (_, i) => [0, 2, 65535, 65535][(i % W + 2 * Math.floor(i / W)) % 4]);
    assert.deepEqual(Array.from(lab.data), exp);
    const img = await sharp(join(out, 'images_detectron2', 'validation', 'ADE_val_00000001.jpg')).metadata();
    assert.deepEqual([img.format, img.width, img.height], ['jpeg', W, H]);

    const big = await readLabelMap(join(out, 'annotations_detectron2', 'validation', 'ADE_val_00000002.tif'));
    assert.deepEqual([big.width, big.height], [527, 512]);
    // Nearest neighbour keeps the two classes, with the border at floor(x * 530 / 527) < 265.
    for (const x of [0, 262, 263, 264, 526]) {
      assert.equal(big.data[100 * 527 + x], Math.floor(x * (530 / 527)) < 265 ? 0 : 2, `column ${x}`);
    }
    const bigImg = await sharp(join(out, 'images_detectron2', 'validation', 'ADE_val_00000002.jpg')).metadata();
    // Same size as its label, and still one channel as PIL would save an L image.
    assert.deepEqual([bigImg.width, bigImg.height, bigImg.channels], [527, 512, 1]);
    // Training images are skipped, as the script does.
    assert.equal(rep.tasks[0]!.written, 2);
    assert.deepEqual(await readdir(join(out, 'annotations_detectron2')), ['validation']);
  });

  it('names the missing index, image or _seg.png', async () => {
    await rejectsWith(prepareAde847({ src: join(dir, 'none'), root: join(dir, 'r') }), 'AHS_ERR_FILE_NOT_FOUND', 'ADE20K_2021_17_01.zip');
    const src = join(dir, 'noseg');
    const valDir = join(src, 'images', 'ADE', 'validation');
    await writeJpeg(join(valDir, 'ADE_val_00000009.jpg'));
    // The folder given relative to the parent of ADE20K_2021_17_01, with --src the dataset folder itself.
    await writeFile(join(src, 'index_ade20k.pkl'), pickleDictOfStrLists({ folder: ['ADE20K_2021_17_01/images/ADE/validation'], filename: ['ADE_val_00000009.jpg'] }));
    await rejectsWith(prepareAde847({ src, root: join(dir, 'r2') }), 'AHS_ERR_FILE_NOT_FOUND', 'ADE_val_00000009_seg.png');
  });
});
