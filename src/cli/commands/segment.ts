// `ahs-seg segment`: label every pixel of one or more images with a free list of class names.
import { readFileSync } from 'node:fs';
import { AhsError } from '../../errors.js';
import { readImage } from '../../data/image_io.js';
import { loadClassNames } from '../../data/benchmarks.js';
import { resolveClipWeights } from '../../engine/clip_weights.js';
import { segmentImage, type Segmenter } from '../../engine/segmenter.js';
import { evalConfig, loadEvalModel } from '../../engine/run_eval.js';
import { CatSegPredictor } from '../../models/catseg/inference.js';
import { writeSegmentation } from '../../engine/segmentation_files.js';
import { loadClip } from '../../models/clip/weights.js';
import { TextEmbedder } from '../../models/clip/text_embedder.js';
import type { PromptEnsemble } from '../../models/clip/prompts.js';
import { DEFAULT_ZERO_SHOT_METHOD, zeroShotSegmenter } from '../../engine/zero_shot_segmenter.js';
import { PamrRefined } from '../../models/tfree/pamr_refined.js';
import { REFERENCE_PAMR } from '../../models/tfree/methods.js';
import { cacheRoot } from '../../models/clip/hub/cache_dir.js';
import { join } from 'node:path';
import { checkClassNames, showName } from '../../data/class_names.js';
import { prepareOutputDir } from '../../io/output_location.js';
import { printable } from '../../errors.js';
import { DEFAULT_CONFIG, resolveShippedPath } from '../../package_paths.js';
import { promptTemplates } from '../../models/clip/prompts.js';
import { checkPromptLengths } from '../../models/clip/prompt_length.js';
import { isZeroShotMethod, ZERO_SHOT_METHODS } from '../../engine/zero_shot_segmenter.js';
import { trainingFreeDefaults } from '../../models/tfree/methods.js';
import { checkCatSegModelFits, catSegModelBytes } from '../../engine/model_memory.js';
import { createProgressReporter } from '../../progress.js';
import { checkModeOptions, checkPlanFits, checkResizedSize, clipWeightsBytes, dryRunReport, planImages, promptTexts, textWorkNotice } from '../segment_plan.js';

export interface SegmentOptions {
  configFile?: string;
  weights?: string;
  protocol?: 'sliding' | 'whole';
  labels?: string;
  classes?: string;
  benchmark?: string;
  clip: string;
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
  checkModeOptions(opts);
  if (opts.method !== undefined && !opts.weights && !isZeroShotMethod(opts.method)) zeroShotMethodError(opts.method);
  const classNames = await classNamesFrom(opts);
  const planned = await planImages(images);
  const method = opts.method ?? DEFAULT_ZERO_SHOT_METHOD;
  if (!opts.weights && method !== 'maskclip') {
    const d = trainingFreeDefaults(method);
    for (const im of planned) checkResizedSize(im, method, [d.longSide, opts.shortSide ?? d.shortSide]);
  }
  const cfg = opts.weights ? evalConfig(opts.configFile ?? DEFAULT_CONFIG) : null;
  const templates = cfg ? promptTemplates(cfg.MODEL.PROMPT_ENSEMBLE_TYPE as PromptEnsemble) : zeroShotTemplates(opts);
  const userNames = opts.benchmark === undefined;
  if (userNames) checkPromptLengths(classNames, templates, opts.labels !== undefined ? '--labels' : `--classes ${opts.classes}`);
  if (cfg) checkCatSegModelFits(cfg, opts.configFile ?? DEFAULT_CONFIG);
  const out = prepareOutputDir(opts.out, '--out', { create: !opts.dryRun }); // last: the only check that writes
  if (opts.dryRun) {
    const weights = cfg ? { bytes: catSegModelBytes(cfg), where: `${opts.weights} with config ${resolveShippedPath(opts.configFile ?? DEFAULT_CONFIG)}` } : clipWeightsBytes(opts.clip);
    checkPlanFits(weights, planned, classNames.length);
    process.stdout.write(dryRunReport({
      method: cfg ? 'a CAT-Seg-family checkpoint' : method, weights,
      classes: classNames.length, templates: templates.length, missingPrompts: classNames.length * templates.length,
      images: planned, out, canChoosePrompts: !cfg,
    }));
    return;
  }
  const { segmenter, dispose, text } = await makeSegmenter(opts);
  try {
    // Long text encoding is stated before it starts, then drawn as a bar with an ETA.
    const missing = text.countMissing(promptTexts(classNames, templates));
    const notice = textWorkNotice(classNames.length, templates.length, missing, !cfg);
    if (notice) {
      process.stderr.write(notice + '\n');
      const report = createProgressReporter({ unit: { name: 'prompts', scale: 1, decimals: 0 }, lineEta: true });
      text.onProgress = (d, n) => report({ file: 'text encoding', received: d, total: n });
    }
    for (const im of planned) {
      const t0 = Date.now();
      const image = await readImage(im.path);
      const seg = segmentImage(segmenter, image, classNames);
      const files = await writeSegmentation(seg, image, opts.out, im.stem);
      const top = seg.classNames.map((n, i) => [n, seg.fractions[i]!] as const).filter(([, f]) => f > 0).sort((a, b) => b[1] - a[1]).slice(0, 8);
      process.stdout.write(`${printable(im.path)} (${image.width}x${image.height}, ${((Date.now() - t0) / 1000).toFixed(2)} s): ${top.map(([n, f]) => `${printable(n)} ${(100 * f).toFixed(1)}%`).join(', ')}\n  -> ${files.labels}, ${files.overlay}, ${files.legend}\n`);
    }
  } finally {
    text.onProgress = null;
    dispose();
  }
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

/** A CAT-Seg-family checkpoint when --weights is given, else a zero-shot method (--method,
 * default NACLIP with PAMR) with CLIP weights alone. */
async function makeSegmenter(opts: SegmentOptions): Promise<{ segmenter: Segmenter; dispose: () => void; text: TextEmbedder }> {
  if (opts.weights) {
    if (opts.method !== undefined) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--method ${opts.method} is for segmenting without a checkpoint; drop it or --weights`);
    const cfg = evalConfig(opts.configFile ?? DEFAULT_CONFIG);
    const model = loadEvalModel(cfg, opts.weights, { log: (l) => process.stderr.write(l + '\n') });
    const protocol = opts.protocol ?? (cfg.TEST.SLIDING_WINDOW ? 'sliding' : 'whole');
    const predictor = new CatSegPredictor(model, { protocol });
    const segmenter = opts.pamr ? new PamrRefined({ scores: (i, c) => predictor.probabilities(i, c) }, REFERENCE_PAMR) : predictor;
    return { segmenter, dispose: () => model.dispose(), text: model.text };
  }
  const clip = loadClip(await resolveClipWeights(opts.clip));
  const text = new TextEmbedder(clip, { cacheDir: join(cacheRoot(), 'text-embeddings') });
  const segmenter = zeroShotSegmenter(clip, text, { method: opts.method ?? DEFAULT_ZERO_SHOT_METHOD, pamr: opts.pamr, prompts: opts.prompts, shortSide: opts.shortSide });
  return { segmenter, dispose: () => { segmenter.dispose(); clip.dispose(); }, text };
}
