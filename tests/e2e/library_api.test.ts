// The library API end to end with tiny random models: createSegmenter on CLIP weights (the
// training-free method) and on an `ahs-seg train` OUTPUT_DIR (CAT-Seg), segment() on a path, on
// PNG / JPEG / WebP / TIFF bytes and on raw RGB / RGBA pixels, with every optional output, and
// dispose(). The labels of random weights mean nothing; what is checked is that the API runs the
// method it names, that every output agrees with the others (probabilities, labels, confidence,
// colours, legend), and that bad input is refused naming its culprit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createSegmenter, type ImageSegmenter, type SegmentResult } from '../../src/api/index.js';
import { classColor } from '../../src/api/colour_mask.js';
import { legendLayout } from '../../src/api/overlay_legend.js';
import { readImage } from '../../src/data/image_io.js';
import { readLabelMap } from '../../src/data/label_io.js';
import { segmentImage } from '../../src/engine/segmenter.js';
import { evalConfig, loadEvalModel } from '../../src/engine/run_eval.js';
import { catsegInferenceOptions } from '../../src/models/catseg/build.js';
import { CatSegPredictor } from '../../src/models/catseg/inference.js';
import { loadClip } from '../../src/models/clip/weights.js';
import { TextEmbedder } from '../../src/models/clip/text_embedder.js';
import { promptTemplates } from '../../src/models/clip/prompts.js';
import { naclip } from '../../src/models/tfree/naclip.js';
import { liveTensorCount, tidy } from '../../src/tensor/index.js';
import { isAhsError } from '../helpers/ahs_error.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { TINY_CLIP_64 } from '../helpers/shapes_dataset.js';
import { writeTinyCatSegRun, type TinyRun } from '../helpers/tiny_catseg_run.js';

const PHOTO = join(REPO_ROOT, 'assets/examples/chelsea.png');
const CLASSES = ['cat', 'sofa', 'wall'];
const W = 64, H = 48;
let dir: string;
let run: TinyRun;
let raw: Uint8Array;
const ALL = { colorMask: true, overlay: true, labelPng: true, probabilities: true, features: true } as const;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-api-'));
  run = writeTinyCatSegRun(join(dir, 'catseg'));
  raw = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37 + (i >> 7) * 11) % 256);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const decodeRaw = async (png: Buffer) => sharp(png).raw().toBuffer({ resolveWithObject: true });

