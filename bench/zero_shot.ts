// `npm run bench -- zero-shot`: what one 640x480 image with the 59 PASCAL Context classes costs
// each zero-shot method on CLIP ViT-B/16 (random weights, fp32): MaskCLIP, NACLIP with and
// without PAMR, SCLIP, ClearCLIP, each with its reference settings (short side, crop, stride),
// and PAMR alone. The text side is cached per class list in use (TextEmbedder), so it is warmed
// once before timing and left out of the per-image figures; to keep that warm-up short the
// methods share one template here instead of their 80 (text cost per prompt: `bench -- clip`).
import { loadClassNames } from '../src/data/benchmarks.js';
import { CLIP } from '../src/models/clip/clip_model.js';
import { MaskClipSegmenter } from '../src/models/clip/maskclip.js';
import { TextEmbedder } from '../src/models/clip/text_embedder.js';
import { buildTrainingFree, REFERENCE_PAMR } from '../src/models/tfree/methods.js';
import { Pamr } from '../src/models/tfree/pamr.js';
import { engineInfo, manualSeed, noGrad, randint, randn, tidy, type Tensor } from '../src/index.js';
import { VIT_B_16 } from './clip.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchZeroShot(): Promise<void> {
  manualSeed(0);
  const out = (line: string) => process.stdout.write(line + '\n');
  const clip = new CLIP(VIT_B_16).eval();
  const text = new TextEmbedder(clip);
  const classes = await loadClassNames('pc59');
  const image = randint(0, 256, [3, 480, 640], 'uint8');
  const template = ['a photo of a {}.'];
  const info = engineInfo();
  out(`zero-shot bench: CLIP ViT-B/16 (random weights), libtorch ${info.torchVersion}, ${info.threads} threads, fp32, 640x480 image, ${classes.length} classes`);
  let t0 = Date.now();
  noGrad(() => tidy(() => { text.ensembleEmbeddings(classes, template); }));
  out(`text embeddings of the ${classes.length} classes (once per class list, cached after): ${((Date.now() - t0) / 1000).toFixed(2)} s for one template`);

  const methods: [string, { labels(i: Tensor, c: string[]): Tensor; dispose?(): void }][] = [
    ['MaskCLIP (short side 448, whole image)', new MaskClipSegmenter(clip, text, { prompts: 'single', shortSide: 448 })],
    ['NACLIP + PAMR (336, 224 crops / 112)', buildTrainingFree('naclip', clip, text, { templates: template })],
    ['NACLIP without PAMR', buildTrainingFree('naclip', clip, text, { templates: template, pamr: null })],
    ['SCLIP (336, 224 crops / 112)', buildTrainingFree('sclip', clip, text, { templates: template })],
    ['ClearCLIP (448, 448 crops / 224)', buildTrainingFree('clearclip', clip, text, { templates: template })],
  ];
  // MaskCLIP's 'single' is CAT-Seg's template, not the one above: warm its cache too.
  noGrad(() => tidy(() => { methods[0]![1].labels(image, classes); }));
  const runs = 3;
  for (const [name, seg] of methods) {
    noGrad(() => tidy(() => { seg.labels(image, classes); })); // warm-up (allocator, caches)
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      t0 = Date.now();
      noGrad(() => tidy(() => { seg.labels(image, classes); }));
      times.push((Date.now() - t0) / 1000);
    }
    out(`${name.padEnd(40)} ${median(times).toFixed(2)} s per image (median of ${runs})`);
    seg.dispose?.();
  }
  const pamr = new Pamr(REFERENCE_PAMR);
  const guide = randn([3, 480, 640]), scores = randn([classes.length, 480, 640]);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t0 = Date.now();
    tidy(() => { pamr.refine(guide, scores); });
    times.push((Date.now() - t0) / 1000);
  }
  out(`${'PAMR alone (10 steps, dilations 8, 16)'.padEnd(40)} ${median(times).toFixed(2)} s per image (median of ${runs})`);
  out(`peak RSS: ${(process.resourceUsage().maxRSS / (1024 * 1024)).toFixed(2)} GiB`);
  guide.dispose(); scores.dispose(); image.dispose();
  clip.dispose();
}
