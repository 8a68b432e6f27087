// End to end with nothing but CLIP weights: a tiny random CLIP in Hugging Face format is served by
// a local hub, fetched by name through the real download path into the cache, and used for
// zero-shot segmentation (MaskCLIP, NACLIP, SCLIP, PAMR) of shipped example photos. The labels from random weights mean
// nothing; what is checked is shapes, determinism, the download cache and the text cache.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadClip } from '../../src/models/clip/weights.js';
import { TextEmbedder } from '../../src/models/clip/text_embedder.js';
import { MaskClipSegmenter } from '../../src/models/clip/maskclip.js';
import { resolveClipWeights } from '../../src/engine/clip_weights.js';
import { segmentImage } from '../../src/engine/segmenter.js';
import { readImage } from '../../src/data/image_io.js';
import { liveTensorCount } from '../../src/tensor/index.js';
import { readLabelMap } from '../../src/data/label_io.js';
import { CATSEG_TEMPLATE } from '../../src/models/clip/prompts.js';
import { naclip } from '../../src/models/tfree/naclip.js';
import { sclip } from '../../src/models/tfree/sclip.js';
import { REFERENCE_PAMR } from '../../src/models/tfree/methods.js';
import { PamrRefined } from '../../src/models/tfree/pamr_refined.js';
import type { Segmenter } from '../../src/engine/segmenter.js';
import { startFakeHub, type FakeHub } from '../helpers/fake_hub.js';
import { randomHfClip, TINY_CLIP_224 } from '../helpers/hf_clip.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const REPO = 'openai/clip-vit-base-patch16';

let hub: FakeHub;
let cache: string;
const saved = { ...process.env };

before(async () => {
  cache = mkdtempSync(join(tmpdir(), 'ahs-e2e-'));
  const clip = randomHfClip(TINY_CLIP_224, 7, join(cache, 'repo'));
  hub = await startFakeHub(REPO, { 'model.safetensors': clip.model, 'config.json': clip.config });
  process.env.HF_ENDPOINT = hub.endpoint;
  process.env.AHS_SEG_CACHE = join(cache, 'cache');
});

after(async () => {
  await hub?.close();
  process.env = saved;
  rmSync(cache, { recursive: true, force: true });
});

// Wrong here: the hub download path, HF->OpenAI loading, or MaskCLIP segmentation is broken or
// nondeterministic, or the caches do not work.
test('download a tiny CLIP by name and segment an example photo zero-shot', async () => {
  const live0 = liveTensorCount();
  const path = await resolveClipWeights(REPO, { quiet: true });
  assert.ok(path.startsWith(join(cache, 'cache')), `weights should land in AHS_SEG_CACHE, got ${path}`);
  const gets = hub.requests.filter((r) => r.method === 'GET').length;
  assert.equal(gets, 2, 'config.json and model.safetensors are each fetched once');

  // A second resolve is served from the cache: no new request reaches the hub.
  const before = hub.requests.length;
  assert.equal(await resolveClipWeights(REPO, { quiet: true }), path);
  assert.equal(hub.requests.length, before, 'cached weights must not be downloaded again');

  const clip = loadClip(path);
  assert.deepEqual({ ...clip.cfg }, TINY_CLIP_224, 'the model must be built from the downloaded weights and config');
  const textDir = join(cache, 'text');
  const text = new TextEmbedder(clip, { cacheDir: textDir });
  const seg = new MaskClipSegmenter(clip, text, { prompts: 'imagenet_select', shortSide: 224 });
  const image = await readImage(join(repoRoot, 'assets/examples/coffee.png'));
  const classes = ['cup', 'saucer', 'table', 'spoon'];
  const a = segmentImage(seg, image, classes);
  assert.equal(a.labels.length, image.width * image.height, 'one label per pixel at the image size');
  assert.ok(a.labels.every((l) => l >= 0 && l < classes.length), 'labels index the class list');
  assert.ok(Math.abs(a.fractions.reduce((x, y) => x + y, 0) - 1) < 1e-9);

  // Determinism, with the text embeddings now read from the cache (8 templates x 4 classes).
  const b = segmentImage(seg, image, classes);
  assert.deepEqual(b.labels, a.labels, 'the same image and classes must give the same labels');
  assert.equal(readdirSync(textDir).length, 1, 'one cache file per text-tower fingerprint');

  // A fresh embedder on the same weights reads the disk cache and gives identical labels.
  const c = segmentImage(new MaskClipSegmenter(clip, new TextEmbedder(clip, { cacheDir: textDir }), { prompts: 'imagenet_select', shortSide: 224 }), image, classes);
  assert.deepEqual(c.labels, a.labels);
  clip.dispose();
  assert.equal(liveTensorCount(), live0, 'no native tensor may outlive the run');
});

