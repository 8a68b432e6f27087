// `ahs-seg eval-masks`: score label maps on disk with the benchmark metrics.
import { evalMasks } from '../../eval/eval_masks.js';
import { createProgressReporter } from '../../progress.js';

export async function evalMasksCommand(opts: { pred: string; gt: string; benchmark: string; out: string; model: string; resume: boolean; visualize?: number; images?: string }): Promise<void> {
  const report = createProgressReporter({ unit: { name: 'img', scale: 1, decimals: 0 } });
  const res = await evalMasks({
    predDir: opts.pred, gtDir: opts.gt, benchmark: opts.benchmark, outDir: opts.out, model: opts.model,
    resume: opts.resume, onProgress: (p) => report({ file: opts.benchmark, received: p.done, total: p.total }),
    ...(opts.visualize && opts.images ? { visualize: { imageDir: opts.images, max: opts.visualize } } : {}),
  });
  const m = res.results.sem_seg;
  process.stdout.write(`${res.benchmark.name}: ${res.numImages} images  mIoU ${m.mIoU?.toFixed(2)}  fwIoU ${m.fwIoU?.toFixed(2)}  mACC ${m.mACC?.toFixed(2)}  pACC ${m.pACC?.toFixed(2)}\n`);
  process.stdout.write(`wrote ${Object.values(res.files).flat().join(', ')}\n`);
}
