// `ahs-seg segment`: label every pixel of one or more images with a free list of class names.
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
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
import { MaskClipSegmenter } from '../../models/clip/maskclip.js';
import type { PromptEnsemble } from '../../models/clip/prompts.js';
import { cacheRoot } from '../../models/clip/hub/cache_dir.js';
import { join } from 'node:path';

export interface SegmentOptions {
  configFile?: string;
  weights?: string;
  protocol?: 'sliding' | 'whole';
  labels?: string;
  classes?: string;
  benchmark?: string;
  clip: string;
  out: string;
  prompts: PromptEnsemble;
  shortSide: number;
}

/** The class names from exactly one of --labels, --classes, --benchmark. */
export async function classNamesFrom(opts: Pick<SegmentOptions, "labels" | "classes" | "benchmark">): Promise<string[]> {
  const given = [opts.labels, opts.classes, opts.benchmark].filter((x) => x !== undefined).length;
  if (given !== 1) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', 'give exactly one of --labels "a,b,c", --classes FILE.json or --benchmark NAME');
  if (opts.labels !== undefined) {
    const names = opts.labels.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    if (names.length === 0) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `--labels '${opts.labels}' names no class`);
    return names;
  }
  if (opts.classes !== undefined) {
    let v: unknown;
    try { v = JSON.parse(readFileSync(opts.classes, 'utf8')); } catch (e) {
      throw new AhsError('AHS_ERR_FILE_FORMAT', `--classes ${opts.classes}: ${(e as Error).message}`);
    }
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) {
      throw new AhsError('AHS_ERR_FILE_FORMAT', `--classes ${opts.classes}: expected a non-empty JSON array of class-name strings`);
    }
    return v as string[];
  }
  return [...(await loadClassNames(opts.benchmark!))];
}

export async function segment(images: string[], opts: SegmentOptions): Promise<void> {
  const classNames = await classNamesFrom(opts);
  const { segmenter, dispose } = await makeSegmenter(opts);
  for (const path of images) {
    const t0 = Date.now();
    const image = await readImage(path);
    const seg = segmentImage(segmenter, image, classNames);
    const files = await writeSegmentation(seg, image, opts.out, basename(path, extname(path)));
    const top = seg.classNames.map((n, i) => [n, seg.fractions[i]!] as const).filter(([, f]) => f > 0).sort((a, b) => b[1] - a[1]).slice(0, 8);
    process.stdout.write(`${path} (${image.width}x${image.height}, ${((Date.now() - t0) / 1000).toFixed(2)} s): ${top.map(([n, f]) => `${n} ${(100 * f).toFixed(1)}%`).join(', ')}\n  -> ${files.labels}, ${files.overlay}, ${files.legend}\n`);
  }
  dispose();
}

/** A CAT-Seg-family checkpoint when --weights is given, else MaskCLIP with CLIP weights alone. */
async function makeSegmenter(opts: SegmentOptions): Promise<{ segmenter: Segmenter; dispose: () => void }> {
  if (opts.weights) {
    const cfg = evalConfig(opts.configFile ?? 'configs/vitb_384.yaml');
    const model = loadEvalModel(cfg, opts.weights, { log: (l) => process.stderr.write(l + '\n') });
    const protocol = opts.protocol ?? (cfg.TEST.SLIDING_WINDOW ? 'sliding' : 'whole');
    return { segmenter: new CatSegPredictor(model, { protocol }), dispose: () => model.dispose() };
  }
  const clip = loadClip(await resolveClipWeights(opts.clip));
  const text = new TextEmbedder(clip, { cacheDir: join(cacheRoot(), 'text-embeddings') });
  return { segmenter: new MaskClipSegmenter(clip, text, { prompts: opts.prompts, shortSide: opts.shortSide }), dispose: () => clip.dispose() };
}
