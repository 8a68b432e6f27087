// `ahs-seg segment`: label every pixel of images (files or folders, one batch: the model and the
// text embeddings load once) with a free list of class names, through the library API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AhsError, printable } from '../../errors.js';
import { loadClassNames } from '../../data/benchmarks.js';
import { checkClassNames, showName } from '../../data/class_names.js';
import { prepareOutputDir } from '../../io/output_location.js';
import { DEFAULT_CONFIG } from '../../package_paths.js';
import { promptTemplates, type PromptEnsemble } from '../../models/clip/prompts.js';
import { checkPromptLengths } from '../../models/clip/prompt_length.js';
import { cachedFilePath } from '../../models/clip/hub/cache_dir.js';
import { hubFileUrl, resolveEndpoint } from '../../models/clip/hub/download.js';
import { evalConfig } from '../../engine/run_eval.js';
import { catSegModelBytes, checkCatSegModelFits } from '../../engine/model_memory.js';
import { DEFAULT_ZERO_SHOT_METHOD, isZeroShotMethod, ZERO_SHOT_METHODS } from '../../engine/zero_shot_segmenter.js';
import { trainingFreeDefaults } from '../../models/tfree/methods.js';
import { createProgressReporter } from '../../progress.js';
import { createSegmenter, checkInferenceDevice, type CreateSegmenterOptions } from '../../api/segmenter.js';
import { planClip, planModel, type ModelPlan } from '../../api/model_source.js';
import { DEFAULT_MODEL } from '../../api/models.js';
import {
  checkModeOptions, checkModelOptions, checkPlanFits, checkResizedSize, clipWeightsBytes, dryRunReport, expandImageArgs, planImages, SUMMARY_FILE, textWorkNotice,
} from '../segment_plan.js';
import { writeBatchSummary, writeImageFiles, type ImageRecord } from '../segment_output.js';

export interface SegmentOptions {
  /** A catalog name (clip-vit-b16, catseg-vitb, catseg-vitl), a checkpoint or CLIP weights. */
  model?: string;
  configFile?: string;
  weights?: string;
  /** whole or sliding; --protocol is its older name (checkpoints only). */
  mode?: 'sliding' | 'whole';
  protocol?: 'sliding' | 'whole';
  device?: string;
  labels?: string;
  classes?: string;
  benchmark?: string;
  /** CLIP weights for the zero-shot method (default: the default model's). */
  clip?: string;
  out: string;
  /** Without --weights: maskclip, naclip (default), sclip or clearclip. */
  method?: string;
  /** PAMR refinement on or off (default: on for NACLIP, off otherwise and with --weights). */
  pamr?: boolean;
  prompts?: PromptEnsemble;
  shortSide?: number;
  /** Check and print what would run, and the memory it needs, without running a model. */
  dryRun?: boolean;
}

