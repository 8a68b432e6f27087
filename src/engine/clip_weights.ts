// Where CLIP weights come from: a file path, or a model name fetched (once) from the hub cache.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureModelFiles } from '../models/clip/hub/download.js';
import { createProgressReporter } from '../progress.js';

/** A weight file for `nameOrPath`: the path itself when it exists, else the hub model's
 * model.safetensors (downloaded on first use into the cache; see models/clip/hub). */
export async function resolveClipWeights(nameOrPath: string, opts: { quiet?: boolean } = {}): Promise<string> {
  if (existsSync(nameOrPath)) return nameOrPath;
  const files = await ensureModelFiles(nameOrPath, opts.quiet ? {} : { onProgress: createProgressReporter() });
  return files.files['model.safetensors'] ?? join(files.dir, 'model.safetensors');
}
