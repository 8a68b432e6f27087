// Output locations are checked before any work starts: a results folder that is a regular file,
// lies under one, or cannot be written must fail in a second with the path named, not after an
// hour of evaluation with a stack trace.
import { accessSync, closeSync, constants, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AhsError, printable } from '../errors.js';
import { fsErrorToAhs, isNodeFsError } from './fs_error.js';

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch (e) {
    if (isNodeFsError(e) && (e.code === 'ENOENT' || e.code === 'ENOTDIR')) return null;
    throw e;
  }
}

/**
 * Makes sure `dir` is a folder this process can write, creating it (and missing parents) when
 * needed, and proves it by creating and removing a probe file. `what` names the option or key
 * (e.g. "--out") in the error. Returns the absolute path. `create: false` (a dry run) changes
 * nothing on disk: it checks permissions on the folder, or on its nearest existing ancestor.
 */
export function prepareOutputDir(dir: string, what: string, opts: { create?: boolean } = {}): string {
  const abs = resolve(dir);
  const shown = `${what} '${printable(dir)}'`;
  const st = statOrNull(abs);
  if (st && !st.isDirectory()) {
    throw new AhsError('AHS_ERR_PATH', `${shown} is an existing file, not a folder; give a folder path (a missing folder is created)`);
  }
  if (!st) {
    // Walk up to the nearest existing ancestor; it must be a folder. (Not mkdir -p: Node's
    // recursive mkdir loops forever on some paths under /proc.)
    const missing: string[] = [];
    let p = abs;
    let anc = statOrNull(p);
    while (!anc) {
      missing.unshift(p);
      const up = dirname(p);
      if (up === p) break;
      p = up;
      anc = statOrNull(p);
    }
    if (anc && !anc.isDirectory()) {
      throw new AhsError('AHS_ERR_PATH', `${shown} lies under '${printable(p)}', which is a regular file, not a folder; choose another location`);
    }
    if (opts.create === false) {
      checkAccess(p, `${shown}: the folder '${printable(p)}' it would be created in`);
      return abs;
    }
    for (const m of missing) {
      try {
        mkdirSync(m);
      } catch (e) {
        if (isNodeFsError(e) && e.code === 'EEXIST' && statOrNull(m)?.isDirectory()) continue; // made meanwhile
        if (isNodeFsError(e) && ['EACCES', 'EPERM', 'EROFS', 'ENOENT'].includes(e.code)) {
          throw new AhsError('AHS_ERR_PATH', `${shown}: cannot create the folder '${printable(m)}' (${e.code}: not writable there); choose a location you can write to`, { cause: e });
        }
        if (isNodeFsError(e)) throw fsErrorToAhs(e, shown);
        throw e;
      }
    }
  }
  if (opts.create === false) {
    checkAccess(abs, shown);
    return abs;
  }
  const probe = resolve(abs, `.ahs-seg-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    if (isNodeFsError(e) && e.code === 'EEXIST') return abs; // a stale probe: the folder is writable
    if (isNodeFsError(e)) {
      throw new AhsError('AHS_ERR_PATH', `${shown} is not writable (${e.code}); choose a folder you can write to, or change its permissions`, { cause: e });
    }
    throw e;
  }
  return abs;
}

function checkAccess(dir: string, shown: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new AhsError('AHS_ERR_PATH', `${shown} is not writable (${isNodeFsError(e) ? e.code : 'no access'}); choose a folder you can write to, or change its permissions`, { cause: e });
  }
}

/** The same check for a single output file: its folder must be writable and the path itself must
 * not be a folder. Returns the absolute path. */
export function prepareOutputFile(file: string, what: string): string {
  const abs = resolve(file);
  if (statOrNull(abs)?.isDirectory()) {
    throw new AhsError('AHS_ERR_PATH', `${what} '${printable(file)}' is a folder; give a file path`);
  }
  prepareOutputDir(dirname(abs), `${what} '${printable(file)}': its folder`);
  return abs;
}
