// The files `ahs-seg segment` writes for each image (<stem>.labels.png, .mask.png, .overlay.png,
// .json) and for the batch (summary.json: per image its files and shares, per class its pixel
// share and mean confidence over all images). All writes are atomic.
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic_write.js';
import type { ClassSummary, ModelInfo, SegmentResult } from '../api/segment_result.js';

export interface ImageFiles { labels: string; mask: string; overlay: string; json: string }

/** What the summary keeps of an image (not its pixels: a batch may hold thousands). */
export interface ImageRecord { image: string; width: number; height: number; seconds: number; files: ImageFiles; classes: ClassSummary[] }

/** Writes one image's four files; the result must hold labelPng, colorMask and overlay. */
export async function writeImageFiles(result: SegmentResult, image: string, outDir: string, stem: string): Promise<ImageFiles> {
  const files = { labels: join(outDir, `${stem}.labels.png`), mask: join(outDir, `${stem}.mask.png`), overlay: join(outDir, `${stem}.overlay.png`), json: join(outDir, `${stem}.json`) };
  await writeFileAtomic(files.labels, result.labelPng!);
  await writeFileAtomic(files.mask, result.colorMask!);
  await writeFileAtomic(files.overlay, result.overlay!);
  const legend = {
    image, width: result.width, height: result.height, model: result.model,
    classes: result.classes.map((c) => ({ index: c.index, name: c.name, color: c.color, pixels: c.pixels, fraction: c.share, meanConfidence: c.meanConfidence })),
  };
  await writeFileAtomic(files.json, JSON.stringify(legend, null, 2) + '\n');
  return files;
}

/** summary.json: every image of the batch, and each class over all of them (share of all
 * pixels; mean confidence over all its pixels). */
export async function writeBatchSummary(path: string, model: ModelInfo, classNames: readonly string[], records: readonly ImageRecord[]): Promise<void> {
  const pixels = new Float64Array(classNames.length);
  const confSum = new Float64Array(classNames.length);
  let total = 0;
  for (const r of records) {
    total += r.width * r.height;
    for (const c of r.classes) {
      pixels[c.index]! += c.pixels;
      confSum[c.index]! += (c.meanConfidence ?? 0) * c.pixels;
    }
  }
  const summary = {
    model,
    classes: classNames.map((name, i) => ({
      index: i, name, pixels: pixels[i]!, fraction: total > 0 ? pixels[i]! / total : 0, meanConfidence: pixels[i]! > 0 ? confSum[i]! / pixels[i]! : null,
    })),
    images: records.map((r) => ({
      image: r.image, width: r.width, height: r.height, seconds: Number(r.seconds.toFixed(3)), files: r.files,
      classes: r.classes.filter((c) => c.pixels > 0).map((c) => ({ name: c.name, fraction: c.share, meanConfidence: c.meanConfidence })),
    })),
  };
  await writeFileAtomic(path, JSON.stringify(summary, null, 2) + '\n');
}
