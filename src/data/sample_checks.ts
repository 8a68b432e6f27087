// The checks every training sample must pass, shared by validateDataset (before training) and the
// loader (on every sample it loads, in worker threads), so that a bad file found by either stops
// training with the same AHS_ERR_DATASET error naming the file. Worker-safe: sharp and typed arrays
// only, no tensor engine.
import { existsSync } from 'node:fs';
import { AhsError } from '../errors.js';
import { decodeRgb, readImageSize } from './image_decode.js';
import { readLabelMap, type LabelMap } from './label_io.js';
import type { DatasetItem, RawSample } from './sample.js';

/** What label values may be: class indices 0..numClasses-1, or the ignore label. */
export interface LabelSpace {
  numClasses: number;
  ignoreLabel: number;
}

/** Label and image must have the same size (the mapper transforms both with one geometry). */
export function checkLabelSize(item: DatasetItem, image: { width: number; height: number }, label: { width: number; height: number }): void {
  if (label.width === image.width && label.height === image.height) return;
  throw new AhsError(
    'AHS_ERR_DATASET',
    `label '${item.labelPath}' is ${label.width}x${label.height} but its image '${item.imagePath}' is ` +
      `${image.width}x${image.height} (width x height, after EXIF orientation); they must match`,
  );
}

/** Every label value is a class index below numClasses or the ignore label. */
export function checkLabelValues(item: DatasetItem, label: LabelMap, space: LabelSpace): void {
  const { numClasses, ignoreLabel } = space;
  const data = label.data;
  let first = -1;
  let count = 0;
  const values = new Set<number>();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v >= numClasses && v !== ignoreLabel) {
      if (first < 0) first = i;
      count++;
      if (values.size < 5) values.add(v);
    }
  }
  if (first < 0) return;
  const x = first % label.width;
  const y = (first - x) / label.width;
  throw new AhsError(
    'AHS_ERR_DATASET',
    `label '${item.labelPath}' has value ${data[first]} at pixel (x=${x}, y=${y}); ${count} pixels hold values ` +
      `outside the ${numClasses} classes (0..${numClasses - 1}) and the ignore label ${ignoreLabel} ` +
      `(values ${[...values].join(', ')}${values.size === 5 ? ', ...' : ''})`,
  );
}

/** A file error (missing, unreadable, corrupt) as the dataset error that names the file. */
export function datasetFileError(what: 'image' | 'label', path: string, err: unknown): AhsError {
  if (err instanceof AhsError) {
    // readLabelMap's messages already name the file; only the code changes.
    return err.code === 'AHS_ERR_DATASET' ? err : new AhsError('AHS_ERR_DATASET', err.message, { cause: err });
  }
  const reason = existsSync(path) ? `could not be read: ${(err as Error).message}` : 'does not exist';
  return new AhsError('AHS_ERR_DATASET', `${what} '${path}' ${reason}`, { cause: err });
}

async function readLabel(item: DatasetItem): Promise<LabelMap> {
  try {
    return await readLabelMap(item.labelPath);
  } catch (err) {
    throw datasetFileError('label', item.labelPath, err);
  }
}

/**
 * Validation of one item without decoding its image: the image header must be readable, the label
 * must decode, match the image's size and hold only valid values.
 */
export async function checkItemFiles(item: DatasetItem, space: LabelSpace): Promise<void> {
  let size: { width: number; height: number };
  try {
    size = await readImageSize(item.imagePath);
  } catch (err) {
    throw datasetFileError('image', item.imagePath, err);
  }
  const label = await readLabel(item);
  checkLabelSize(item, size, label);
  checkLabelValues(item, label, space);
}

/** Decodes an item for the mapper; with `check`, applies the checks above to the decoded pair. */
export async function loadRawSample(item: DatasetItem, space: LabelSpace, check: boolean): Promise<RawSample> {
  const [image, label] = await Promise.all([
    decodeRgb(item.imagePath).catch((err: unknown) => {
      throw datasetFileError('image', item.imagePath, err);
    }),
    readLabel(item),
  ]);
  // The size check is not optional: a mismatched pair would make the mapper read out of bounds.
  checkLabelSize(item, image, label);
  if (check) checkLabelValues(item, label, space);
  return { key: item.key, width: image.width, height: image.height, image: image.data, label: label.data };
}
