// Positional reads with errors that name the file. Weight files are read piece by piece at known
// offsets (never slurped), so every read checks that the bytes it was promised are really there:
// a truncated download must say so, not return zeros or hang.

import * as fs from 'node:fs';
import { AhsError, check } from '../errors.js';
import { allocAligned } from './raw_tensor.js';

/** Opens `path` for reading; a missing file is AHS_ERR_FILE_NOT_FOUND, a directory is a format error. */
export function openForRead(path: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `${path}: no such file`, { cause: err });
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${path}: cannot open (${code ?? String(err)})`, { cause: err });
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${path}: not a regular file`);
  }
  return { fd, size: stat.size };
}

/** Runs `fn` with an open descriptor and always closes it. */
export function withFile<T>(path: string, fn: (fd: number, size: number) => T): T {
  const { fd, size } = openForRead(path);
  try {
    return fn(fd, size);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads exactly `length` bytes at `position` into a fresh aligned Buffer. `what` says what the
 * bytes are ("header", "tensor 'x'") for the error when the file ends early.
 */
export function readExactly(fd: number, path: string, position: number, length: number, what: string): Buffer {
  check(Number.isSafeInteger(position) && position >= 0 && Number.isSafeInteger(length) && length >= 0, 'AHS_ERR_FILE_FORMAT',
    () => `${path}: invalid range for ${what} (offset ${position}, length ${length})`);
  const buf = allocAligned(length);
  let done = 0;
  while (done < length) {
    // readSync caps one call at 2 GiB, so big tensors are read in chunks.
    const n = fs.readSync(fd, buf, done, Math.min(length - done, 1 << 30), position + done);
    if (n === 0) {
      throw new AhsError('AHS_ERR_FILE_FORMAT',
        `${path}: file is truncated: ${what} needs bytes ${position}..${position + length} but the file ends at ${position + done}`);
    }
    done += n;
  }
  return buf;
}

/** Fails when the file changed size since its index was read (re-downloaded under our feet). */
export function checkSameSize(path: string, size: number, expected: number): void {
  check(size === expected, 'AHS_ERR_FILE_FORMAT',
    () => `${path}: file changed since it was opened (size ${expected} -> ${size} bytes); open it again`);
}
