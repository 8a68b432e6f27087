// What every converter shares: where the official download is, a bounded worker pool that takes
// one image at a time (COCO-Stuff has 118k), "skip what is already done" for resumable re-runs,
// atomic writes of labels, and hard links (or copies) of the images into the detectron2 layout.
//
// A finished output is one that exists and is not empty: every file we write goes through a
// sibling temp file and a rename (writeFileAtomic), so a crash leaves no half file under the
// final name, only a dot-prefixed temp file that nothing reads.

import { copyFile, link, mkdir, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { isDirectory } from '../custom_dataset.js';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import sharp from 'sharp';
import { AhsError, check } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic_write.js';

export interface PrepareProgress {
  /** What is being produced, e.g. 'coco-stuff val2017 labels'. */
  task: string;
  done: number;
  total: number;
}

export interface PrepareOptions {
  /** The official download, unpacked (see each converter for what it must contain). */
  src: string;
  /** The detectron2 datasets root ($DETECTRON2_DATASETS); outputs go below it. */
  root: string;
  /** Images converted at once; default 4. */
  concurrency?: number;
  onProgress?: (p: PrepareProgress) => void;
  /** One line of news (a skipped split, a count); default silent. */
  log?: (line: string) => void;
}

export interface PrepareTaskReport {
  task: string;
  /** Folder written. */
  dir: string;
  written: number;
  /** Already complete from an earlier run. */
  skipped: number;
  /** Inputs that produced no file on purpose (e.g. VOC masks that are all ignore). */
  omitted: number;
}

export interface PrepareReport {
  dataset: string;
  tasks: PrepareTaskReport[];
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export const isDir = isDirectory;

/** True when `path` is a complete earlier output (see the header: writes are atomic). */
export async function isDone(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    return s.isFile() && s.size > 0;
  } catch {
    return false;
  }
}

/**
 * The first of `candidates` (relative to `src`, '' = src itself) that holds `probe`. Users unpack
 * archives one level higher or lower than the layout expects, so each converter lists the
 * places an official archive can land; the error lists them all and says what to download.
 */
export async function locate(src: string, candidates: readonly string[], probe: string, missing: string): Promise<string> {
  check(await isDir(src), 'AHS_ERR_FILE_NOT_FOUND', () => `--src '${resolve(src)}' is not a folder; ${missing}`);
  for (const c of candidates) {
    const dir = join(src, c);
    if (await exists(join(dir, probe))) return dir;
  }
  const tried = candidates.map((c) => `'${join(resolve(src), c, probe)}'`).join(', ');
  throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `no ${probe} under --src: looked for ${tried}; ${missing}`);
}

/** Sorted names in `dir` ending in `ext` (case-sensitive, as the scripts' globs), no dot files. */
export async function listFiles(dir: string, ext: string, what: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `${what} folder '${resolve(dir)}' cannot be read: ${(err as Error).message}`, { cause: err });
  }
  return names.filter((n) => n.endsWith(ext) && !n.startsWith('.')).sort();
}

/** Reads a whole file, also past the 2 GiB that fs.readFile allows (the ADE20K index pickle). */
export async function readWholeFile(path: string, what: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `${what} '${resolve(path)}' cannot be opened: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, Math.min(size - off, 1 << 30), off);
      check(bytesRead > 0, 'AHS_ERR_FILE_FORMAT', () => `${what} '${resolve(path)}' ended early at byte ${off} of ${size}`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; reports after each item. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
  onDone?: (done: number) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  // A failure stops handing out items and waits for those in flight, so that nothing is still
  // writing when the caller sees the error (a caller that then removes the output raced them).
  let failure: { err: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
        return;
      }
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
}

/**
 * Produces one output per input with the skip/count/progress bookkeeping every converter needs.
 * `make` returns false when it chose to write nothing for this input (counted as omitted).
 */
export async function runTask<T>(
  opts: PrepareOptions,
  task: string,
  dir: string,
  items: readonly T[],
  outPath: (item: T) => string,
  make: (item: T, out: string) => Promise<boolean>,
): Promise<PrepareTaskReport> {
  await mkdir(dir, { recursive: true });
  const report: PrepareTaskReport = { task, dir, written: 0, skipped: 0, omitted: 0 };
  const total = items.length;
  opts.onProgress?.({ task, done: 0, total });
  await forEachLimit(items, opts.concurrency ?? 4, async (item) => {
    const out = outPath(item);
    if (await isDone(out)) report.skipped++;
    else if (await make(item, out)) report.written++;
    else report.omitted++;
  }, (done) => opts.onProgress?.({ task, done, total }));
  opts.log?.(`${task}: ${report.written} written, ${report.skipped} already done` +
    `${report.omitted ? `, ${report.omitted} omitted` : ''} -> ${resolve(dir)}`);
  return report;
}

/** Hard-links `from` to `to` (a copy across file systems), atomically; no-op when present. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  if (await isDone(to)) return;
  await mkdir(dirname(to), { recursive: true });
  const tmp = join(dirname(to), `.${basename(to)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    try {
      await link(from, tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `image '${resolve(from)}' does not exist`, { cause: err });
      // Another file system, or one without hard links: copy instead.
      await copyFile(from, tmp);
    }
    await rename(tmp, to);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/**
 * Puts every `ext` file of `fromDir` into `toDir` (links). Skipped when both are the same folder,
 * i.e. when --src already is the layout under --root and the scripts' in-place use applies.
 */
export async function linkImages(opts: PrepareOptions, task: string, fromDir: string, toDir: string, ext: string, only?: ReadonlySet<string>): Promise<PrepareTaskReport> {
  await mkdir(toDir, { recursive: true });
  if ((await realpath(fromDir)) === (await realpath(toDir))) {
    opts.log?.(`${task}: already in place at ${resolve(toDir)}`);
    return { task, dir: toDir, written: 0, skipped: 0, omitted: 0 };
  }
  let names = await listFiles(fromDir, ext, task);
  if (only) names = names.filter((n) => only.has(n.slice(0, -ext.length)));
  return runTask(opts, task, toDir, names, (n) => join(toDir, n), async (n, out) => {
    await linkOrCopy(join(fromDir, n), out);
    return true;
  });
}

/** Writes a 16-bit grayscale TIFF (ADE-847, PC-459 ground truth) atomically. */
export async function writeLabelTiff16(path: string, labels: Uint16Array, width: number, height: number): Promise<void> {
  check(labels.length === width * height, 'AHS_ERR_SHAPE', () => `label map '${path}': ${labels.length} labels for ${width}x${height}`);
  const tif = await sharp(labels, { raw: { width, height, channels: 1 } }).toColourspace('grey16').tiff({ compression: 'lzw' }).toBuffer();
  await writeFileAtomic(path, tif);
}

/** Applies a lookup table (index = input value) to every pixel. */
export function applyLut<T extends Uint8Array | Uint16Array>(input: ArrayLike<number>, lut: ArrayLike<number>, out: T, fill: number): T {
  for (let i = 0; i < input.length; i++) {
    const v = input[i]!;
    out[i] = v < lut.length ? lut[v]! : fill;
  }
  return out;
}
