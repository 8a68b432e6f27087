// Node's file-system errors (ENOENT, EACCES, ENOTDIR, ENOSPC, ...) as AhsErrors that name the path
// and say what to do, so no `fs` failure reaches a user as a stack trace.
import { AhsError, printable } from '../errors.js';

/** A Node system error from `fs` (it carries an errno code and, usually, the path). */
export interface NodeFsError extends Error {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

export function isNodeFsError(e: unknown): e is NodeFsError {
  return e instanceof Error && typeof (e as NodeFsError).code === 'string' && /^E[A-Z]+$/.test((e as NodeFsError).code)
    && typeof (e as NodeFsError).syscall === 'string';
}

/** What went wrong with `path`, and the fix, per errno code. */
const ADVICE: Record<string, [code: AhsError['code'], what: string, fix: string]> = {
  ENOENT: ['AHS_ERR_FILE_NOT_FOUND', 'does not exist', 'check the path'],
  ENOTDIR: ['AHS_ERR_PATH', 'has a regular file where a folder is needed', 'choose a path whose parents are all folders'],
  EISDIR: ['AHS_ERR_PATH', 'is a folder where a file is needed', 'give a file path'],
  EEXIST: ['AHS_ERR_PATH', 'already exists as something else', 'remove it or choose another path'],
  EACCES: ['AHS_ERR_PATH', 'cannot be accessed: permission denied', 'choose a path you may read and write, or change its permissions'],
  EPERM: ['AHS_ERR_PATH', 'cannot be accessed: operation not permitted', 'choose a path you may read and write'],
  EROFS: ['AHS_ERR_PATH', 'lies on a read-only file system', 'choose a writable location'],
  ENAMETOOLONG: ['AHS_ERR_PATH', 'is too long a name for the file system', 'choose a shorter path'],
  ELOOP: ['AHS_ERR_PATH', 'goes through a loop of symbolic links', 'fix the links'],
  EMFILE: ['AHS_ERR_WRITE', 'could not be opened: too many open files', 'raise the limit (ulimit -n) or use fewer workers'],
  ENOSPC: ['AHS_ERR_WRITE', 'could not be written: the disk is full', 'free space or write elsewhere'],
  EDQUOT: ['AHS_ERR_WRITE', 'could not be written: disk quota exceeded', 'free space or write elsewhere'],
  EIO: ['AHS_ERR_WRITE', 'could not be read or written: I/O error', 'check the disk'],
};

/** The AhsError for a Node fs error; `what` names the role of the path (e.g. "--out"). */
export function fsErrorToAhs(e: NodeFsError, what?: string): AhsError {
  const [code, problem, fix] = ADVICE[e.code] ?? ['AHS_ERR_PATH', `failed (${e.code})`, 'check the path'];
  const path = e.path !== undefined ? `'${printable(e.path)}'` : 'a path';
  const role = what ? `${what} ` : '';
  return new AhsError(code, `${role}${path} ${problem} (${e.syscall ?? 'fs'} ${e.code}); ${fix}`, { cause: e });
}
