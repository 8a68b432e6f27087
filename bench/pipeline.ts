// `npm run bench -- pipeline`: CAT-Seg ViT-B/16 (configs/vitb_384.yaml with eval.sh's overrides,
// random weights) on one 640x480 image with the 150 ADE-20k classes in the sliding-window
// protocol: seconds per image, peak RSS, and the achieved GFLOP/s over the pipeline's counted
// FLOPs next to the engine's matmul GFLOP/s measured in the same run.
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { loadClassNames } from '../src/data/benchmarks.js';
import { buildCatSeg, EVAL_SH_OVERRIDES } from '../src/models/catseg/build.js';
import { CatSegPredictor } from '../src/models/catseg/inference.js';
import { countFlops, engineInfo, formatOpProfile, profileOps, manualSeed, matmulGflops, noGrad, randint, tidy } from '../src/index.js';

export async function benchPipeline(): Promise<void> {
  manualSeed(0);
  const cfgPath = fileURLToPath(new URL('../configs/vitb_384.yaml', import.meta.url));
  const cfg = loadConfig(cfgPath, EVAL_SH_OVERRIDES);
  const model = buildCatSeg(cfg).eval();
  const classes = await loadClassNames('ade150');
  const image = randint(0, 256, [3, 480, 640], 'uint8');
  const predictor = new CatSegPredictor(model, { protocol: 'sliding' });
  const info = engineInfo();

  let t0 = Date.now();
  noGrad(() => tidy(() => model.classEmbeddings(classes)));
  const textS = (Date.now() - t0) / 1000;

  tidy(() => predictor.labels(image, classes)); // warm-up (allocator, kernels)
  const runs = 3;
  const times: number[] = [];
  let flops = 0;
  for (let i = 0; i < runs; i++) {
    t0 = Date.now();
    const r = countFlops(() => tidy(() => { predictor.labels(image, classes); }));
    times.push((Date.now() - t0) / 1000);
    flops = r.flops;
  }
  times.sort((a, b) => a - b);
  const s = times[Math.floor(runs / 2)]!;
  const mm = noGrad(() => matmulGflops(577, 768, 3072));
  const rssGiB = process.resourceUsage().maxRSS / (1024 * 1024);
  process.stdout.write(`CAT-Seg ViT-B/16 pipeline bench: libtorch ${info.torchVersion}, ${info.threads} threads, 640x480 image, ${classes.length} classes, sliding window (4 crops + global)\n`);
  process.stdout.write(`text embeddings (${classes.length} classes, once per class list, cached after): ${textS.toFixed(2)} s\n`);
  process.stdout.write(`seconds per image (median of ${runs}): ${s.toFixed(2)} s\n`);
  process.stdout.write(`counted FLOPs per image: ${(flops / 1e9).toFixed(1)} GFLOP -> ${(flops / 1e9 / s).toFixed(1)} GFLOP/s achieved\n`);
  process.stdout.write(`engine matmul [577x768]@[768x3072]: ${mm.toFixed(1)} GFLOP/s -> pipeline at ${((flops / 1e9 / s) / mm).toFixed(2)}x matmul throughput (target >= 0.5)\n`);
  process.stdout.write(`peak RSS: ${rssGiB.toFixed(2)} GiB (target < 4 GiB)\n`);
  if (process.argv.includes('--profile')) {
    const byShape = profileOps(() => tidy(() => { predictor.labels(image, classes); }), { byShape: true });
    process.stdout.write(`\nper-op profile of one more run (by op and input shapes):\n${formatOpProfile(byShape.rows, 40)}\n`);
  }
  model.dispose();
}