/** The class names from exactly one of --labels, --classes, --benchmark. */
export async function classNamesFrom(opts: Pick<SegmentOptions, "labels" | "classes" | "benchmark">): Promise<string[]> {
  const given = [opts.labels, opts.classes, opts.benchmark].filter((x) => x !== undefined).length;
  if (given !== 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'give exactly one of --labels "a,b,c", --classes FILE.json or --benchmark NAME');
  if (opts.labels !== undefined) {
    if (opts.labels.trim().length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--labels '${printable(opts.labels)}' names no class`);
    return checkClassNames(opts.labels.split(','), '--labels');
  }
  if (opts.classes !== undefined) {
    let v: unknown;
    try { v = JSON.parse(readFileSync(opts.classes, 'utf8')); } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw new AhsError(missing ? 'AHS_ERR_FILE_NOT_FOUND' : 'AHS_ERR_FILE_FORMAT', `--classes ${opts.classes}: ${missing ? 'file not found' : (e as Error).message}`);
    }
    if (!Array.isArray(v) || v.length === 0) {
      throw new AhsError('AHS_ERR_FILE_FORMAT', `--classes ${opts.classes}: expected a non-empty JSON array of class-name strings`);
    }
    return checkClassNames(v, `--classes ${opts.classes}`);
  }
  return [...(await loadClassNames(opts.benchmark!))];
}

export async function segment(images: string[], opts: SegmentOptions): Promise<void> {
  // Everything that can be checked is checked before a model loads (segment_plan.ts).
  checkModelOptions(opts);
  if (opts.device !== undefined) checkInferenceDevice(opts.device, '--device');
  const plan = modelPlan(opts);
  const checkpoint = plan.kind === 'catseg';
  checkModeOptions({ ...opts, checkpoint });
  if (opts.method !== undefined && !checkpoint && !isZeroShotMethod(opts.method)) zeroShotMethodError(opts.method);
  const classNames = await classNamesFrom(opts);
  const planned = await planImages(expandImageArgs(images));
  const method = opts.method ?? DEFAULT_ZERO_SHOT_METHOD;
  if (!checkpoint && method !== 'maskclip') {
    const d = trainingFreeDefaults(method);
    for (const im of planned) checkResizedSize(im, method, [d.longSide, opts.shortSide ?? d.shortSide]);
  }
  const cfg = checkpoint ? evalConfig(plan.config!) : null;
  const templates = cfg ? promptTemplates(cfg.MODEL.PROMPT_ENSEMBLE_TYPE as PromptEnsemble) : zeroShotTemplates(opts);
  if (opts.benchmark === undefined) checkPromptLengths(classNames, templates, opts.labels !== undefined ? '--labels' : `--classes ${opts.classes}`);
  if (cfg) checkCatSegModelFits(cfg, plan.config!);
  const out = prepareOutputDir(opts.out, '--out', { create: !opts.dryRun }); // last: the only check that writes
  if (opts.dryRun) {
    const weights = cfg ? { bytes: catSegModelBytes(cfg), where: `${weightsWhere(plan)} with config ${plan.config}` } : clipWeightsBytes(plan.clip ?? plan.weights ?? plan.catalog!.hub.name);
    checkPlanFits(weights, planned, classNames.length);
    process.stdout.write(dryRunReport({
      method: cfg ? 'a CAT-Seg-family checkpoint' : method, weights,
      classes: classNames.length, templates: templates.length, missingPrompts: classNames.length * templates.length,
      images: planned, out, canChoosePrompts: !cfg,
    }));
    return;
  }
  const seg = await createSegmenter(segmenterOptions(opts));
  try {
    // Long text encoding is stated before it starts, then drawn as a bar with an ETA.
    const notice = textWorkNotice(classNames.length, templates.length, seg.textWork(classNames).missing, !cfg);
    if (notice) {
      process.stderr.write(notice + '\n');
      const report = createProgressReporter({ unit: { name: 'prompts', scale: 1, decimals: 0 }, lineEta: true });
      seg.onTextProgress = (d, n) => report({ file: 'text encoding', received: d, total: n });
    }
    const bar = planned.length > 1 ? createProgressReporter({ unit: { name: 'images', scale: 1, decimals: 0 }, lineEta: true }) : null;
    bar?.({ file: 'images', received: 0, total: planned.length }); // the clock starts here
    const records: ImageRecord[] = [];
    for (const [k, im] of planned.entries()) {
      const r = await seg.segment(im.path, classNames, { labelPng: true, colorMask: true, overlay: true });
      seg.onTextProgress = null; // encoded once, for the first image
      const files = await writeImageFiles(r, im.path, out, im.stem);
      records.push({ image: im.path, width: r.width, height: r.height, seconds: r.seconds, files, classes: r.classes });
      const top = r.classes.filter((c) => c.share > 0).sort((a, b) => b.share - a.share).slice(0, 8);
      process.stdout.write(`${printable(im.path)} (${r.width}x${r.height}, ${r.seconds.toFixed(2)} s): ${top.map((c) => `${printable(c.name)} ${(100 * c.share).toFixed(1)}%`).join(', ')}\n` +
        `  -> ${files.labels}, ${files.mask}, ${files.overlay}, ${files.json}\n`);
      bar?.({ file: 'images', received: k + 1, total: planned.length });
    }
    await writeBatchSummary(join(out, SUMMARY_FILE), seg.model, classNames, records);
    if (planned.length > 1) process.stdout.write(`${planned.length} images -> ${join(out, SUMMARY_FILE)}\n`);
  } finally {
    seg.dispose();
  }
}

/** The model the options name: --weights (a checkpoint with --config-file, default the shipped
 * vitb_384.yaml), --clip (CLIP weights), or --model (default clip-vit-b16). */
function modelPlan(opts: SegmentOptions): ModelPlan {
  if (opts.weights !== undefined) return planModel(opts.weights, { option: '--weights', checkpoint: true, config: opts.configFile ?? DEFAULT_CONFIG });
  if (opts.clip !== undefined) return planClip(opts.clip);
  return planModel(opts.model ?? DEFAULT_MODEL, { option: '--model', config: opts.configFile });
}

function segmenterOptions(opts: SegmentOptions): CreateSegmenterOptions {
  const o: CreateSegmenterOptions = {
    device: opts.device, mode: opts.mode ?? opts.protocol, pamr: opts.pamr, method: opts.method, prompts: opts.prompts, shortSide: opts.shortSide,
    download: { onProgress: createProgressReporter() }, onLog: (l) => process.stderr.write(l + '\n'),
  };
  if (opts.weights !== undefined) return { ...o, model: opts.weights, config: opts.configFile ?? DEFAULT_CONFIG, requireCheckpoint: true };
  if (opts.clip !== undefined) return { ...o, clip: opts.clip };
  return { ...o, model: opts.model ?? DEFAULT_MODEL, config: opts.configFile };
}

/** Where a checkpoint comes from, for --dry-run. */
function weightsWhere(plan: ModelPlan): string {
  if (!plan.catalog) return plan.weights!;
  const h = plan.catalog.hub;
  const dest = cachedFilePath(h.repo, h.revision, h.files[0]!);
  return `${plan.name} (${hubFileUrl(resolveEndpoint(), h.repo, h.revision, h.files[0]!)}, cached at ${dest} once downloaded)`;
}

function zeroShotMethodError(method: string): never {
  throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--method ${showName(method)} is not one of ${ZERO_SHOT_METHODS.join(', ')}`);
}

/** The templates a zero-shot method fills with each class name: --prompts, else the method's. */
function zeroShotTemplates(opts: SegmentOptions): readonly string[] {
  if (opts.prompts) return promptTemplates(opts.prompts);
  const method = opts.method ?? DEFAULT_ZERO_SHOT_METHOD;
  return method === 'maskclip' ? promptTemplates('imagenet') : trainingFreeDefaults(method).templates;
}
