// `npm run bench -- train [--chunk N] [--steps N]`: one ViT-B/16 CAT-Seg training step at 384x384
// with COCO-Stuff's 171 classes (configs/vitb_384.yaml, random weights), split into data,
// forward, backward and optimizer, with the peak RSS: batch 1 without and batch 4 with activation
// checkpointing, for CLIP_FINETUNE attention and oft_both; then batch 1 of H-CLIP (oft_both) with
// each AHS-Seg component and with all three, against the oft_both row of the same run. Next to
// them: a forward pass over the same batch without autograd, and the data loader's images/s alone.
// `--ahs` runs only the component rows and their baseline. `--workers N`: data-parallel scaling
// of N CPU processes against one (train_dist.ts).
//
// Each case runs in its own process, so that its peak RSS is its own.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.js';
import { loadClassNames } from '../src/data/benchmarks.js';
import { TrainLoader } from '../src/data/loader.js';
import { semanticMapperOptionsFromConfig } from '../src/data/semantic_mapper.js';
import { buildGradClipper, buildOptimizer } from '../src/engine/train/build_optimizer.js';
import { collate } from '../src/engine/train/collate.js';
import { holdPeakMemory, limitFirstStepCache } from '../src/engine/train/memory_cache_hook.js';
import { buildModel } from '../src/models/registry.js';
import { BackwardTape, dispose, manualSeed, memoryStats, noGrad, numThreads, tidy, type Tensor } from '../src/index.js';
import { loaderImagesPerSec, makeBenchDataset } from './loader.js';

