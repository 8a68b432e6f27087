#!/usr/bin/env node
// The `ahs-seg` command line. The only process boundary: each command lives in its own file and
// is imported lazily, so `ahs-seg --help` does not load libtorch.
import { Command } from 'commander';
import { AhsError } from '../errors.js';
import { VERSION } from '../version.js';

const program = new Command()
  .name('ahs-seg')
  .description('Open-vocabulary semantic segmentation (AHS-Seg / CAT-Seg / H-CLIP) on libtorch')
  .version(VERSION)
  .showHelpAfterError();

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
  .description('label every pixel of images with any list of class names: a CAT-Seg/H-CLIP checkpoint (--weights), or MaskCLIP zero-shot with CLIP weights alone')
  .argument('<images...>', 'image files (PNG, JPEG, WebP, TIFF)')
  .option('--labels <names>', 'comma-separated class names, e.g. "sky, espresso cup, saucer"')
  .option('--classes <file>', 'JSON array of class names')
  .option('--benchmark <name>', "a benchmark's class list (ade150, ade847, pc59, pc459, voc20, voc20b, coco171)")
  .option('--weights <file>', 'segmentation checkpoint (CAT-Seg model_base.pth, H-CLIP, or ahs-seg .safetensors)')
  .option('--config-file <file>', 'config of the checkpoint (default configs/vitb_384.yaml)')
  .option('--protocol <p>', 'with --weights: sliding (eval.sh) or whole')
  .option('--clip <name|path>', 'without --weights: CLIP weights for MaskCLIP, a file or a hub model name downloaded on first use', 'openai/clip-vit-base-patch16')
  .option('--prompts <kind>', 'prompt templates: single, imagenet, imagenet_select, imagenet_select_clip', 'imagenet')
  .option('--short-side <px>', 'shorter image side fed to CLIP', (v) => Number(v), 448)
  .option('--out <dir>', 'output folder for <stem>.labels.png, .overlay.png and .json', 'out/segment')
  .action(async (images: string[], opts) => (await import('./commands/segment.js')).segment(images, opts));

const evalOptions = (c: Command) => c
  .option('--config-file <file>', 'YAML config of the model', 'configs/vitb_384.yaml')
  .option('--weights <file>', 'checkpoint (.pth from CAT-Seg/detectron2, or .safetensors from ahs-seg); default MODEL.WEIGHTS')
  .option('--dataset-root <dir>', 'datasets in detectron2 layout (default $DETECTRON2_DATASETS, else ./datasets)')
  .option('--out <dir>', 'results folder (one sub-folder per benchmark)', 'out/eval')
  .option('--limit <n>', 'only the first N images of each benchmark (a quick check, not a reportable number)', (v) => Number(v))
  .option('--lenient', 'load a checkpoint whose keys do not all match (the differences are printed)')
  .option('--no-resume', 'start over instead of resuming an interrupted evaluation')
  .argument('[overrides...]', "KEY VALUE config overrides, after eval.sh's (TEST.SLIDING_WINDOW True, POOLING_SIZES [1,1])");

evalOptions(program.command('eval')
  .description('evaluate a checkpoint on benchmarks with the eval.sh protocol')
  .option('--benchmarks <list>', 'comma-separated: ade150, ade847, pc59, pc459, voc20, voc20b, coco171 (default: the six)'))
  .action(async (overrides: string[], opts) => (await import('./commands/eval.js')).evalCommand(opts, overrides));

evalOptions(program.command('eval-suite')
  .description('evaluate a checkpoint on all six open-vocabulary benchmarks (the original eval_enhanced.sh) and write the main table'))
  .action(async (overrides: string[], opts) => (await import('./commands/eval.js')).evalCommand(opts, overrides, true));

program
  .command('train')
  .description('train a model (train_net.py): datasets from DATASETS.TRAIN, checkpoints, metrics.json and evaluation in OUTPUT_DIR')
  .requiredOption('--config-file <file>', 'YAML config (detectron2 style, _BASE_ inheritance)')
  .option('--resume', 'continue from OUTPUT_DIR/last_checkpoint (model, optimizer, schedule, RNG, data position)')
  .option('--eval-only', 'evaluate MODEL.WEIGHTS on DATASETS.TEST instead of training')
  .option('--num-gpus <n>', 'processes per machine (1 for now)', (v) => Number(v))
  .option('--num-machines <n>', 'machines (1 for now)', (v) => Number(v))
  .option('--machine-rank <r>', 'rank of this machine (0 for now)', (v) => Number(v))
  .option('--dist-url <url>', 'rendezvous of a multi-process run (unused by one process)')
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
  .option('--visualize <n>', 'write N side-by-side PNGs (image | ground truth | prediction); needs --images', (v) => Number(v))
  .option('--images <dir>', 'images for --visualize, matched by stem')
  .action(async (opts) => (await import('./commands/eval_masks.js')).evalMasksCommand(opts));

program
  .command('plot')
  .description("draw a training run's loss terms, learning rate and evaluation mIoU from OUTPUT_DIR/metrics.json to a PNG (and an SVG beside it)")
  .argument('<output_dir>', 'the OUTPUT_DIR of an `ahs-seg train` run')
  .option('--out <file.png>', 'PNG to write (default OUTPUT_DIR/metrics.png); the SVG goes beside it')
  .option('--width <px>', 'PNG width in pixels', (v) => Number(v), 1200)
  .action(async (outputDir: string, opts: { out?: string; width?: number }) => (await import('./commands/plot.js')).plot(outputDir, opts));

program
  .command('prepare')
  .description("convert an official dataset download into CAT-Seg's detectron2 layout (its datasets/prepare_*.py, in TypeScript)")
  .argument('<dataset>', 'coco-stuff, ade150, ade847, pc59, pc459 or voc')
  .requiredOption('--src <dir>', 'the unpacked official download (see README: what each dataset expects)')
  .option('--root <dir>', 'datasets root to write into (default $DETECTRON2_DATASETS, else ./datasets)')
  .option('--jobs <n>', 'images converted at once', (v) => Number(v), 4)
  .action(async (dataset: string, opts) => (await import('./commands/prepare.js')).prepareCommand(dataset, opts));

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof AhsError) {
      process.stderr.write(`ahs-seg: error ${e.code}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}

void main();
