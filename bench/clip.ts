// `npm run bench -- clip`: CLIP ViT-B/16 image-encoder throughput (random weights, batch 1, fp32)
// at 224 (pooled embedding) and 384 (CAT-Seg's dense forward with the two guidance taps), and
// text-encoder throughput on the 150 ADE-20k prompts.
import { CLIP, type ClipConfig } from '../src/models/clip/clip_model.js';
import { engineInfo, manualSeed, noGrad, randn, tensor, timeMs } from '../src/index.js';
import { ClipTokenizer } from '../src/models/clip/tokenizer.js';
import { CATSEG_TEMPLATE, fillTemplate, firstSynonym } from '../src/models/clip/prompts.js';
import { loadClassNames } from '../src/data/benchmarks.js';

export const VIT_B_16: ClipConfig = {
  embedDim: 512, imageResolution: 224, visionLayers: 12, visionWidth: 768, visionPatchSize: 16, visionHeads: 12,
  contextLength: 77, vocabSize: 49408, transformerWidth: 512, transformerHeads: 8, transformerLayers: 12,
};

export async function benchClip(): Promise<void> {
  manualSeed(0);
  const clip = new CLIP(VIT_B_16).eval();
  const info = engineInfo();
  process.stdout.write(`CLIP ViT-B/16 bench: libtorch ${info.torchVersion}, ${info.threads} threads, batch 1, fp32\n`);
  for (const res of [224, 384]) {
    const x = randn([1, 3, res, res]);
    const pooled = noGrad(() => timeMs(() => clip.encodeImage(x), 7, 2));
    const dense = noGrad(() => timeMs(() => clip.visual.dense(x, { residual: 'cls', taps: [3, 7] }), 7, 2));
    process.stdout.write(`image ${res}x${res}: pooled ${pooled.toFixed(0)} ms (${(1000 / pooled).toFixed(2)} images/s), dense+taps ${dense.toFixed(0)} ms (${(1000 / dense).toFixed(2)} images/s)\n`);
    x.dispose();
  }
  // Real prompts: the 150 ADE-20k class names in CAT-Seg's template.
  const names = await loadClassNames('ade150');
  const tok = ClipTokenizer.default().tokenize(names.map((n) => fillTemplate(CATSEG_TEMPLATE, firstSynonym(n))));
  const tokens = tensor(tok.ids, { shape: tok.shape }).long();
  const text = noGrad(() => timeMs(() => clip.encodeText(tokens), 5, 1));
  process.stdout.write(`text: ${names.length} ADE-150 prompts in ${text.toFixed(0)} ms (${((names.length * 1000) / text).toFixed(0)} prompts/s)\n`);
  clip.dispose();
}