interface CaseResult {
  finetune: string; batch: number; chunk: number;
  data: number; forward: number; backward: number; optimizer: number; step: number; forwardNoGrad: number;
  peakRssGiB: number; peakLiveGiB: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const H = 'MODEL.SEM_SEG_HEAD.';
/** Case names -> config overrides: a CLIP_FINETUNE mode, or H-CLIP plus AHS-Seg components. */
const VARIANTS: Record<string, string[]> = {
  attention: [`${H}CLIP_FINETUNE`, 'attention'],
  oft_both: [`${H}CLIP_FINETUNE`, 'oft_both'],
  '+ha_hem': [`${H}CLIP_FINETUNE`, 'oft_both', `${H}USE_ADAPTIVE_ENERGY`, 'True'],
  '+mh_fpn': [`${H}CLIP_FINETUNE`, 'oft_both', `${H}USE_MULTI_SCALE_FUSION`, 'True'],
  '+dc_hsp': [`${H}CLIP_FINETUNE`, 'oft_both', `${H}USE_CLASS_AWARE_PROJECTION`, 'True'],
  '+all3': [`${H}CLIP_FINETUNE`, 'oft_both', `${H}USE_ADAPTIVE_ENERGY`, 'True', `${H}USE_MULTI_SCALE_FUSION`, 'True', `${H}USE_CLASS_AWARE_PROJECTION`, 'True'],
};
const CFG = fileURLToPath(new URL('../configs/vitb_384.yaml', import.meta.url));

async function runCase(finetune: string, batch: number, chunk: number, steps: number): Promise<CaseResult> {
  manualSeed(0);
  const variant = VARIANTS[finetune];
  if (!variant) throw new Error(`unknown bench case '${finetune}' (${Object.keys(VARIANTS).join(', ')})`);
  const cfg = loadConfig(CFG, [...variant, 'MODEL.SEM_SEG_HEAD.CHECKPOINT_CLASS_CHUNK', String(chunk), 'SOLVER.IMS_PER_BATCH', String(batch)]);
  const { model, lossWeights } = buildModel(cfg);
  const total = (losses: Record<string, Tensor>) => Object.entries(losses).map(([k, v]) => v.mul(lossWeights[k]!)).reduce((a, b) => a.add(b));
  model.train();
  const classNames = await loadClassNames('coco171');
  const optimizer = buildOptimizer(model, cfg);
  const clip = buildGradClipper(cfg);
  const params = model.trainableParameters().map(([, p]) => p);
  const bench = await makeBenchDataset(8 * batch);
  const { dataset } = bench;
  const loader = new TrainLoader({
    dataset: { ...dataset, classNames }, batchSize: batch, seed: 0, numWorkers: 2,
    mapper: { module: new URL('../src/data/semantic_mapper.js', import.meta.url).href, exportName: 'mapSemanticSample', options: semanticMapperOptionsFromConfig(cfg, 255) },
  });
  const times: Record<'data' | 'forward' | 'backward' | 'optimizer' | 'forwardNoGrad', number[]> = { data: [], forward: [], backward: [], optimizer: [], forwardNoGrad: [] };
  try {
    limitFirstStepCache(); // as the trainer's MemoryCacheHook
    for (let s = 0; s < steps + 1; s++) {
      let t = performance.now();
      const { samples } = await loader.next();
      const { images, labels } = collate(samples, { datasetIgnore: 255, modelIgnore: 255 });
      const tData = performance.now() - t;
      const b = { images, labels, classNames };
      const tape = new BackwardTape();
      let tFwd = 0, tBwd = 0;
      tidy(() => {
        t = performance.now();
        const { losses } = model.forwardTrain(b, { tape });
        const loss = total(losses);
        loss.item();
        tFwd = performance.now() - t;
        t = performance.now();
        tape.backward(loss);
        tBwd = performance.now() - t;
      });
      t = performance.now();
      clip(params);
      optimizer.step();
      optimizer.zeroGrad();
      const tOpt = performance.now() - t;
      t = performance.now();
      noGrad(() => tidy(() => { total(model.forwardTrain(b).losses).item(); }));
      const tNo = performance.now() - t;
      dispose([images, labels]);
      if (s === 0) { holdPeakMemory(); continue; } // warm-up: allocator (as the trainer's MemoryCacheHook), text cache, kernels
      times.data.push(tData); times.forward.push(tFwd); times.backward.push(tBwd); times.optimizer.push(tOpt); times.forwardNoGrad.push(tNo);
    }
  } finally {
    await loader.close();
    await bench.cleanup();
  }
  const m = (k: keyof typeof times) => median(times[k]) / 1000;
  return {
    finetune, batch, chunk,
    data: m('data'), forward: m('forward'), backward: m('backward'), optimizer: m('optimizer'),
    step: m('data') + m('forward') + m('backward') + m('optimizer'), forwardNoGrad: m('forwardNoGrad'),
    peakRssGiB: process.resourceUsage().maxRSS / 1024 ** 2, peakLiveGiB: memoryStats().peakLiveBytes / 1024 ** 3,
  };
}

export async function benchTrain(): Promise<void> {
  const argv = process.argv.slice(3);
  const arg = (name: string, def: number) => { const i = argv.indexOf(name); return i >= 0 ? Number(argv[i + 1]) : def; };
  if (argv.includes('--workers')) return (await import('./train_dist.js')).benchTrainDist(argv);
  const caseArg = argv.indexOf('--case');
  if (caseArg >= 0) {
    const [ft, b, c, n] = argv[caseArg + 1]!.split(':');
    process.stdout.write(JSON.stringify(await runCase(ft!, Number(b), Number(c), Number(n))) + '\n');
    return;
  }
  const chunk = arg('--chunk', 16), steps = arg('--steps', 3);
  const out = (l: string) => process.stdout.write(l + '\n');
  out(`train bench: ViT-B/16 CAT-Seg, 384x384 crops, 171 classes, ${numThreads()} threads; medians of ${steps} steps after a warm-up, each case in its own process`);
  const rows: CaseResult[] = [];
  const ahsOnly = argv.includes('--ahs');
  const cases: [string, number, number][] = [
    ...(ahsOnly ? [] : (['attention', 'oft_both'] as const).flatMap((ft) => [[ft, 1, 0], [ft, 4, chunk]] as [string, number, number][])),
    ...(ahsOnly ? [['oft_both', 1, 0] as [string, number, number]] : []),
    ...['+ha_hem', '+mh_fpn', '+dc_hsp', '+all3'].map((v) => [v, 1, 0] as [string, number, number]),
  ];
  for (const [ft, batch, c] of cases) {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(new URL('./main.ts', import.meta.url)), 'train', '--case', `${ft}:${batch}:${c}:${steps}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) { out(`case ${ft} batch ${batch}: failed\n${r.stderr}`); continue; }
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as CaseResult;
    rows.push(res);
    const base = ft.startsWith('+') ? rows.find((x) => x.finetune === 'oft_both' && x.batch === 1) : undefined;
    const signed = (v: number, d: number) => `${v >= 0 ? '+' : ''}${v.toFixed(d)}`;
    const vs = base ? `  vs oft_both: step ${signed(res.step - base.step, 2)} s (${signed((100 * (res.step - base.step)) / base.step, 1)}%), peak RSS ${signed(res.peakRssGiB - base.peakRssGiB, 2)} GiB` : '';
    out(`${ft.padEnd(9)} batch ${batch}${c ? ` ckpt ${c}` : '       '}  step ${res.step.toFixed(2)} s (data ${res.data.toFixed(2)}, forward ${res.forward.toFixed(2)}, backward ${res.backward.toFixed(2)}, optimizer ${res.optimizer.toFixed(2)})  ` +
      `no-grad forward ${res.forwardNoGrad.toFixed(2)} s  step/forward ${(res.step / res.forwardNoGrad).toFixed(2)}x  per image ${(res.step / batch).toFixed(2)} s  peak RSS ${res.peakRssGiB.toFixed(2)} GiB (live ${res.peakLiveGiB.toFixed(2)})${vs}`);
  }
  if (ahsOnly) return;
  const bench = await makeBenchDataset(64);
  const ld = await loaderImagesPerSec({ dataset: bench.dataset, numWorkers: 2, batchSize: 4, mapper: { module: new URL('../src/data/semantic_mapper.js', import.meta.url).href, exportName: 'mapSemanticSample', options: semanticMapperOptionsFromConfig(loadConfig(CFG), 255) } });
  await bench.cleanup();
  out(`loader alone (2 workers, batch 4): ${ld.imagesPerSec.toFixed(1)} images/s`);
  for (const ft of ['attention', 'oft_both']) {
    const b1 = rows.find((r) => r.finetune === ft && r.batch === 1), b4 = rows.find((r) => r.finetune === ft && r.batch === 4);
    if (!b1 || !b4) continue;
    out(`${ft}: targets — step/no-grad forward ${(b1.step / b1.forwardNoGrad).toFixed(2)}x (<= 3.3), batch-1 peak RSS ${b1.peakRssGiB.toFixed(2)} GiB (<= 9), ` +
      `batch-4 checkpointed ${b4.peakRssGiB.toFixed(2)} GiB (< 12) at ${(b4.step / 4 / b1.step).toFixed(2)}x the per-image time of batch 1 (<= 1.4), loader ${(ld.imagesPerSec / (1 / b1.step)).toFixed(0)}x a training step's consumption (>= 3)`);
  }
}
