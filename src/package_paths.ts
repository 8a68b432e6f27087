// Files shipped with the package (configs/, assets/) are found relative to the package, not to
// the working directory: `ahs-seg segment --weights w.pth` run from any folder finds its default
// config, and `--config-file configs/vitl_336.yaml` names the shipped file wherever it runs.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the folder above src/ (or dist/ once built). */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The shipped config CAT-Seg's checkpoints are trained with. */
export const DEFAULT_CONFIG = 'configs/vitb_384.yaml';

/** `path` as given when it exists (or is absolute); else, for a relative path that names a
 * shipped file (e.g. `configs/vitb_384.yaml`), that file in the package. */
export function resolveShippedPath(path: string): string {
  if (isAbsolute(path) || existsSync(path)) return path;
  const shipped = join(PACKAGE_ROOT, path);
  return existsSync(shipped) ? resolve(shipped) : path;
}
