// `ahs-seg eval-masks`: score label maps on disk with the benchmark metrics.
import { evalMasks } from '../../eval/eval_masks.js';
import { getBenchmark } from '../../data/benchmarks.js';
import { AhsError } from '../../errors.js';
import { prepareOutputDir } from '../../io/output_location.js';
import { createProgressReporter } from '../../progress.js';

export async function evalMasksCommand(opts: { pred: string; gt: string; benchmark: string; out: string; model: string; resume: boolean; visualize?: number; images?: string }): Promise<void> {
  // --visualize N and --images DIR only work together: either alone would be silently ignored.
  if (opts.visualize !== undefined && opts.images === undefined) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--visualize ${opts.visualize} needs --images DIR (the photos, matched to the label maps by file stem)`);
  }
  if (opts.images !== undefined && opts.visualize === undefined) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', '--images is only read by --visualize N; add --visualize 20 to draw the first 20 images, or drop --images');
  }
  getBenchmark(opts.benchmark);
  prepareOutputDir(opts.out, '--out'); // before any image is scored
  const report = createProgressReporter({ unit: { name: 'img', scale: 1, decimals: 0 } });
  const res = await evalMasks({
    predDir: opts.pred, gtDir: opts.gt, benchmark: opts.benchmark, outDir: opts.out, model: opts.model,
    resume: opts.resume, onProgress: (p) => report({ file: opts.benchmark, received: p.done, total: p.total }),
    ...(opts.visualize !== undefined && opts.images !== undefined ? { visualize: { imageDir: opts.images, max: opts.visualize } } : {}),
  });
  const m = res.results.sem_seg;
  process.stdout.write(`${res.benchmark.name}: ${res.numImages} images  mIoU ${m.mIoU?.toFixed(2)}  fwIoU ${m.fwIoU?.toFixed(2)}  mACC ${m.mACC?.toFixed(2)}  pACC ${m.pACC?.toFixed(2)}\n`);
  process.stdout.write(`wrote ${Object.values(res.files).flat().join(', ')}\n`);
}
