// `ahs-seg segment` over folders as one batch (--model by path, --mode), its colour masks and
// JSON summary, `ahs-seg models`, and the exit codes of bad --model / --mode / --device values.
// Tiny random models; the labels mean nothing, the files and their agreement are what is checked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { classColor } from '../../src/api/colour_mask.js';
import { readLabelMap } from '../../src/data/label_io.js';
import { saveTensors } from '../../src/io/tensor_io.js';
import { dispose, randn } from '../../src/tensor/index.js';
import { assertCliError, REPO_ROOT, runCli } from '../helpers/cli.js';
import { writeTinyCatSegRun, type TinyRun } from '../helpers/tiny_catseg_run.js';

const USER = 1, ENVIRONMENT = 2;
let dir: string;
let run: TinyRun;
let photos: string;
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { AHS_SEG_CACHE: join(dir, 'cache'), HF_HUB_OFFLINE: '1', ...env } });
const seg = (...args: string[]) => cli(['segment', photos, '--labels', 'cat', '--out', join(dir, 'out_bad'), ...args]);

interface Summary {
  model: { kind: string; method: string; protocol: string };
  classes: { name: string; fraction: number; meanConfidence: number | null }[];
  images: { image: string; files: Record<string, string>; classes: { name: string }[] }[];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-batch-'));
  run = writeTinyCatSegRun(join(dir, 'catseg'));
  photos = join(dir, 'photos');
  mkdirSync(photos);
  copyFileSync(join(REPO_ROOT, 'assets/examples/chelsea.png'), join(photos, 'b_cat.png'));
  const px = Buffer.from(Array.from({ length: 80 * 60 * 3 }, (_, i) => (i * 13) % 256));
  await sharp(px, { raw: { width: 80, height: 60, channels: 3 } }).jpeg().toFile(join(photos, 'a_noise.jpg'));
  writeFileSync(join(photos, 'notes.txt'), 'not an image\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each image's four files agree with each other and with summary.json. */
async function checkBatch(out: string, classes: string[]): Promise<Summary> {
  assert.deepEqual(readdirSync(out).sort(), [
    'a_noise.json', 'a_noise.labels.png', 'a_noise.mask.png', 'a_noise.overlay.png',
    'b_cat.json', 'b_cat.labels.png', 'b_cat.mask.png', 'b_cat.overlay.png', 'summary.json',
  ]);
  for (const [stem, w, h] of [['a_noise', 80, 60], ['b_cat', 451, 300]] as const) {
    const labels = await readLabelMap(join(out, `${stem}.labels.png`));
    assert.deepEqual([labels.width, labels.height], [w, h]);
    const mask = await sharp(join(out, `${stem}.mask.png`)).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([mask.info.width, mask.info.height, mask.info.channels], [w, h, 3]);
    for (let i = 0; i < w * h; i += 97) assert.deepEqual([...mask.data.subarray(3 * i, 3 * i + 3)], [...classColor(labels.data[i]!)], `${stem} mask pixel ${i}`);
    const ov = await sharp(join(out, `${stem}.overlay.png`)).metadata();
    assert.ok(ov.width! > w, `${stem}: the overlay has a legend panel`);
    const json = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8')) as { classes: { name: string; fraction: number; pixels: number; meanConfidence: number | null }[] };
    assert.deepEqual(json.classes.map((c) => c.name), classes);
    assert.ok(Math.abs(json.classes.reduce((a, c) => a + c.fraction, 0) - 1) < 1e-9);
    for (const c of json.classes) assert.ok(c.pixels === 0 ? c.meanConfidence === null : c.meanConfidence! > 0 && c.meanConfidence! <= 1, `${stem} ${c.name}: ${c.meanConfidence}`);
  }
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  assert.deepEqual(summary.images.map((i) => i.image), [join(photos, 'a_noise.jpg'), join(photos, 'b_cat.png')], 'the folder in name order, its text file skipped');
  assert.deepEqual(summary.classes.map((c) => c.name), classes);
  assert.ok(Math.abs(summary.classes.reduce((a, c) => a + c.fraction, 0) - 1) < 1e-9);
  for (const c of summary.classes) assert.ok(c.meanConfidence === null || (c.meanConfidence >= 0 && c.meanConfidence <= 1));
  return summary;
}

describe('segment: a batch of folders', { concurrency: 2 }, () => {
  // Wrong here: a folder is not expanded, the model reloads per image, or a file is missing.
  it('CLIP weights by --model: a mask, overlay, labels and JSON per image, one summary, a progress line', async () => {
    const out = join(dir, 'out_tfree');
    const r = await cli(['segment', photos, '--model', run.clip, '--labels', 'cat,sofa,wall', '--prompts', 'single', '--short-side', '112', '--no-pamr', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const s = await checkBatch(out, ['cat', 'sofa', 'wall']);
    assert.deepEqual([s.model.kind, s.model.method, s.model.protocol], ['training-free', 'NACLIP', 'sliding']);
    assert.match(r.stderr, /images: 100% \(2\/2 images, [\d.]+ images\/s\)/);
    assert.match(r.stdout, /2 images -> .*summary\.json/);
  });
  // Wrong here: --model does not take an OUTPUT_DIR, or --mode / --protocol do not reach it.
  it('an `ahs-seg train` OUTPUT_DIR by --model, --mode whole (and --protocol, its older name)', async () => {
    const out = join(dir, 'out_catseg');
    const r = await cli(['segment', photos, '--model', run.outputDir, '--labels', 'cat,sofa', '--mode', 'whole', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const s = await checkBatch(out, ['cat', 'sofa']);
    assert.deepEqual([s.model.kind, s.model.protocol], ['catseg', 'whole']);
    const old = await cli(['segment', join(photos, 'a_noise.jpg'), '--model', run.outputDir, '--labels', 'cat,sofa', '--protocol', 'whole', '--out', join(dir, 'out_protocol')]);
    assert.equal(old.status, 0, old.stderr);
    const p = JSON.parse(readFileSync(join(dir, 'out_protocol', 'summary.json'), 'utf8')) as Summary;
    assert.equal(p.model.protocol, 'whole');
  });
});

describe('segment: bad --model, --mode, --device and folders', { concurrency: 3 }, () => {
  it('--mode bogus, --mode and --protocol that disagree, --mode sliding with maskclip', async () => {
    assertCliError(await seg('--model', run.clip, '--mode', 'tiles'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--mode', 'sliding, whole', "'tiles'"]);
    assertCliError(await seg('--model', run.outputDir, '--mode', 'whole', '--protocol', 'sliding'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--mode whole and --protocol sliding disagree']);
    assertCliError(await seg('--model', run.clip, '--method', 'maskclip', '--mode', 'sliding'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['MaskCLIP runs on the whole image only']);
  });
  // Wrong here: an unusable device fails deep inside libtorch, or is silently replaced by the CPU.
  it('--device tpu and --device cuda on a machine whose addon sees no CUDA', async () => {
    assertCliError(await seg('--model', run.clip, '--device', 'tpu'), USER, 'AHS_ERR_DEVICE', ["unknown device 'tpu'"]);
    assertCliError(await seg('--model', run.clip, '--device', 'cuda'), USER, 'AHS_ERR_DEVICE', ["'cuda'"]);
  });
  // Wrong here: two ways of naming the model are both accepted and one silently wins.
  it('--model with --weights or --clip; an unknown name; --protocol and --short-side of the other kind of model', async () => {
    assertCliError(await seg('--model', run.clip, '--weights', run.weights), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--model and --weights each name the model']);
    assertCliError(await seg('--model', run.clip, '--clip', run.clip), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--model and --clip']);
    assertCliError(await seg('--model', 'catseg-vitx'), USER, 'AHS_ERR_INVALID_ARGUMENT', ["--model 'catseg-vitx' is not a known model", 'catseg-vitb']);
    assertCliError(await seg('--model', run.clip, '--protocol', 'whole'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--protocol applies to a --weights checkpoint (or a --model checkpoint)']);
    assertCliError(await seg('--model', run.outputDir, '--short-side', '224'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--short-side applies without --weights']);
  });
  // Wrong here: a pre-CVPR checkpoint fails with hundreds of unexpected keys.
  it('a pre-CVPR CAT-Seg checkpoint by --model and by --weights', async () => {
    const t = new Map([['backbone.stem.conv1.weight', randn([2, 2])], ['sem_seg_head.predictor.clip_model.visual.conv1.weight', randn([2, 2])]]);
    const old = join(dir, 'model_final_base.pth');
    saveTensors(old, t);
    dispose([...t.values()]);
    for (const flag of ['--model', '--weights']) {
      assertCliError(await seg(flag, old), USER, 'AHS_ERR_STATE_DICT', [old, 'pre-CVPR CAT-Seg checkpoint', 'recognised by its keys', 'catseg-vitb']);
    }
  });
  // Wrong here: an empty folder segments nothing and says nothing; a file named like the summary overwrites it.
  it('a folder without images; an image that would overwrite summary.json', async () => {
    mkdirSync(join(dir, 'empty'), { recursive: true });
    assertCliError(await cli(['segment', join(dir, 'empty'), '--labels', 'cat', '--model', run.clip]), USER, 'AHS_ERR_FILE_NOT_FOUND', [`folder '${join(dir, 'empty')}' holds no image`, '.png']);
    const s = join(dir, 'summary.png');
    copyFileSync(join(photos, 'b_cat.png'), s);
    assertCliError(await cli(['segment', s, '--labels', 'cat', '--model', run.clip]), USER, 'AHS_ERR_INVALID_ARGUMENT', [s, 'would write summary.json']);
  });
  // Wrong here: offline, a catalog model fails without saying what to download; a dry run downloads.
  it('--model catseg-vitb offline: exit 2 with the download instructions; --dry-run says where it would come from', async () => {
    const r = await seg('--model', 'catseg-vitb');
    assertCliError(r, ENVIRONMENT, 'AHS_ERR_OFFLINE', ['CAT-Seg checkpoint "catseg-vitb"', 'HF_HUB_OFFLINE']);
    assert.match(r.stderr, /https:\/\/huggingface\.co\/spaces\/hamacojr\/CAT-Seg-weights\/resolve\/main\/model_base\.pth\n\s+-> .*spaces--hamacojr--CAT-Seg-weights\/main\/model_base\.pth/);
    const dry = await seg('--model', 'catseg-vitb', '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /catseg-vitb \(https:\/\/huggingface\.co\/spaces\/hamacojr\/CAT-Seg-weights\/resolve\/main\/model_base\.pth, cached at .* once downloaded\) with config .*configs\/vitb_384\.yaml/);
    assert.ok(!existsSync(join(dir, 'cache', 'hub')), 'a dry run downloads nothing');
  });
});

describe('models', () => {
  // Wrong here: the list misses a model, its source, its size, or what is cached.
  it('lists every catalog model with its URL, size and cache state', async () => {
    const r = await cli(['models', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { name: string; isDefault: boolean; url: string; bytes: number; cached: string | null }[];
    assert.deepEqual(list.map((m) => [m.name, m.isDefault, m.cached]), [['clip-vit-b16', true, null], ['catseg-vitb', false, null], ['catseg-vitl', false, null]]);
    assert.ok(list.every((m) => m.bytes > 1e8 && m.url.startsWith('https://huggingface.co/')));
    const text = await cli(['models']);
    assert.match(text.stdout, /^clip-vit-b16 \(default\)\s+training-free\s+~[\d.]+ MB\s+not downloaded$/m);
    assert.match(text.stdout, /-> .*cache\/hub\/openai--clip-vit-base-patch16\/main\/model\.safetensors/);
  });
});
