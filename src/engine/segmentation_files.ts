// Writes a segmentation the way users consume it: the label map (8- or 16-bit PNG of class
// indices), a colour overlay on the photo, and a JSON legend. All writes are atomic.
import sharp from 'sharp';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic_write.js';
import { writeLabelPng } from '../data/label_io.js';
import type { RgbImage } from '../data/image_io.js';
import { colorizeLabels, labelColor } from '../eval/visualize.js';
import type { Segmentation } from './segmenter.js';

export interface SegmentationFiles { labels: string; overlay: string; legend: string }

/** `<outDir>/<stem>.labels.png`, `.overlay.png` (alpha-blended colours) and `.json`. */
export async function writeSegmentation(seg: Segmentation, image: RgbImage, outDir: string, stem: string, alpha = 0.5): Promise<SegmentationFiles> {
  const files = { labels: join(outDir, `${stem}.labels.png`), overlay: join(outDir, `${stem}.overlay.png`), legend: join(outDir, `${stem}.json`) };
  await writeLabelPng(files.labels, seg.labels, seg.width, seg.height);
  // Palette index + 1: VOC colour 0 is black, which would hide the first class.
  const colors = colorizeLabels({ width: seg.width, height: seg.height, data: seg.labels.map((l) => l + 1) }, -1);
  const blended = Buffer.alloc(colors.length);
  for (let i = 0; i < colors.length; i++) blended[i] = Math.round((1 - alpha) * image.data[i]! + alpha * colors[i]!);
  await writeFileAtomic(files.overlay, await sharp(blended, { raw: { width: seg.width, height: seg.height, channels: 3 } }).png().toBuffer());
  const legend = {
    width: seg.width,
    height: seg.height,
    classes: seg.classNames.map((name, index) => ({ index, name, color: labelColor(index + 1), fraction: seg.fractions[index] })),
  };
  await writeFileAtomic(files.legend, JSON.stringify(legend, null, 2) + '\n');
  return files;
}
