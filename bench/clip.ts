// `npm run bench -- clip`: CLIP ViT-B/16 image-encoder throughput (random weights, batch 1, fp32)
// at 224 (pooled embedding) and 384 (CAT-Seg's dense forward with the two guidance taps), and
// text-encoder throughput on the 150 ADE-20k prompts. Each figure is taken with the addon's fused
// CPU kernels on (the default) and off (composite ATen ops), alternating in the same run.
import { CLIP, type ClipConfig } from '../src/models/clip/clip_model.js';
import { engineInfo, manualSeed, noGrad, randn, setFusedKernels, tensor, timeMs } from '../src/index.js';
import { ClipTokenizer } from '../src/models/clip/tokenizer.js';
import { CATSEG_TEMPLATE, fillTemplate, firstSynonym } from '../src/models/clip/prompts.js';
import { loadClassNames } from '../src/data/benchmarks.js';

export const VIT_B_16: ClipConfig = {
  embedDim: 512, imageResolution: 224, visionLayers: 12, visionWidth: 768, visionPatchSize: 16, visionHeads: 12,
  contextLength: 77, vocabSize: 49408, transformerWidth: 512, transformerHeads: 8, transformerLayers: 12,
};

/** Median ms of fn with the fused kernels on and off, measured in alternating rounds. */
function fusedAndComposite(fn: () => unknown, reps: number, warmup: number): { fused: number; composite: number } {
  const t = { fused: [] as number[], composite: [] as number[] };
  for (let round = 0; round < 3; round++) {
    for (const on of [true, false]) {
      setFusedKernels(on);
      (on ? t.fused : t.composite).push(noGrad(() => timeMs(fn, reps, warmup)));
    }
  }
  setFusedKernels(true);
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
  return { fused: med(t.fused), composite: med(t.composite) };
}
const fmt = (t: { fused: number; composite: number }) => `${t.fused.toFixed(0)} ms (composite ops: ${t.composite.toFixed(0)} ms, ${(t.composite / t.fused).toFixed(2)}x)`;

export async function benchClip(): Promise<void> {
  manualSeed(0);
  const clip = new CLIP(VIT_B_16).eval();
  const info = engineInfo();
  process.stdout.write(`CLIP ViT-B/16 bench: libtorch ${info.torchVersion}, ${info.threads} threads, batch 1, fp32\n`);
  for (const res of [224, 384]) {
    const x = randn([1, 3, res, res]);
    const pooled = fusedAndComposite(() => clip.encodeImage(x), 5, 1);
    const dense = fusedAndComposite(() => clip.visual.dense(x, { residual: 'cls', taps: [3, 7] }), 5, 1);
    process.stdout.write(`image ${res}x${res}: pooled ${fmt(pooled)} = ${(1000 / pooled.fused).toFixed(2)} images/s; dense+taps ${fmt(dense)} = ${(1000 / dense.fused).toFixed(2)} images/s\n`);
    x.dispose();
  }
  // Real prompts: the 150 ADE-20k class names in CAT-Seg's template.
  const names = await loadClassNames('ade150');
  const tok = ClipTokenizer.default().tokenize(names.map((n) => fillTemplate(CATSEG_TEMPLATE, firstSynonym(n))));
  const tokens = tensor(tok.ids, { shape: tok.shape }).long();
  const text = fusedAndComposite(() => clip.encodeText(tokens), 3, 1);
  process.stdout.write(`text: ${names.length} ADE-150 prompts in ${fmt(text)} = ${((names.length * 1000) / text.fused).toFixed(0)} prompts/s\n`);
  clip.dispose();
}
