// What `ahs-seg segment` checks before it loads a model, and what `--dry-run` prints: the options
// fit together, every image is readable, no two images write the same output files, the output
// folder is writable, every class name fits CLIP's context, and the memory the job needs.
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { AhsError, printable } from '../errors.js';
import { readImageSize } from '../data/image_io.js';
import { classScoreBytes } from '../engine/segmenter.js';
import { checkMemoryBudget, fmtBytes, memoryLimitBytes } from '../engine/memory_budget.js';
import { clipParameterCount } from '../engine/model_memory.js';
import { KNOWN_CLIPS } from '../models/clip/known_models.js';
import { cachedFilePath } from '../models/clip/hub/cache_dir.js';
import { resolveHubModel } from '../models/clip/hub/registry.js';
import { firstSynonym, fillTemplate } from '../models/clip/prompts.js';
import { mmsegRescaleSize } from '../models/tfree/mmseg_resize.js';

/** Above this many prompts to encode, the CLI says so before it starts and draws a progress bar. */
export const ANNOUNCE_PROMPTS = 2_000;
/** Above this many, it also suggests `--prompts single` (one template per class). */
export const SUGGEST_SINGLE_PROMPTS = 20_000;

export interface PlannedImage { path: string; stem: string; width: number; height: number }

export interface ModelOptions {
  weights?: string; model?: string; clip?: string; protocol?: string; mode?: string;
  prompts?: string; shortSide?: number; configFile?: string; method?: string;
}

/** Options that name the model in two ways, or contradict each other; checked before any file is
 * read. */
export function checkModelOptions(o: ModelOptions): void {
  if (o.weights !== undefined && o.method !== undefined) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--method ${o.method} is for segmenting without a checkpoint; drop it or --weights`);
  const named = [o.model !== undefined && '--model', o.weights !== undefined && '--weights', o.clip !== undefined && '--clip'].filter(Boolean);
  if (named.length > 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${named.join(' and ')} each name the model; give one (--model takes a name, a checkpoint or CLIP weights)`);
  if (o.mode !== undefined && o.protocol !== undefined && o.mode !== o.protocol) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--mode ${o.mode} and --protocol ${o.protocol} disagree (--protocol is the older name of --mode); give one`);
  }
  if (o.method === 'maskclip' && o.mode === 'sliding') throw new AhsError('AHS_ERR_INVALID_ARGUMENT', '--mode sliding: MaskCLIP runs on the whole image only; use --mode whole, or another --method');
}

/** Options that only apply to a segmentation checkpoint (or only without one) are refused in the
 * other mode, so that nothing the user asked for is silently ignored. `checkpoint`: the model is
 * a segmentation checkpoint (default: --weights is given). */
export function checkModeOptions(o: ModelOptions & { checkpoint?: boolean }): void {
  if (!(o.checkpoint ?? o.weights !== undefined)) {
    const stray = [o.protocol !== undefined && '--protocol', o.configFile !== undefined && o.model === undefined && '--config-file'].filter(Boolean);
    if (stray.length) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${stray.join(' and ')} ${stray.length > 1 ? 'apply' : 'applies'} to a --weights checkpoint (or a --model checkpoint); ` +
        'without one a zero-shot method runs on CLIP weights alone (--mode whole|sliding chooses its protocol)');
    }
  } else {
    const stray = [o.prompts !== undefined && '--prompts', o.shortSide !== undefined && '--short-side', o.method !== undefined && '--method'].filter(Boolean);
    if (stray.length) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${stray.join(' and ')} ${stray.length > 1 ? 'apply' : 'applies'} without --weights (to the training-free method); a checkpoint's prompts and input size come from its config (--config-file)`);
  }
}

/** Image files a folder argument stands for (by extension, not recursive). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff'] as const;

/** The image arguments with each folder replaced by its image files, sorted by name. */
export function expandImageArgs(args: readonly string[]): string[] {
  return args.flatMap((a) => {
    let dir = false;
    try { dir = statSync(a).isDirectory(); } catch { /* not there: planImages names it */ }
    if (!dir) return [a];
    const files = readdirSync(a).filter((n) => (IMAGE_EXTENSIONS as readonly string[]).includes(extname(n).toLowerCase())).sort();
    if (files.length === 0) throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `folder '${printable(a)}' holds no image (${IMAGE_EXTENSIONS.join(', ')})`);
    return files.map((n) => join(a, n));
  });
}

/** The batch summary `segment` writes beside the images' files. */
export const SUMMARY_FILE = 'summary.json';

/** Each image's size (from its header) and output stem; two images with one stem would
 * overwrite each other's <stem>.labels.png, .mask.png, .overlay.png and .json. */
export async function planImages(images: readonly string[]): Promise<PlannedImage[]> {
  const byStem = new Map<string, string>();
  const out: PlannedImage[] = [];
  for (const path of images) {
    const stem = basename(path, extname(path));
    if (`${stem}.json` === SUMMARY_FILE) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `image '${printable(path)}' would write ${SUMMARY_FILE}, the name of the batch summary in --out; rename it`);
    }
    const other = byStem.get(stem);
    if (other !== undefined) {
      const same = resolve(other) === resolve(path);
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', same
        ? `image '${printable(path)}' is given twice`
        : `images '${printable(other)}' and '${printable(path)}' would both write ${printable(stem)}.labels.png, .mask.png, .overlay.png and .json in --out; ` +
          'rename one, or segment them into different --out folders');
    }
    byStem.set(stem, path);
    out.push({ path, stem, ...(await readImageSize(path)) });
  }
  return out;
}

