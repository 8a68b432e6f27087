#!/usr/bin/env node
// The `ahs-seg` command line. The only process boundary: each command lives in its own file and
// is imported lazily, so `ahs-seg --help` does not load libtorch.
import { Command, CommanderError } from 'commander';
import type { PromptEnsemble } from '../models/clip/prompts.js';
import { VERSION } from '../version.js';
import { reportError } from './error_report.js';
import { choiceArg, intArg, OPTION_RANGES as R } from './option_parsers.js';

const PROMPTS = ['single', 'imagenet', 'imagenet_select', 'imagenet_select_clip'] as const satisfies readonly PromptEnsemble[];

const program = new Command()
  .name('ahs-seg')
  .description('Open-vocabulary semantic segmentation (AHS-Seg / CAT-Seg / H-CLIP) on libtorch')
  .version(VERSION)
  // Commander's own errors (unknown option, missing argument) go through reportError like all others.
  .exitOverride()
  .configureOutput({ outputError: () => {} });

program
  .command('doctor')
  .description('print the engine setup (libtorch, devices, BLAS, threads, dtypes) and measure fp32 matmul GFLOP/s')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => (await import('./commands/doctor.js')).doctor(opts));

program
  .command('info')
  .description('build the model a config describes and print its parameter counts by module')
  .requiredOption('--config <file>', 'YAML config (detectron2 style, _BASE_ inheritance)')
  .argument('[overrides...]', 'KEY VALUE pairs, e.g. MODEL.SEM_SEG_HEAD.CLIP_FINETUNE none')
  .action(async (overrides: string[], opts: { config: string }) => (await import('./commands/info.js')).info(opts, overrides));

program
  .command('segment')
  .description('label every pixel of images with any list of class names: a model by name (--model, default clip-vit-b16: NACLIP with PAMR on CLIP weights alone), a CAT-Seg/H-CLIP checkpoint, or CLIP weights')
  .argument('<images...>', 'image files (PNG, JPEG, WebP, TIFF) or folders of them, segmented as one batch')
  .option('--labels <names>', 'comma-separated class names, e.g. "sky, espresso cup, saucer"')
  .option('--classes <file>', 'JSON array of class names')
  .option('--benchmark <name>', "a benchmark's class list (ade150, ade847, pc59, pc459, voc20, voc20b, coco171)")
  .option('--model <name|path>', 'clip-vit-b16 (default), catseg-vitb, catseg-vitl (downloaded on first use; `ahs-seg models` lists them), an `ahs-seg train` OUTPUT_DIR or checkpoint (config.yaml beside it), or CLIP weights')
  .option('--weights <file>', 'segmentation checkpoint (CAT-Seg model_base.pth, H-CLIP, or ahs-seg .safetensors) with --config-file')
  .option('--config-file <file>', 'config of the checkpoint (--weights: default configs/vitb_384.yaml; --model: default config.yaml beside it)')
  .option('--mode <m>', 'whole (one pass over the image) or sliding (windows; the default)', choiceArg('--mode', ['sliding', 'whole']))
  .option('--protocol <p>', 'with a checkpoint: the older name of --mode (sliding as in eval.sh, or whole)', choiceArg('--protocol', ['sliding', 'whole']))
  .option('--device <d>', 'cpu (default), cuda or cuda:N (a CUDA build of libtorch)')
  .option('--method <name>', 'without --weights: maskclip, naclip (default), sclip or clearclip')
  .option('--pamr', 'refine the scores with PAMR (default for naclip)')
  .option('--no-pamr', 'no PAMR refinement (the default for the other methods)')
  .option('--clip <name|path>', 'instead of --model: CLIP weights for the zero-shot method, a file or a hub model name downloaded on first use (default: openai/clip-vit-base-patch16, what clip-vit-b16 uses)')
  .option('--prompts <kind>', "without --weights: prompt templates: single, imagenet, imagenet_select, imagenet_select_clip (default: the method's, imagenet)", choiceArg('--prompts', PROMPTS))
  .option('--short-side <px>', "without --weights: shorter image side fed to CLIP (default: the method's, 448 maskclip/clearclip, 336 naclip/sclip)", intArg('--short-side', R.shortSide))
  .option('--out <dir>', 'output folder for <stem>.labels.png, .mask.png, .overlay.png (with a legend), .json and the batch summary.json', 'out/segment')
  .option('--dry-run', 'check everything and print what would run and the memory it needs, without running a model')
  .action(async (images: string[], opts) => (await import('./commands/segment.js')).segment(images, opts));

