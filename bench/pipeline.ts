// `npm run bench -- pipeline [--profile]`: CAT-Seg ViT-B/16 (configs/vitb_384.yaml with eval.sh's
// overrides, random weights) on one 640x480 image with the 150 ADE-20k classes in the
// sliding-window protocol: seconds per image, peak RSS, and the achieved GFLOP/s over the
// pipeline's counted FLOPs next to the engine's GEMM GFLOP/s measured in the same run.
//
// Runs alternate between the addon's fused CPU kernels on (the default) and off (composite ATen
// ops, BLAS for every linear layer), so that their ratio is taken under the same machine load.
// The GEMM reference is the best of matmul and linear on [577x768]@[768x3072], measured before and
// after the pipeline runs (this machine's throughput drifts by +-15%).
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { loadClassNames } from '../src/data/benchmarks.js';
import { buildCatSeg, EVAL_SH_OVERRIDES } from '../src/models/catseg/build.js';
import { CatSegPredictor } from '../src/models/catseg/inference.js';
import {
  countFlops, engineInfo, formatOpProfile, linearGflops, manualSeed, matmulGflops, noGrad, profileOps, randint, setFusedKernels, tidy,
} from '../src/index.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function benchPipeline(): Promise<void> {
  manualSeed(0);
  const cfgPath = fileURLToPath(new URL('../configs/vitb_384.yaml', import.meta.url));
  const cfg = loadConfig(cfgPath, EVAL_SH_OVERRIDES);
  const model = buildCatSeg(cfg).eval();
  const classes = await loadClassNames('ade150');
  const image = randint(0, 256, [3, 480, 640], 'uint8');
  const predictor = new CatSegPredictor(model, { protocol: 'sliding' });
  const info = engineInfo();
  const gemm = () => noGrad(() => ({ matmul: matmulGflops(577, 768, 3072), linear: linearGflops(577, 768, 3072) }));

  let t0 = Date.now();
  noGrad(() => tidy(() => model.classEmbeddings(classes)));
  const textS = (Date.now() - t0) / 1000;

  const gemmBefore = gemm();
  const segment = () => tidy(() => { predictor.labels(image, classes); });
  for (const fused of [true, false]) { setFusedKernels(fused); segment(); } // warm-up (allocator, kernels)
  const runs = 3;
  const times = { fused: [] as number[], composite: [] as number[] };
  let flops = 0;
  for (let i = 0; i < runs; i++) {
    for (const fused of [true, false]) {
      setFusedKernels(fused);
      t0 = Date.now();
      const r = countFlops(segment);
      (fused ? times.fused : times.composite).push((Date.now() - t0) / 1000);
      if (fused) flops = r.flops;
    }
  }
  setFusedKernels(true);
  const gemmAfter = gemm();
  const ref = Math.max(gemmBefore.matmul, gemmBefore.linear, gemmAfter.matmul, gemmAfter.linear);
  const s = median(times.fused);
  const sc = median(times.composite);
  const rssGiB = process.resourceUsage().maxRSS / (1024 * 1024);
  const out = (line: string) => process.stdout.write(line + '\n');
  out(`CAT-Seg ViT-B/16 pipeline bench: libtorch ${info.torchVersion}, ${info.threads} threads, linear GEMM ${info.onednnGemm ? 'oneDNN (K or N <= 256) / BLAS' : 'BLAS'}, 640x480 image, ${classes.length} classes, sliding window (4 crops + global)`);
  out(`text embeddings (${classes.length} classes, once per class list, cached after): ${textS.toFixed(2)} s`);
  out(`seconds per image (median of ${runs}): ${s.toFixed(2)} s with the fused CPU kernels; ${sc.toFixed(2)} s with composite ATen ops (same run, alternating) -> ${(sc / s).toFixed(2)}x`);
  out(`counted FLOPs per image: ${(flops / 1e9).toFixed(1)} GFLOP -> ${(flops / 1e9 / s).toFixed(1)} GFLOP/s achieved (composite: ${(flops / 1e9 / sc).toFixed(1)})`);
  out(`engine GEMM [577x768]@[768x3072]: matmul ${gemmBefore.matmul.toFixed(1)} / ${gemmAfter.matmul.toFixed(1)}, linear ${gemmBefore.linear.toFixed(1)} / ${gemmAfter.linear.toFixed(1)} GFLOP/s (before / after)`);
  out(`pipeline at ${((flops / 1e9 / s) / ref).toFixed(2)}x the best GEMM figure (${ref.toFixed(1)} GFLOP/s; target >= 0.5); composite at ${((flops / 1e9 / sc) / ref).toFixed(2)}x`);
  out(`peak RSS: ${rssGiB.toFixed(2)} GiB (target < 4 GiB)`);
  if (process.argv.includes('--profile')) {
    const byShape = profileOps(segment, { byShape: true });
    out(`\nper-op profile of one more run (fused kernels on; by op and input shapes):\n${formatOpProfile(byShape.rows, 40)}`);
  }
  model.dispose();
}