/** Every output of one result agrees with the others and with the documented layout. */
async function checkResult(r: SegmentResult, width: number, height: number, embedDim: number): Promise<void> {
  const T = r.classNames.length, N = width * height;
  assert.deepEqual([r.width, r.height], [width, height]);
  assert.equal(r.labels.length, N);
  assert.ok(r.labels instanceof Uint16Array, 'a label map of up to 65,536 classes is a Uint16Array');
  const shares = r.classes.map((c) => c.share);
  assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 1e-9, 'shares cover the image');
  for (const c of r.classes) {
    if (c.pixels === 0) assert.equal(c.meanConfidence, null, `${c.name}: no pixel, no confidence`);
    else assert.ok(c.meanConfidence! >= 0 && c.meanConfidence! <= 1, `${c.name}: mean confidence ${c.meanConfidence} in [0, 1]`);
  }
  // Probabilities [T, H, W]: their arg-max is the label map, and the mean of the label's
  // probability over a class's pixels is that class's mean confidence.
  assert.deepEqual(r.probabilities!.shape, [T, height, width]);
  const p = r.probabilities!.data;
  assert.equal(p.length, T * N);
  const sums = new Float64Array(T);
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let c = 1; c < T; c++) if (p[c * N + i]! > p[best * N + i]!) best = c;
    assert.ok(p[best * N + i]! >= 0 && p[best * N + i]! <= 1);
    assert.equal(p[r.labels[i]! * N + i], p[best * N + i], `pixel ${i}: label ${r.labels[i]} is not the most probable class ${best}`);
    sums[r.labels[i]!]! += p[r.labels[i]! * N + i]!;
  }
  for (const c of r.classes) if (c.pixels > 0) assert.ok(Math.abs(sums[c.index]! / c.pixels - c.meanConfidence!) < 1e-5, `${c.name}: mean confidence`);
  // Dense features [h * w, D] on their grid.
  const f = r.features!;
  assert.equal(f.shape[0], f.grid[0] * f.grid[1]);
  assert.equal(f.shape[1], embedDim);
  assert.equal(f.data.length, f.shape[0] * f.shape[1]);
  assert.ok(f.data.every(Number.isFinite));
  // The colour mask: every pixel its class's colour.
  const mask = await decodeRaw(r.colorMask!);
  assert.deepEqual([mask.info.width, mask.info.height, mask.info.channels], [width, height, 3]);
  for (let i = 0; i < N; i++) assert.deepEqual([...mask.data.subarray(3 * i, 3 * i + 3)], [...classColor(r.labels[i]!)], `mask pixel ${i}`);
  // The label PNG holds the class indices.
  const lp = join(dir, 'labels.png');
  writeFileSync(lp, r.labelPng!);
  assert.deepEqual(Array.from((await readLabelMap(lp)).data), Array.from(r.labels));
  // The overlay: the photo at the top-left, a legend to its right with one swatch per class
  // present (largest first) and its name drawn beside it.
  const ov = await decodeRaw(r.overlay!);
  const L = legendLayout(width, height, shares);
  assert.ok(ov.info.width > width && ov.info.height === L.canvasHeight, `overlay ${ov.info.width}x${ov.info.height} has a legend panel`);
  assert.equal(L.entries.length, r.classes.filter((c) => c.pixels > 0).length);
  const at = (x: number, y: number) => [...ov.data.subarray((y * ov.info.width + x) * 3, (y * ov.info.width + x) * 3 + 3)];
  for (const [k, c] of L.entries.entries()) {
    const y = L.y0 + k * L.row;
    assert.deepEqual(at(L.x + (L.swatch >> 1), y + (L.swatch >> 1)), [...classColor(c)], `legend swatch ${k} is ${r.classNames[c]}'s colour`);
    let ink = 0;
    for (let x = L.x + L.swatch + 2; x < ov.info.width; x++) for (let yy = y; yy < y + L.swatch; yy++) if (at(x, yy).every((v) => v < 128)) ink++;
    assert.ok(ink > 5, `legend row ${k} has its name drawn (${ink} dark pixels)`);
  }
}