/** CLIP's patch size: an image side resized below it has no patch to look at. (ViT-L/14's is
 * 14; 16 keeps the check on the safe side for both shipped CLIPs.) */
const PATCH = 16;

/** A training-free method resizes with mmseg's keep-ratio rule (long side capped by `longSide`):
 * an extreme aspect ratio leaves the short side under one patch. Say so, naming the image, instead
 * of failing inside the model. */
export function checkResizedSize(im: PlannedImage, method: string, scale: readonly [longSide: number, shortSide: number]): void {
  const [h, w] = mmsegRescaleSize(im.height, im.width, scale);
  if (Math.min(h, w) >= PATCH) return;
  throw new AhsError('AHS_ERR_SHAPE',
    `image '${printable(im.path)}' is ${im.width}x${im.height}; ${method} resizes it to ${w}x${h} (long side at most ${scale[0]}), ` +
    `under CLIP's ${PATCH}-pixel patch; crop or pad it to a less extreme aspect ratio, or use --method maskclip (which shrinks only as far as one patch)`);
}

/** The prompts the text tower encodes for these classes (first synonym in each template). */
export function promptTexts(classNames: readonly string[], templates: readonly string[]): string[] {
  return classNames.flatMap((c) => templates.map((t) => fillTemplate(t, firstSynonym(c))));
}

/** The line stating long text-encoding work before it starts, or null when it is short. */
export function textWorkNotice(classes: number, templates: number, missing: number, canChoosePrompts: boolean): string | null {
  if (missing < ANNOUNCE_PROMPTS) return null;
  const n = (x: number) => x.toLocaleString('en-US');
  let line = `text: ${n(classes)} classes x ${n(templates)} templates = ${n(classes * templates)} prompts; ` +
    `${n(missing)} not in the text cache go through CLIP's text tower first (cached for later runs)`;
  if (canChoosePrompts && templates > 1 && classes * templates >= SUGGEST_SINGLE_PROMPTS) {
    line += `; --prompts single would encode ${n(classes)} (one template per class, usually a little less accurate)`;
  }
  return line;
}

/** Bytes of the CLIP weights `--clip` names, when they can be known without loading them. */
export function clipWeightsBytes(clip: string): { bytes: number; where: string } | null {
  try {
    return { bytes: statSync(clip).size, where: resolve(clip) };
  } catch { /* not a file: a hub name */ }
  try {
    const spec = resolveHubModel(clip);
    const known = Object.values(KNOWN_CLIPS).find((k) => k.hubName === spec.name);
    const cached = cachedFilePath(spec.repo, spec.revision, 'model.safetensors');
    let where = `${spec.name}, downloaded on first use to ${cached}`;
    try { statSync(cached); where = `${spec.name}, cached at ${cached}`; } catch { /* not downloaded yet */ }
    return known ? { bytes: 4 * clipParameterCount(known.config), where } : null;
  } catch {
    return null;
  }
}

/** Weights plus the class scores of the largest image: what the job holds at its peak. */
export function planMemoryBytes(weights: { bytes: number } | null, images: readonly PlannedImage[], classes: number): number {
  return (weights?.bytes ?? 0) + Math.max(0, ...images.map((im) => classScoreBytes(im.height, im.width, classes)));
}

/** Refuses a job whose peak is known to exceed the memory budget. */
export function checkPlanFits(weights: { bytes: number } | null, images: readonly PlannedImage[], classes: number): void {
  const largest = images.reduce((a, b) => (a.width * a.height >= b.width * b.height ? a : b));
  checkMemoryBudget(planMemoryBytes(weights, images, classes),
    `segmenting ${images.length === 1 ? '' : 'up to '}${largest.width}x${largest.height} pixels into ${classes} class${classes === 1 ? '' : 'es'} (weights included)`,
    'use fewer classes or smaller images');
}

/** The `--dry-run` report. */
export function dryRunReport(p: {
  method: string; weights: { bytes: number; where: string } | null; classes: number; templates: number; missingPrompts: number;
  images: PlannedImage[]; out: string; canChoosePrompts: boolean;
}): string {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const lines = [`dry run: ${p.method} on ${plural(p.images.length, 'image')}, ${p.classes} ${p.classes === 1 ? 'class' : 'classes'} x ${plural(p.templates, 'template')}`];
  lines.push(`  weights: ${p.weights ? `${p.weights.where} (about ${fmtBytes(p.weights.bytes)} in memory)` : 'size unknown until loaded'}`);
  const notice = textWorkNotice(p.classes, p.templates, p.missingPrompts, p.canChoosePrompts);
  lines.push(`  ${notice ?? `text: ${p.classes * p.templates} prompts, ${p.missingPrompts} not in the text cache`}`);
  for (const im of p.images) {
    const b = classScoreBytes(im.height, im.width, p.classes);
    lines.push(`  ${printable(im.path)} (${im.width}x${im.height}): class scores about ${fmtBytes(b)} -> ${im.stem}.labels.png, .mask.png, .overlay.png, .json`);
  }
  lines.push(`  output folder: ${p.out} (writable)`);
  lines.push(`  memory: about ${fmtBytes(planMemoryBytes(p.weights, p.images, p.classes))} at the largest image (weights + class scores), within the budget of ${fmtBytes(memoryLimitBytes())}`);
  lines.push('nothing was run (--dry-run)');
  return lines.join('\n') + '\n';
}
