// Where downloaded hub files live on disk:
//   <cache>/hub/<owner>--<repo>/<revision>/<file>
// with <cache> = $AHS_SEG_CACHE, else $XDG_CACHE_HOME/ahs-seg, else ~/.cache/ahs-seg.

import { homedir } from 'node:os';
import path from 'node:path';
import { AhsError } from '../../../errors.js';

/** The cache root folder (absolute), from the environment. Empty variables count as unset. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const own = env.AHS_SEG_CACHE;
  if (own !== undefined && own !== '') return path.resolve(own);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && xdg !== '') return path.resolve(xdg, 'ahs-seg');
  return path.join(homedir(), '.cache', 'ahs-seg');
}

/** `owner/name` -> `owner--name` (also used for revisions such as `refs/pr/1`). */
export function flattenRepoId(id: string): string {
  return id.split('/').join('--');
}

function checkSegment(what: string, value: string, allowSlash: boolean): void {
  const parts = allowSlash ? value.split('/') : [value];
  const bad =
    value === '' ||
    value.includes('\\') ||
    value.includes('\0') ||
    parts.some((p) => p === '' || p === '.' || p === '..');
  if (bad) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `invalid ${what} ${JSON.stringify(value)} for the hub cache`);
}

/** Folder holding the files of `repo` at `revision`. */
export function repoCacheDir(repo: string, revision: string, root: string = cacheRoot()): string {
  checkSegment('repository id', repo, true);
  checkSegment('revision', revision, true);
  return path.join(path.resolve(root), 'hub', flattenRepoId(repo), flattenRepoId(revision));
}

/** Final path of `file` (relative to the repository root, `/`-separated) in the cache. */
export function cachedFilePath(repo: string, revision: string, file: string, root: string = cacheRoot()): string {
  checkSegment('file name', file, true);
  return path.join(repoCacheDir(repo, revision, root), ...file.split('/'));
}