program
  .command('models')
  .description('list the models --model takes by name, their download sizes and what is in the cache')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => (await import('./commands/models.js')).modelsCommand(opts));

const collect = (v: string, prev: string[]) => [...prev, v];
const evalOptions = (c: Command) => c
  .option('--config-file <file>', 'YAML config of the model (default configs/vitb_384.yaml); eval-suite: repeat, one per --weights', collect, [])
  .option('--weights <file>', 'checkpoint (.pth from CAT-Seg/detectron2, or .safetensors from ahs-seg); default MODEL.WEIGHTS; eval-suite: repeat for one table row per model', collect, [])
  .option('--dataset-root <dir>', 'datasets in detectron2 layout (default $DETECTRON2_DATASETS, else ./datasets)')
  .option('--out <dir>', 'results folder (one sub-folder per benchmark)', 'out/eval')
  .option('--limit <n>', 'only the first N images of each benchmark (a quick check, not a reportable number)', intArg('--limit', R.limit))
  .option('--lenient', 'load a checkpoint whose keys do not all match (the differences are printed)')
  .option('--no-resume', 'start over instead of resuming an interrupted evaluation')
  .option('--method <name>', "instead of a checkpoint, a zero-shot method on CLIP weights alone: maskclip, naclip, sclip or clearclip (each with its repository's per-benchmark settings and class names)")
  .option('--pamr', 'with --method: refine with PAMR (default for naclip)')
  .option('--no-pamr', 'with --method: no PAMR (default for the others)')
  .option('--clip <name|path>', 'with --method: CLIP weights, a file or a hub model name', 'openai/clip-vit-base-patch16')
  .argument('[overrides...]', "KEY VALUE config overrides, after eval.sh's (TEST.SLIDING_WINDOW True, POOLING_SIZES [1,1])");

evalOptions(program.command('eval')
  .description('evaluate a checkpoint on benchmarks with the eval.sh protocol, or a zero-shot --method with its own')
  .option('--benchmarks <list>', 'comma-separated: ade150, ade847, pc59, pc459, voc20, voc20b, coco171 (default: the six)'))
  .action(async (overrides: string[], opts) => (await import('./commands/eval.js')).evalCommand(opts, overrides));

evalOptions(program.command('eval-suite')
  .description('evaluate one or more checkpoints on all six open-vocabulary benchmarks (the original eval_enhanced.sh) and write the main table, one row per model'))
  .action(async (overrides: string[], opts) => (await import('./commands/eval.js')).evalCommand(opts, overrides, true));