// Wrong here: the CLI cannot run the same job, or does not write its outputs.
test('ahs-seg segment writes the label map, colour mask, overlay, legend and batch summary', () => {
  const out = join(cache, 'out');
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'segment', join(repoRoot, 'assets/examples/chelsea.png'),
    '--labels', 'cat, sofa, wall', '--clip', REPO, '--prompts', 'single', '--short-side', '224', '--out', out], { encoding: 'utf8', env: process.env });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['chelsea.json', 'chelsea.labels.png', 'chelsea.mask.png', 'chelsea.overlay.png', 'summary.json']);
  const legend = JSON.parse(readFileSync(join(out, 'chelsea.json'), 'utf8')) as { classes: { name: string }[] };
  assert.deepEqual(legend.classes.map((c) => c.name), ['cat', 'sofa', 'wall']);
});

// Wrong here: --method / --pamr / --no-pamr do not reach the segmenter they name, the default is
// not NACLIP with PAMR, or a bad combination is not refused with a clear message.
test('ahs-seg segment --method and --pamr choose the zero-shot segmenter', async () => {
  const clip = loadClip(await resolveClipWeights(REPO, { quiet: true }));
  const text = new TextEmbedder(clip);
  const image = await readImage(join(repoRoot, 'assets/examples/chelsea.png'));
  const classes = ['cat', 'sofa', 'wall'];
  const common = { templates: [CATSEG_TEMPLATE], shortSide: 224 };
  const cases: [string[], Segmenter & { dispose?: () => void }][] = [
    [[], naclip(clip, text, common)], // the default: NACLIP with its PAMR
    [['--method', 'naclip', '--no-pamr'], naclip(clip, text, { ...common, pamr: null })],
    [['--method', 'sclip', '--pamr'], sclip(clip, text, { ...common, pamr: REFERENCE_PAMR })],
    [['--method', 'maskclip', '--pamr'], new PamrRefined(new MaskClipSegmenter(clip, text, { prompts: 'single', shortSide: 224 }), REFERENCE_PAMR)],
  ];
  for (const [i, [flags, seg]] of cases.entries()) {
    const out = join(cache, `out_method_${i}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'segment', join(repoRoot, 'assets/examples/chelsea.png'),
      '--labels', classes.join(','), '--clip', REPO, '--prompts', 'single', '--short-side', '224', '--out', out, ...flags], { encoding: 'utf8', env: process.env });
    assert.equal(r.status, 0, r.stderr);
    const got = await readLabelMap(join(out, 'chelsea.labels.png'));
    const want = segmentImage(seg, image, classes).labels;
    assert.deepEqual(Array.from(got.data), Array.from(want), `segment ${flags.join(' ') || '(defaults)'}: labels differ from the in-process segmenter`);
    seg.dispose?.();
  }
  clip.dispose();
  for (const [flags, msg] of [
    [['--method', 'segformer'], "--method 'segformer' is not one of maskclip, naclip, sclip, clearclip"],
    [['--method', 'naclip', '--weights', 'x.pth'], '--method naclip is for segmenting without a checkpoint; drop it or --weights'],
  ] as const) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'segment', join(repoRoot, 'assets/examples/chelsea.png'),
      '--labels', 'cat', '--clip', REPO, '--out', join(cache, 'out_bad'), ...flags], { encoding: 'utf8', env: process.env });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`AHS_ERR_INVALID_ARGUMENT: ${msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  }
});
