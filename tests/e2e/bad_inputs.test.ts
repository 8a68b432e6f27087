// Malformed inputs at every entry point of the command line (segment, info, eval, eval-suite,
// eval-masks, train, prepare, plot): each must end in one `ahs-seg: error <CODE>: ...` line that
// names the option, key, file or value at fault, the exit code of its fault class, no stack
// trace, and no work done first. The classes are those of issue 13: file-system errors, numeric
// option ranges, config ranges and sizes, image shapes, class lists, weights files, misleading
// messages, and long silent work. Tiny random weights; every failure is checked before a model
// runs, so a case takes about a second; each group runs three at a time.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { BENCHMARKS } from '../../src/data/benchmarks.js';
import { writeLabelPng } from '../../src/data/label_io.js';
import { loadConfig } from '../../src/config/index.js';
import { buildCatSeg } from '../../src/models/catseg/build.js';
import { CLIP } from '../../src/models/clip/clip_model.js';
import { saveTensors } from '../../src/io/tensor_io.js';
import { dispose, manualSeed, randn, tensor, type Tensor } from '../../src/tensor/index.js';
import { TINY_CLIP_64 } from '../helpers/shapes_dataset.js';
import { assertCliError, REPO_ROOT, runCli } from '../helpers/cli.js';

const USER = 1, ENVIRONMENT = 2;
const PHOTO = join(REPO_ROOT, 'assets/examples/chelsea.png'); // 451 x 300
let dir: string;
const f: Record<string, string> = {};
/** A folder this process cannot write, or null (root writes everywhere outside /sys). */
let readOnly: string | null = null;

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: dir, env: { AHS_SEG_CACHE: join(dir, 'cache'), HF_HUB_OFFLINE: '1', ...env } });
const seg = (...args: string[]) => cli(['segment', PHOTO, '--clip', f.clip!, '--out', join(dir, 'out'), ...args]);
/** A run that encodes text, with a cache of its own (cases run three at a time). */
const segOwnCache = (cache: string, ...args: string[]) => cli(['segment', PHOTO, '--clip', f.clip!, ...args], { AHS_SEG_CACHE: join(dir, cache) });
/** The same under a 1 MB memory budget (the chelsea photo's class scores alone take 2 MB+). */
const segTight = (...args: string[]) => runCli(['segment', PHOTO, '--clip', f.clip!, '--out', join(dir, 'out'), ...args],
  { cwd: dir, env: { AHS_SEG_CACHE: join(dir, 'cache'), HF_HUB_OFFLINE: '1', AHS_SEG_MEMORY_LIMIT: '1M' } });

/** A copy of `sd` with one value of `key` set to NaN and one to +Infinity. */
function poisoned(sd: Map<string, Tensor>, key: string): Map<string, Tensor> {
  const t = sd.get(key)!;
  const d = t.data<'float32'>().slice();
  d[1] = NaN; d[2] = Infinity;
  return new Map([...sd].map(([k, v]) => [k, k === key ? tensor(d, { shape: t.shape }) : v]));
}

