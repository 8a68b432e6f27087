// A training dataset in a folder of its own:
//
//   <dir>/images/<stem>.{jpg,jpeg,png,webp,tif,tiff}
//   <dir>/labels/<stem>.{png,tif,tiff}   8-bit PNG, 16-bit PNG or 16-bit TIFF, class index per pixel
//   <dir>/classes.json                   ["wall", "sky", ...]  or  {"classes": [...], "ignore_label": 255}
//
// Every image needs a label and every label an image. The ignore label defaults to 255, or to 65535
// when there are 255 or more classes (255 would then be a class index); it may not be a class index.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AhsError, check } from '../errors.js';
import { pairByStem } from './dataset_pairing.js';
import type { SegDataset } from './sample.js';

export const CUSTOM_IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'] as const;
export const CUSTOM_LABEL_EXTS = ['.png', '.tif', '.tiff'] as const;

const LAYOUT = 'a custom dataset folder holds images/, labels/ (same stems) and classes.json';

export interface ClassList {
  /** Class names in label-value order. */
  classNames: string[];
  ignoreLabel: number;
}

/** Default ignore label for `numClasses` classes. */
export function defaultIgnoreLabel(numClasses: number): number {
  return numClasses >= 255 ? 65535 : 255;
}

/** Validates the parsed content of classes.json; `path` names the file in errors. */
export function parseClassList(parsed: unknown, path: string): ClassList {
  let names: unknown;
  let ignore: unknown;
  if (Array.isArray(parsed)) {
    names = parsed;
  } else if (parsed !== null && typeof parsed === 'object') {
    const obj = parsed as Record<string, unknown>;
    const unknown = Object.keys(obj).filter((k) => k !== 'classes' && k !== 'ignore_label');
    check(unknown.length === 0, 'AHS_ERR_DATASET', () => `'${path}': unknown key '${unknown[0]}'; expected "classes" and optionally "ignore_label"`);
    check('classes' in obj, 'AHS_ERR_DATASET', () => `'${path}' has no "classes" array`);
    names = obj['classes'];
    ignore = obj['ignore_label'];
  } else {
    throw new AhsError('AHS_ERR_DATASET', `'${path}' must hold a JSON array of class names or {"classes": [...], "ignore_label": N}`);
  }
  check(Array.isArray(names), 'AHS_ERR_DATASET', () => `'${path}': "classes" must be an array of class names, got ${JSON.stringify(names)}`);
  check(names.length > 0, 'AHS_ERR_DATASET', () => `'${path}' lists no classes`);
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    check(typeof n === 'string', 'AHS_ERR_DATASET', () => `'${path}': class ${i} must be a string, got ${JSON.stringify(n)}`);
    check(n.trim().length > 0, 'AHS_ERR_DATASET', () => `'${path}': class ${i} is blank (${JSON.stringify(n)})`);
    // Names differing only in surrounding spaces give the same prompt.
    const prev = seen.get(n.trim());
    check(prev === undefined, 'AHS_ERR_DATASET', () => `'${path}': class ${i} ${JSON.stringify(n)} repeats class ${prev} ${JSON.stringify(names[prev!])}`);
    seen.set(n.trim(), i);
  });
  const numClasses = names.length;
  check(numClasses <= 65535, 'AHS_ERR_DATASET', () => `'${path}' lists ${numClasses} classes; at most 65535 fit 16-bit labels`);
  const ignoreLabel = ignore ?? defaultIgnoreLabel(numClasses);
  check(
    Number.isInteger(ignoreLabel) && (ignoreLabel as number) >= 0 && (ignoreLabel as number) <= 65535,
    'AHS_ERR_DATASET',
    () => `'${path}': "ignore_label" must be an integer in [0, 65535], got ${JSON.stringify(ignore)}`,
  );
  check(
    (ignoreLabel as number) >= numClasses,
    'AHS_ERR_DATASET',
    () =>
      `'${path}': "ignore_label" ${ignoreLabel} is the index of class ${JSON.stringify(names[ignoreLabel as number])}; ` +
      `with ${numClasses} classes it must be ${numClasses} or more`,
  );
  return { classNames: names as string[], ignoreLabel: ignoreLabel as number };
}

async function readClassList(path: string): Promise<ClassList> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new AhsError('AHS_ERR_DATASET', `class list '${path}' ${missing ? 'does not exist' : `could not be read: ${(err as Error).message}`}; ${LAYOUT}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AhsError('AHS_ERR_DATASET', `class list '${path}' is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseClassList(parsed, path);
}

/** True when `path` is a directory. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Reads a custom dataset folder (layout above); its name is the folder's absolute path. */
export async function loadCustomDataset(dir: string): Promise<SegDataset> {
  const root = resolve(dir);
  const { classNames, ignoreLabel } = await readClassList(join(root, 'classes.json'));
  const items = await pairByStem({
    imageDir: join(root, 'images'),
    imageExts: CUSTOM_IMAGE_EXTS,
    labelDir: join(root, 'labels'),
    labelExts: CUSTOM_LABEL_EXTS,
    imagesWithoutLabel: 'error',
    hint: LAYOUT,
  });
  return { name: root, classNames, ignoreLabel, items };
}