describe('training-free (CLIP weights alone)', () => {
  let seg: ImageSegmenter;
  let clipPath: string;
  let live0 = 0;
  before(async () => {
    clipPath = join(dir, 'clip.safetensors');
    const { writeTinyClip } = await import('../helpers/shapes_dataset.js');
    writeTinyClip(clipPath, 9);
    live0 = liveTensorCount();
    seg = await createSegmenter({ model: clipPath, pamr: false, prompts: 'single', shortSide: 112, textCacheDir: null });
  });

  // Wrong here: the API runs another method or settings than it reports, or an output disagrees.
  it('a file path: every output, and the labels of NACLIP itself', async () => {
    assert.deepEqual({ ...seg.model, name: '' }, { name: '', kind: 'training-free', method: 'NACLIP', protocol: 'sliding', device: 'cpu' });
    const r = await seg.segment(PHOTO, CLASSES, ALL);
    await checkResult(r, 451, 300, TINY_CLIP_64.embedDim);
    const clip = loadClip(clipPath);
    const direct = naclip(clip, new TextEmbedder(clip), { templates: promptTemplates('single'), shortSide: 112, pamr: null });
    assert.deepEqual(Array.from(r.labels), Array.from(segmentImage(direct, await readImage(PHOTO), CLASSES).labels), 'the same labels as NACLIP run directly');
    direct.dispose();
    clip.dispose();
  });

  // Wrong here: one input kind decodes differently (channel order, alpha, orientation).
  it('raw RGB, raw RGBA and PNG / WebP / TIFF bytes of the same pixels give the same labels; JPEG decodes', async () => {
    const want = await seg.segment({ data: raw, width: W, height: H }, CLASSES);
    assert.equal(want.colorMask, undefined, 'optional outputs only on request');
    const rgba = new Uint8ClampedArray(W * H * 4);
    for (let i = 0; i < W * H; i++) { rgba.set(raw.subarray(3 * i, 3 * i + 3), 4 * i); rgba[4 * i + 3] = 255; }
    const s = () => sharp(raw, { raw: { width: W, height: H, channels: 3 } });
    for (const [what, input] of [
      ['RGBA', { data: rgba, width: W, height: H, channels: 4 as const }], ['PNG', await s().png().toBuffer()],
      ['WebP', await s().webp({ lossless: true }).toBuffer()], ['TIFF', await s().tiff({ compression: 'lzw' }).toBuffer()],
    ] as const) {
      assert.deepEqual(Array.from((await seg.segment(input, CLASSES)).labels), Array.from(want.labels), what);
    }
    const jpeg = await seg.segment(await s().jpeg().toBuffer(), CLASSES, { overlay: true });
    assert.equal(jpeg.labels.length, W * H);
    assert.equal((await sharp(jpeg.overlay!).metadata()).format, 'png');
  });

  // Wrong here: two requests at once mix each other's tensors (or dispose them).
  it('overlapping calls give the sequential results', async () => {
    const a = await seg.segment({ data: raw, width: W, height: H }, CLASSES, { probabilities: true });
    const b = await seg.segment(PHOTO, ['cat', 'wall'], { probabilities: true });
    const [a2, b2] = await Promise.all([seg.segment({ data: raw, width: W, height: H }, CLASSES, { probabilities: true }), seg.segment(PHOTO, ['cat', 'wall'], { probabilities: true })]);
    assert.deepEqual(a2.probabilities!.data, a.probabilities!.data);
    assert.deepEqual(b2.probabilities!.data, b.probabilities!.data);
  });

  // Wrong here: bad input reaches libtorch, or the message does not name what is wrong.
  it('bad inputs are refused naming the culprit', async () => {
    const rawImg = { data: raw, width: W, height: H };
    await assert.rejects(seg.segment(rawImg, []), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'labels names no class'));
    await assert.rejects(seg.segment(rawImg, ['cat', ' Cat ']), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^labels: 'Cat' \(entry 2\) repeats 'cat' \(entry 1\)/));
    await assert.rejects(seg.segment(rawImg, 'cat' as unknown as string[]), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^labels: expected an array of class names, got string/));
    await assert.rejects(seg.segment({ data: raw, width: W, height: H + 1 }, CLASSES), isAhsError('AHS_ERR_SHAPE', `raw image: ${W * H * 3} bytes for ${W}x${H + 1}x3 = ${W * (H + 1) * 3}`));
    await assert.rejects(seg.segment({ data: raw, width: 0, height: H }, CLASSES), isAhsError('AHS_ERR_INVALID_ARGUMENT', /width and height must be positive integers, got 0x48/));
    const gif = await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).gif().toBuffer();
    await assert.rejects(seg.segment(gif, CLASSES), isAhsError('AHS_ERR_FILE_FORMAT', /^image bytes \(\d+ bytes\) are gif; give PNG, JPEG, WebP or TIFF$/));
    await assert.rejects(seg.segment(Buffer.from('not an image at all'), CLASSES), isAhsError('AHS_ERR_FILE_FORMAT', /^image bytes \(19 bytes\) are not an image sharp can read/));
    await assert.rejects(seg.segment(join(dir, 'missing.png'), CLASSES), isAhsError('AHS_ERR_FILE_NOT_FOUND', /missing\.png not found/));
    await assert.rejects(seg.segment(rawImg, CLASSES, { overlay: { opacity: 2 } }), isAhsError('AHS_ERR_INVALID_ARGUMENT', 'overlay.opacity must be from 0 to 1, got 2'));
    await assert.rejects(seg.segment(rawImg, [`cat ${'very '.repeat(80)}`]), isAhsError('AHS_ERR_TEXT_TOO_LONG', /^labels: class 1 /));
    process.env.AHS_SEG_MEMORY_LIMIT = '100K';
    try {
      await assert.rejects(seg.segment(PHOTO, CLASSES), isAhsError('AHS_ERR_TOO_LARGE', /segmenting a 451x300 image into 3 classes/));
    } finally {
      delete process.env.AHS_SEG_MEMORY_LIMIT;
    }
  });

  // Wrong here: the weights, caches or a result's tensors stay allocated after dispose.
  it('dispose frees every tensor; a disposed segmenter refuses work', async () => {
    seg.dispose();
    seg.dispose();
    assert.equal(liveTensorCount(), live0, 'no native tensor outlives dispose()');
    await assert.rejects(seg.segment(PHOTO, CLASSES), isAhsError('AHS_ERR_INVALID_ARGUMENT', /was disposed; create another with createSegmenter/));
  });

  // Wrong here: the default is not NACLIP with PAMR, or options of the wrong kind are accepted.
  it('defaults and option checks at creation', async () => {
    const d = await createSegmenter({ model: clipPath, textCacheDir: null, shortSide: 64 });
    assert.equal(d.model.method, 'NACLIP+PAMR');
    assert.equal((await d.segment({ data: raw, width: W, height: H }, CLASSES)).labels.length, W * H);
    d.dispose();
    await assert.rejects(createSegmenter({ model: clipPath, mode: 'tiles' as 'whole' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', "mode 'tiles' is not one of whole, sliding"));
    await assert.rejects(createSegmenter({ model: clipPath, mode: 'whole', protocol: 'sliding' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /protocol 'sliding' and mode 'whole' disagree/));
    await assert.rejects(createSegmenter({ model: clipPath, device: 'tpu' }), isAhsError('AHS_ERR_DEVICE', /unknown device 'tpu'/));
    await assert.rejects(createSegmenter({ model: clipPath, method: 'maskclip', mode: 'sliding' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /MaskCLIP runs on the whole image only/));
    await assert.rejects(createSegmenter({ model: clipPath, config: run.config }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /holds CLIP weights alone .* a config applies to a segmentation checkpoint/));
    await assert.rejects(createSegmenter({ model: join(dir, 'nope.safetensors') }), isAhsError('AHS_ERR_FILE_NOT_FOUND', /^model '.*nope\.safetensors' not found/));
    await assert.rejects(createSegmenter({ model: 'catseg-vitx' }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /'catseg-vitx' is not a known model \(clip-vit-b16, catseg-vitb, catseg-vitl\)/));
  });
});

describe('CAT-Seg (an `ahs-seg train` OUTPUT_DIR)', () => {
  // Wrong here: a training run's folder does not load with its own config, the API runs another
  // protocol than the predictor, or the dense features are not CLIP's at its input size.
  it('the folder, whole-image protocol: every output, the predictor\'s own labels, dispose', async () => {
    const live0 = liveTensorCount();
    const seg = await createSegmenter({ model: run.outputDir, mode: 'whole', textCacheDir: null });
    assert.deepEqual({ ...seg.model, name: '' }, { name: '', kind: 'catseg', method: 'CAT-Seg', protocol: 'whole', device: 'cpu' });
    const img = { data: raw, width: W, height: H };
    const r = await seg.segment(img, CLASSES, ALL);
    await checkResult(r, W, H, TINY_CLIP_64.embedDim);
    assert.deepEqual(r.features!.grid, [24, 24], 'the 384-px CLIP input of vitb_384.yaml on 16-px patches');
    const lean = await seg.segment(img, CLASSES);
    assert.deepEqual(lean.classes, r.classes, 'labels and confidence by class chunks equal those from all probabilities');
    const cfg = evalConfig(run.config);
    const model = loadEvalModel(cfg, run.weights);
    const direct = new CatSegPredictor(model, catsegInferenceOptions(cfg, 'whole'));
    const { imageToTensor } = await import('../../src/data/image_io.js');
    const t = imageToTensor(img);
    const want = tidy(() => direct.labels(t, CLASSES).int().data<'int32'>());
    assert.deepEqual(Array.from(r.labels), Array.from(want), 'the labels of CatSegPredictor with the config\'s whole-image settings');
    t.dispose(); model.dispose();
    seg.dispose();
    assert.equal(liveTensorCount(), live0);
  });

  // Wrong here: a checkpoint file is used without its config, or with options it ignores.
  it('a checkpoint file with config.yaml beside it; without one, or with training-free options, it is refused', async () => {
    const seg = await createSegmenter({ model: run.weights, textCacheDir: null });
    assert.equal(seg.model.protocol, 'sliding', "eval.sh's protocol by default");
    seg.dispose();
    const alone = join(dir, 'alone.safetensors');
    writeFileSync(alone, (await import('node:fs')).readFileSync(run.weights));
    await assert.rejects(createSegmenter({ model: alone }), isAhsError('AHS_ERR_FILE_NOT_FOUND', /alone\.safetensors' is a segmentation checkpoint without a config\.yaml beside it/));
    await assert.rejects(createSegmenter({ model: run.outputDir, method: 'sclip', shortSide: 224 }), isAhsError('AHS_ERR_INVALID_ARGUMENT', /^method, shortSide: apply to the training-free method/));
    await assert.rejects(createSegmenter({ model: run.clip, requireCheckpoint: true }), isAhsError('AHS_ERR_STATE_DICT', /is not a segmentation checkpoint \(no 'sem_seg_head\.' keys\)/));
  });
});