function unwritableFolder(): string | null {
  const ro = join(dir, 'read_only');
  mkdirSync(ro);
  chmodSync(ro, 0o555);
  for (const cand of [ro, '/sys']) {
    try {
      writeFileSync(join(cand, 'probe'), '');
      rmSync(join(cand, 'probe'));
    } catch {
      if (existsSync(cand)) return cand;
    }
  }
  return null;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ahs-bad-'));
  manualSeed(3);
  const clip = new CLIP(TINY_CLIP_64);
  const sd = clip.stateDict();
  f.clip = join(dir, 'clip.safetensors');
  saveTensors(f.clip, sd);
  f.clipNan = join(dir, 'clip_nan.safetensors');
  saveTensors(f.clipNan, poisoned(sd, 'visual.transformer.resblocks.1.mlp.c_fc.weight'));
  f.clipRenamed = join(dir, 'clip_renamed.safetensors');
  saveTensors(f.clipRenamed, new Map([...sd].map(([k, v]) => [k === 'visual.conv1.weight' ? 'visual.conv_1.weight' : k, v])));
  clip.dispose();
  f.other = join(dir, 'resnet.safetensors');
  const other = new Map([['encoder.layer1.0.conv1.weight', randn([8, 3, 3, 3])], ['fc.weight', randn([10, 8])]]);
  saveTensors(f.other, other);
  dispose([...other.values()]);

  f.config = join(dir, 'tiny.yaml');
  writeFileSync(f.config, [
    `_BASE_: ${join(REPO_ROOT, 'configs/vitb_384.yaml')}`, 'MODEL:', '  SEM_SEG_HEAD:', `    CLIP_PRETRAINED: "${f.clip}"`, '    CLIP_FINETUNE: "none"',
    '    TEXT_GUIDANCE_DIM: 32', '    TEXT_GUIDANCE_PROJ_DIM: 16', '    APPEARANCE_GUIDANCE_DIM: 32', '    APPEARANCE_GUIDANCE_PROJ_DIM: 16',
    '    DECODER_DIMS: [32, 16]', '    DECODER_GUIDANCE_DIMS: [32, 16]', '    DECODER_GUIDANCE_PROJ_DIMS: [8, 4]', '    HIDDEN_DIMS: 32', '    NUM_HEADS: 4', '',
  ].join('\n'));
  f.negLayers = join(dir, 'neg_layers.yaml');
  writeFileSync(f.negLayers, `_BASE_: tiny.yaml\nMODEL:\n  SEM_SEG_HEAD:\n    NUM_LAYERS: -2\n`);
  const model = buildCatSeg(loadConfig(f.config));
  const msd = model.stateDict();
  f.weights = join(dir, 'tiny_catseg.safetensors');
  saveTensors(f.weights, msd);
  f.weightsInf = join(dir, 'catseg_inf.safetensors');
  saveTensors(f.weightsInf, poisoned(msd, 'sem_seg_head.predictor.transformer.conv1.weight'));
  model.dispose();

  f.thin = join(dir, 'strip.png');
  await sharp(Buffer.alloc(1000 * 3, 90), { raw: { width: 1000, height: 1, channels: 3 } }).png().toFile(f.thin);
  mkdirSync(join(dir, 'other'));
  f.sameStem = join(dir, 'other', 'chelsea.png');
  copyFileSync(PHOTO, f.sameStem);
  f.file = join(dir, 'a_file.txt');
  writeFileSync(f.file, 'not a folder\n');
  f.blankClasses = join(dir, 'blank_classes.json');
  writeFileSync(f.blankClasses, JSON.stringify(['cat', '  ', 'sofa']));

  const b = BENCHMARKS.voc20;
  f.datasets = join(dir, 'datasets');
  mkdirSync(join(f.datasets, b.imageDir), { recursive: true });
  mkdirSync(join(f.datasets, b.labelDir), { recursive: true });
  for (const key of ['a_001', 'a_002']) {
    await sharp(Buffer.alloc(64 * 48 * 3, 120), { raw: { width: 64, height: 48, channels: 3 } }).jpeg().toFile(join(f.datasets, b.imageDir, `${key}.jpg`));
    await writeLabelPng(join(f.datasets, b.labelDir, `${key}.png`), Array.from({ length: 64 * 48 }, (_, i) => i % 5), 64, 48);
  }
  f.gt = join(f.datasets, b.labelDir);
  f.images = join(f.datasets, b.imageDir);
  readOnly = unwritableFolder();
});

after(() => {
  if (existsSync(join(dir, 'read_only'))) chmodSync(join(dir, 'read_only'), 0o755);
  rmSync(dir, { recursive: true, force: true });
});