program
  .command('serve')
  .description('the HTTP service and the web page: POST /v1/segment, GET /v1/models, /healthz, /readyz, and the page at /')
  .option('--port <n>', 'TCP port', intArg('--port', { min: 0, max: 65535 }), 8080)
  .option('--host <addr>', 'address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
  .option('--model <name|path>', 'clip-vit-b16 (default), catseg-vitb, catseg-vitl, an ahs-seg OUTPUT_DIR or checkpoint, or CLIP weights')
  .option('--clip <name|path>', 'instead of --model: CLIP weights for the training-free method')
  .option('--config <file>', 'config of a checkpoint without config.yaml beside it')
  .option('--mode <m>', 'whole or sliding', choiceArg('--mode', ['whole', 'sliding'] as const))
  .option('--queue <n>', 'requests allowed to wait behind the running one', intArg('--queue', { min: 0, max: 10000 }), 8)
  .option('--timeout <s>', 'per-request time limit in seconds', intArg('--timeout', { min: 1, max: 86400 }), 120)
  .option('--max-body-mb <n>', 'request body limit in MB', intArg('--max-body-mb', { min: 1, max: 1024 }), 20)
  .option('--max-pixels-mp <n>', 'image size limit in megapixels (checked from the header)', intArg('--max-pixels-mp', { min: 1, max: 1000 }), 40)
  .option('--max-labels <n>', 'labels per request', intArg('--max-labels', { min: 1, max: 100000 }), 512)
  .action(async (opts) => (await import('./commands/serve.js')).serve(opts));

program
  .command('train')
  .description('train a model (train_net.py): datasets from DATASETS.TRAIN, checkpoints, metrics.json and evaluation in OUTPUT_DIR')
  .requiredOption('--config-file <file>', 'YAML config (detectron2 style, _BASE_ inheritance)')
  .option('--resume', 'continue from OUTPUT_DIR/last_checkpoint (model, optimizer, schedule, RNG, data position)')
  .option('--eval-only', 'evaluate MODEL.WEIGHTS on DATASETS.TEST instead of training')
  .option('--num-workers <n>', 'data-parallel CPU processes on this machine (the cores are split between them); SOLVER.IMS_PER_BATCH is the global batch', intArg('--num-workers', R.processes))
  .option('--num-gpus <n>', 'data-parallel processes on this machine, one per CUDA device (NCCL; needs a CUDA build of libtorch)', intArg('--num-gpus', R.processes))
  .option('--num-machines <n>', 'machines of a data-parallel run (start the same command on each, with its --machine-rank)', intArg('--num-machines', R.processes))
  .option('--machine-rank <r>', 'rank of this machine, 0..num-machines-1 (machine 0 serves the rendezvous)', intArg('--machine-rank', R.machineRank))
  .option('--dist-url <url>', "rendezvous: tcp://HOST:PORT of machine 0, file:///shared/path, or auto (a free local port; one machine)", 'auto')
  .option('--dataset-root <dir>', 'root of registered datasets (default $DETECTRON2_DATASETS, else ./datasets)')
  .argument('[overrides...]', 'KEY VALUE config overrides, e.g. SOLVER.MAX_ITER 1000 OUTPUT_DIR out/run1')
  .action(async (overrides: string[], opts) => (await import('./commands/train.js')).trainCommand(opts, overrides));

program
  .command('eval-masks')
  .description('score label-map PNGs already on disk against a benchmark\'s ground truth')
  .requiredOption('--pred <dir>', 'folder of predicted label maps (0-based class indices, 8- or 16-bit PNG)')
  .requiredOption('--gt <dir>', 'folder of ground-truth label maps')
  .requiredOption('--benchmark <name>', 'ade150, ade847, pc59, pc459, voc20, voc20b or coco171')
  .requiredOption('--out <dir>', 'where results.json, per_class.csv and results.md go')
  .option('--model <name>', 'row name in the Markdown table', 'predictions')
  .option('--no-resume', 'start over instead of resuming an interrupted run')
  .option('--visualize <n>', 'write N side-by-side PNGs (image | ground truth | prediction); needs --images', intArg('--visualize', R.visualize))
  .option('--images <dir>', 'images for --visualize, matched by stem')
  .action(async (opts) => (await import('./commands/eval_masks.js')).evalMasksCommand(opts));

program
  .command('plot')
  .description("draw a training run's loss terms, learning rate and evaluation mIoU from OUTPUT_DIR/metrics.json to a PNG (and an SVG beside it)")
  .argument('<output_dir>', 'the OUTPUT_DIR of an `ahs-seg train` run')
  .option('--out <file.png>', 'PNG to write (default OUTPUT_DIR/metrics.png); the SVG goes beside it')
  .option('--width <px>', 'PNG width in pixels', intArg('--width', R.plotWidth), 1200)
  .action(async (outputDir: string, opts: { out?: string; width?: number }) => (await import('./commands/plot.js')).plot(outputDir, opts));

program
  .command('prepare')
  .description("convert an official dataset download into CAT-Seg's detectron2 layout (its datasets/prepare_*.py, in TypeScript)")
  .argument('<dataset>', 'coco-stuff, ade150, ade847, pc59, pc459 or voc')
  .requiredOption('--src <dir>', 'the unpacked official download (see README: what each dataset expects)')
  .option('--root <dir>', 'datasets root to write into (default $DETECTRON2_DATASETS, else ./datasets)')
  .option('--jobs <n>', 'images converted at once', intArg('--jobs', R.jobs), 4)
  .action(async (dataset: string, opts) => (await import('./commands/prepare.js')).prepareCommand(dataset, opts));

/** Every failure ends here: one line on stderr and the exit code of its kind (error_report.ts). */
function fail(e: unknown): never {
  // --help and --version end through exitOverride with code 0; so does bare `ahs-seg` (help, 1).
  if (e instanceof CommanderError && (e.exitCode === 0 || e.code === 'commander.help')) process.exit(e.exitCode);
  process.exit(reportError(e));
}

async function main(): Promise<void> {
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    fail(e);
  }
}

void main();
