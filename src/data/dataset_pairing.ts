// Pairing image files with label files by file stem, as detectron2's load_sem_seg does, with
// errors that list the files at fault (at most 5 of them, and how many there are in all).
import { readdir } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { AhsError } from '../errors.js';
import type { DatasetItem } from './sample.js';

const MAX_LISTED = 5;

function listSome(names: string[]): string {
  const shown = names.slice(0, MAX_LISTED).map((n) => `'${n}'`).join(', ');
  return names.length > MAX_LISTED ? `${shown}, ... (${names.length} in all)` : shown;
}

/**
 * Files of `dir` (not recursive) whose extension is one of `exts` (lower case, with the dot;
 * matched case-insensitively), keyed by stem. Two files with one stem are an error: which of
 * them is the sample would be a guess.
 */
export async function listByStem(dir: string, exts: readonly string[], what: string): Promise<Map<string, string>> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new AhsError('AHS_ERR_DATASET', `${what} folder '${resolve(dir)}' does not exist`, { cause: err });
    }
    throw new AhsError('AHS_ERR_DATASET', `${what} folder '${resolve(dir)}' could not be read: ${(err as Error).message}`, { cause: err });
  }
  const out = new Map<string, string>();
  const clashes: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const ext = extname(e.name);
    if (e.name.startsWith('.') || !exts.includes(ext.toLowerCase())) continue;
    const stem = e.name.slice(0, -ext.length);
    const prev = out.get(stem);
    if (prev !== undefined) clashes.push(`${basename(prev)}' and '${e.name}`);
    else out.set(stem, join(dir, e.name));
  }
  if (clashes.length > 0) {
    throw new AhsError('AHS_ERR_DATASET', `${what} folder '${resolve(dir)}' has several files with one stem: ${listSome(clashes)}`);
  }
  return out;
}

export interface PairingOptions {
  imageDir: string;
  imageExts: readonly string[];
  labelDir: string;
  labelExts: readonly string[];
  /**
   * 'skip' for detectron2's registered sets (VOC's JPEGImages holds more images than a split
   * labels); 'error' for custom folders, where an unlabelled image is a mistake.
   */
  imagesWithoutLabel: 'skip' | 'error';
  /** Appended to every error (e.g. the expected layout). */
  hint?: string;
}

/** Items sorted by stem. A label without an image is always an error. */
export async function pairByStem(o: PairingOptions): Promise<DatasetItem[]> {
  const suffix = o.hint ? `; ${o.hint}` : '';
  const withHint = async (dir: string, exts: readonly string[], what: string): Promise<Map<string, string>> => {
    try {
      return await listByStem(dir, exts, what);
    } catch (err) {
      if (err instanceof AhsError && suffix) throw new AhsError(err.code, err.message + suffix, { cause: err });
      throw err;
    }
  };
  const images = await withHint(o.imageDir, o.imageExts, 'image');
  const labels = await withHint(o.labelDir, o.labelExts, 'label');
  const exts = (e: readonly string[]): string => e.join(', ');
  if (labels.size === 0) {
    throw new AhsError('AHS_ERR_DATASET', `no labels (${exts(o.labelExts)}) in '${resolve(o.labelDir)}'${suffix}`);
  }
  const orphanLabels = [...labels].filter(([k]) => !images.has(k)).map(([, p]) => basename(p));
  if (orphanLabels.length > 0) {
    throw new AhsError(
      'AHS_ERR_DATASET',
      `${orphanLabels.length} of ${labels.size} labels in '${resolve(o.labelDir)}' have no image ` +
        `(${exts(o.imageExts)}) with the same stem in '${resolve(o.imageDir)}': ${listSome(orphanLabels)}${suffix}`,
    );
  }
  if (o.imagesWithoutLabel === 'error') {
    const orphanImages = [...images].filter(([k]) => !labels.has(k)).map(([, p]) => basename(p));
    if (orphanImages.length > 0) {
      throw new AhsError(
        'AHS_ERR_DATASET',
        `${orphanImages.length} of ${images.size} images in '${resolve(o.imageDir)}' have no label ` +
          `(${exts(o.labelExts)}) with the same stem in '${resolve(o.labelDir)}': ${listSome(orphanImages)}${suffix}`,
      );
    }
  }
  const keys = [...labels.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((key) => ({ key, imagePath: images.get(key)!, labelPath: labels.get(key)! }));
}