describe('segment: option values are checked when the command line is read', { concurrency: 3 }, () => {
  // Wrong here: a value reaches libtorch (NaN sizes, 0-pixel inputs) or is silently accepted.
  it('--short-side abc, -5, 0, 100000, Infinity, 1.5', async () => {
    for (const v of ['abc', '-5', '0', '100000', 'Infinity', '1.5']) {
      assertCliError(await seg('--labels', 'cat', `--short-side=${v}`), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--short-side', 'from 16 to 2048', `'${v}'`]);
    }
  });
  it('--protocol foo with --weights', async () => {
    assertCliError(await cli(['segment', PHOTO, '--weights', f.weights!, '--config-file', f.config!, '--labels', 'cat', '--protocol', 'foo']), USER,
      'AHS_ERR_INVALID_ARGUMENT', ['--protocol', 'sliding, whole', "'foo'"]);
  });
  it('--prompts bogus', async () => {
    assertCliError(await seg('--labels', 'cat', '--prompts', 'bogus'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--prompts', 'imagenet_select', "'bogus'"]);
  });
  // Wrong here: an option of the other mode is silently ignored.
  it('--protocol without --weights, --short-side with --weights', async () => {
    assertCliError(await seg('--labels', 'cat', '--protocol', 'whole'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--protocol', '--weights']);
    assertCliError(await cli(['segment', PHOTO, '--weights', f.weights!, '--config-file', f.config!, '--labels', 'cat', '--short-side', '224']), USER,
      'AHS_ERR_INVALID_ARGUMENT', ['--short-side', 'without --weights']);
  });
  // Wrong here: commander's own errors bypass the one error format.
  it('an unknown option and an unknown command', async () => {
    assertCliError(await seg('--labels', 'cat', '--shortside', '300'), USER, 'AHS_ERR_INVALID_ARGUMENT', ["'--shortside'"]);
    assertCliError(await cli(['segmnt', PHOTO]), USER, 'AHS_ERR_INVALID_ARGUMENT', ["'segmnt'"]);
  });
});

describe('segment: output locations are checked before any work', { concurrency: 3 }, () => {
  // Wrong here: an fs error escapes as a stack trace, or only after the model ran.
  it('--out that is a regular file', async () => {
    assertCliError(await seg('--labels', 'cat', '--out', f.file!), USER, 'AHS_ERR_PATH', ['--out', f.file!, 'is an existing file']);
  });
  it('--out under a regular file', async () => {
    assertCliError(await seg('--labels', 'cat', '--out', join(f.file!, 'sub')), USER, 'AHS_ERR_PATH', [`lies under '${f.file}'`, 'regular file']);
  });
  it('--out in a folder that cannot be written', async (t) => {
    if (!readOnly) return t.skip('every folder is writable for this user');
    assertCliError(await seg('--labels', 'cat', '--out', readOnly), USER, 'AHS_ERR_PATH', ['--out', readOnly, 'not writable']);
    assertCliError(await seg('--labels', 'cat', '--out', join(readOnly, 'new')), USER, 'AHS_ERR_PATH', ['cannot create the folder', readOnly]);
  });
  // Wrong here: the second image silently overwrites the first one's outputs.
  it('two images with the same file stem, and one image given twice', async () => {
    assertCliError(await seg('--labels', 'cat', f.sameStem!), USER, 'AHS_ERR_INVALID_ARGUMENT', [PHOTO, f.sameStem!, 'chelsea.labels.png']);
    assertCliError(await seg('--labels', 'cat', PHOTO), USER, 'AHS_ERR_INVALID_ARGUMENT', [`'${PHOTO}' is given twice`]);
  });
});

describe('segment: class lists', { concurrency: 3 }, () => {
  // Wrong here: a blank name becomes a class, as --labels and --classes disagreed before.
  it('a blank name in --classes and in --labels', async () => {
    assertCliError(await seg('--classes', f.blankClasses!), USER, 'AHS_ERR_INVALID_ARGUMENT', [`--classes ${f.blankClasses}`, 'entry 2 is blank']);
    assertCliError(await seg('--labels', 'cat,,sofa'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--labels', 'entry 2 is blank']);
  });
  // Wrong here: a repeated class is accepted and can never win a pixel.
  it('a duplicate label (case and spaces ignored, as CLIP does)', async () => {
    assertCliError(await seg('--labels', 'cat, sofa,  Cat'), USER, 'AHS_ERR_INVALID_ARGUMENT', ["'Cat' (entry 3) repeats 'cat' (entry 1)"]);
  });
  // Wrong here: the advice names an option the CLI does not have (truncate: true).
  it('a label longer than CLIP\'s context', async () => {
    const line = assertCliError(await seg('--labels', `cat,${'very '.repeat(80)}long`), USER, 'AHS_ERR_TEXT_TOO_LONG', ['--labels', 'class 2', 'at most 77', 'shorten the class name']);
    assert.doesNotMatch(line, /truncate/);
  });
  // Wrong here: an escape sequence in a label recolours or moves the user's terminal.
  it('control characters in a label are escaped when echoed', async () => {
    const r = await segOwnCache('cache_ctrl', '--labels', '\x1b[31mred\x07', '--method', 'maskclip', '--prompts', 'single', '--out', join(dir, 'ctrl_out'));
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('\x1b') && !r.stdout.includes('\x07'), 'no raw control character on stdout');
    assert.ok(r.stdout.includes('\\x1b[31mred\\x07 100.0%'), r.stdout);
  });
});

describe('segment: image sizes and memory', { concurrency: 3 }, () => {
  // Wrong here: a 1 x 1000 image becomes a 448 x 448,000 input and runs out of memory.
  it('an extreme aspect ratio: MaskCLIP caps the long side; NACLIP says why it cannot', async () => {
    const ok = await segOwnCache('cache_thin', '--labels', 'cat,sofa', '--method', 'maskclip', '--prompts', 'single', f.thin!, '--out', join(dir, 'thin_out'));
    assert.equal(ok.status, 0, ok.stderr);
    assert.ok(existsSync(join(dir, 'thin_out', 'strip.labels.png')));
    assertCliError(await cli(['segment', f.thin!, '--clip', f.clip!, '--labels', 'cat', '--out', join(dir, 'out')]), USER, 'AHS_ERR_SHAPE',
      [f.thin!, '1000x1', 'naclip', 'aspect ratio']);
  });
  // Wrong here: class count x image size is allocated before anyone checks it fits.
  it('class scores larger than the memory budget fail before the model runs', async () => {
    assertCliError(await segTight('--labels', 'cat,sofa,wall', '--method', 'maskclip', '--prompts', 'single'), USER, 'AHS_ERR_TOO_LARGE',
      ['451x300', '3 classes', 'AHS_SEG_MEMORY_LIMIT']);
  });
});

describe('segment: weights files', { concurrency: 3 }, () => {
  // Wrong here: NaN weights load silently and every pixel gets the same class.
  it('NaN / infinite values in --clip and in --weights, naming file and key', async () => {
    assertCliError(await seg('--labels', 'cat', '--clip', f.clipNan!), USER, 'AHS_ERR_FILE_FORMAT', [f.clipNan!, 'visual.transformer.resblocks.1.mlp.c_fc.weight', '2 NaN or infinite']);
    assertCliError(await cli(['segment', PHOTO, '--weights', f.weightsInf!, '--config-file', f.config!, '--labels', 'cat', '--out', join(dir, 'out')]), USER,
      'AHS_ERR_FILE_FORMAT', [f.weightsInf!, 'sem_seg_head.predictor.transformer.conv1.weight']);
  });
  // Wrong here: the same "lacks visual.conv1.weight" for every wrong file, with no file named.
  it('a CAT-Seg checkpoint given as --clip: the prefix and the option that takes it', async () => {
    assertCliError(await seg('--labels', 'cat', '--clip', f.weights!), USER, 'AHS_ERR_STATE_DICT',
      [f.weights!, "under the prefix 'sem_seg_head.predictor.clip_model.'", '--weights']);
  });
  it('another model, and a renamed key', async () => {
    assertCliError(await seg('--labels', 'cat', '--clip', f.other!), USER, 'AHS_ERR_STATE_DICT', [f.other!, "lacks 'visual.conv1.weight'", 'encoder.layer1.0.conv1.weight']);
    assertCliError(await seg('--labels', 'cat', '--clip', f.clipRenamed!), USER, 'AHS_ERR_STATE_DICT', [f.clipRenamed!, "'visual.conv_1.weight' looks like it renamed"]);
  });
  // Wrong here: a missing file is reported as an unknown model name.
  it('a missing --clip file is a missing file', async () => {
    assertCliError(await seg('--labels', 'cat', '--clip', 'weights/missing.safetensors'), USER, 'AHS_ERR_FILE_NOT_FOUND', ["'weights/missing.safetensors' not found", join(dir, 'weights/missing.safetensors')]);
  });
  // Wrong here: a known model that cannot be fetched is reported as the user's fault.
  it('a hub model not in the cache while offline is an environment error (exit 2)', async () => {
    assertCliError(await seg('--labels', 'cat', '--clip', 'openai/clip-vit-base-patch16'), ENVIRONMENT, 'AHS_ERR_OFFLINE', ['openai/clip-vit-base-patch16', 'HF_HUB_OFFLINE']);
  });
});

describe('segment: long work is stated first, and --dry-run', { concurrency: 3 }, () => {
  // Wrong here: thousands of prompts are encoded for minutes without a word.
  it('30 classes x 80 templates: announced with a progress line carrying an ETA', async () => {
    const labels = Array.from({ length: 30 }, (_, i) => `thing ${i}`).join(',');
    const r = await segOwnCache('cache_long', '--labels', labels, '--method', 'maskclip', '--out', join(dir, 'long_out'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /30 classes x 80 templates = 2,400 prompts/);
    assert.match(r.stderr, /text encoding: \d+% \(\d+\/2400 prompts, [\d.]+ prompts\/s, ETA \d+:\d\d\)/);
    assert.ok(r.stderr.indexOf('2,400 prompts') < r.stderr.indexOf('text encoding:'), 'stated before it starts');
  });
  // Wrong here: the shipped default config is looked up in the working directory.
  it('--dry-run with --weights from another folder: default config from the package, nothing written', async () => {
    const out = join(dir, 'dry_out');
    const r = await cli(['segment', PHOTO, '--weights', f.weights!, '--labels', 'cat,sofa', '--out', out, '--dry-run']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(join(REPO_ROOT, 'configs/vitb_384.yaml')), r.stdout);
    assert.match(r.stdout, /memory: about [\d.]+ [KMG]B/);
    assert.match(r.stdout, /nothing was run/);
    assert.ok(!existsSync(out), 'a dry run creates no output folder');
  });
  it('--dry-run refuses a job beyond the memory budget', async () => {
    assertCliError(await segTight('--labels', 'cat', '--dry-run'), USER, 'AHS_ERR_TOO_LARGE', ['451x300', '1 class ', 'AHS_SEG_MEMORY_LIMIT']);
  });
  // Wrong here: AHS_SEG_DEBUG=1 does not give a developer the stack.
  it('AHS_SEG_DEBUG=1 adds the stack trace', async () => {
    const r = await cli(['segment', PHOTO, '--labels', 'cat', '--out', f.file!], { AHS_SEG_DEBUG: '1' });
    assert.equal(r.status, USER);
    assert.match(r.stderr, /^ahs-seg: error AHS_ERR_PATH: /m);
    assert.match(r.stderr, /^\s+at prepareOutputDir /m);
  });
});

describe('info and train: config values', { concurrency: 3 }, () => {
  // Wrong here: 1e9 reaches the allocator (std::bad_alloc) instead of naming the key.
  it('HIDDEN_DIMS 1000000000 on the command line', async () => {
    assertCliError(await cli(['info', '--config', f.config!, 'MODEL.SEM_SEG_HEAD.HIDDEN_DIMS', '1000000000']), USER, 'AHS_ERR_CONFIG_VALUE',
      ["'MODEL.SEM_SEG_HEAD.HIDDEN_DIMS'", 'command-line overrides', 'from 1 to 8192', '1000000000']);
  });
  // Wrong here: the error names a module (Aggregator: numLayers) instead of the key and file.
  it('a negative NUM_LAYERS in a file: info and train name the key and the file', async () => {
    for (const cmd of [['info', '--config', f.negLayers!], ['train', '--config-file', f.negLayers!]]) {
      assertCliError(await cli(cmd), USER, 'AHS_ERR_CONFIG_VALUE', ["'MODEL.SEM_SEG_HEAD.NUM_LAYERS'", f.negLayers!, 'from 1 to 64', '-2']);
    }
  });
  // Wrong here: minutes of initialising hundreds of GB before running out of memory.
  it('widths whose model cannot fit fail at once with the size they need (shipped config, from another folder)', async () => {
    assertCliError(await cli(['info', '--config', 'configs/vitb_384.yaml', 'MODEL.SEM_SEG_HEAD.HIDDEN_DIMS', '8192', 'MODEL.SEM_SEG_HEAD.NUM_LAYERS', '64']), USER,
      'AHS_ERR_TOO_LARGE', ['configs/vitb_384.yaml', 'HIDDEN_DIMS 8192', 'NUM_LAYERS 64', /needs about \d+(\.\d)? GB/]);
  });
  it('train: OUTPUT_DIR under a file, --num-gpus abc', async () => {
    assertCliError(await cli(['train', '--config-file', f.config!, 'OUTPUT_DIR', join(f.file!, 'run')]), USER, 'AHS_ERR_PATH', ['OUTPUT_DIR', f.file!]);
    assertCliError(await cli(['train', '--config-file', f.config!, '--num-gpus', 'abc']), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--num-gpus', "'abc'"]);
  });
});

describe('eval and eval-suite', { concurrency: 3 }, () => {
  const ev = (...args: string[]) => cli(['eval', '--config-file', f.config!, '--weights', f.weights!, '--benchmarks', 'voc20', '--dataset-root', f.datasets!, ...args]);
  // Wrong here: -1 drops the last image, 0 and abc write NaN results.
  it('--limit -1, 0, abc', async () => {
    for (const v of ['-1', '0', 'abc']) {
      assertCliError(await ev('--out', join(dir, 'ev'), `--limit=${v}`), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--limit', '>= 1', `'${v}'`]);
    }
  });
  // Wrong here: the whole evaluation runs before the output fails to be written.
  it('--out that is a file, or cannot be written, fails before anything is evaluated', async () => {
    assertCliError(await ev('--out', f.file!), USER, 'AHS_ERR_PATH', ['--out', f.file!]);
    if (readOnly) assertCliError(await ev('--out', join(readOnly, 'eval')), USER, 'AHS_ERR_PATH', ['--out', readOnly]);
    assertCliError(await cli(['eval-suite', '--config-file', f.config!, '--weights', f.weights!, '--dataset-root', f.datasets!, '--out', join(f.file!, 'x')]), USER,
      'AHS_ERR_PATH', [`lies under '${f.file}'`]);
  });
  it('--benchmarks with an unknown name', async () => {
    assertCliError(await ev('--out', join(dir, 'ev'), '--benchmarks', 'voc21'), USER, 'AHS_ERR_INVALID_ARGUMENT', ["'voc21'", 'voc20']);
  });
});

describe('eval-masks, prepare and plot', { concurrency: 3 }, () => {
  const masks = (...args: string[]) => cli(['eval-masks', '--pred', f.gt!, '--gt', f.gt!, '--benchmark', 'voc20', ...args]);
  // Wrong here: --visualize -1 / abc, or without --images, silently does something else.
  it('--visualize -1, abc; --visualize without --images; --images without --visualize', async () => {
    for (const v of ['-1', 'abc']) assertCliError(await masks('--out', join(dir, 'm'), `--visualize=${v}`), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--visualize', `'${v}'`]);
    assertCliError(await masks('--out', join(dir, 'm'), '--visualize', '2'), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--visualize 2 needs --images']);
    assertCliError(await masks('--out', join(dir, 'm'), '--images', f.images!), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--images', '--visualize']);
    assert.ok(!existsSync(join(dir, 'm')), 'nothing is scored or written');
  });
  it('--out that is a file', async () => {
    assertCliError(await masks('--out', f.file!), USER, 'AHS_ERR_PATH', ['--out', f.file!]);
  });
  it('prepare: --jobs 0, --root that is a file', async () => {
    assertCliError(await cli(['prepare', 'voc', '--src', dir, '--jobs', '0']), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--jobs', 'from 1 to 256', "'0'"]);
    assertCliError(await cli(['prepare', 'voc', '--src', dir, '--root', f.file!]), USER, 'AHS_ERR_PATH', ['--root', f.file!]);
  });
  it('plot: --width abc, --out under a file', async () => {
    assertCliError(await cli(['plot', dir, '--width', 'abc']), USER, 'AHS_ERR_INVALID_ARGUMENT', ['--width', "'abc'"]);
    assertCliError(await cli(['plot', dir, '--out', join(f.file!, 'metrics.png')]), USER, 'AHS_ERR_PATH', ['--out', f.file!]);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.png') && n.startsWith('metrics')), []);
  });
});
