// Where CLIP weights come from: a file path, or a model name fetched (once) from the hub cache.
import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { AhsError, printable } from '../errors.js';
import { knownModelNames, resolveHubModel } from '../models/clip/hub/registry.js';
import { ensureModelFiles, type EnsureModelOptions } from '../models/clip/hub/download.js';
import { createProgressReporter } from '../progress.js';

/** A weight file for `nameOrPath`: the path itself when it exists, else the hub model's
 * model.safetensors (downloaded on first use into the cache; see models/clip/hub). */
export async function resolveClipWeights(nameOrPath: string, opts: { quiet?: boolean; download?: EnsureModelOptions } = {}): Promise<string> {
  if (existsSync(nameOrPath)) {
    if (!statSync(nameOrPath).isDirectory()) return nameOrPath;
    // A Hugging Face model folder (model.safetensors, or the older pytorch_model.bin, + config.json).
    for (const f of ['model.safetensors', 'pytorch_model.bin']) if (existsSync(join(nameOrPath, f))) return join(nameOrPath, f);
    throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `CLIP weights: '${printable(nameOrPath)}' is a folder without model.safetensors or pytorch_model.bin; give the weights file itself`);
  }
  if (!isKnownModel(nameOrPath) && looksLikePath(nameOrPath)) {
    throw new AhsError('AHS_ERR_FILE_NOT_FOUND',
      `CLIP weights file '${printable(nameOrPath)}' not found (resolved to ${resolve(nameOrPath)}); give an existing file, or a hub model name: ${knownModelNames().join(', ')}`);
  }
  const files = await ensureModelFiles(nameOrPath, opts.download ?? (opts.quiet ? {} : { onProgress: createProgressReporter() }));
  return files.files['model.safetensors'] ?? join(files.dir, 'model.safetensors');
}

/** A CLIP name the hub registry knows (openai/clip-vit-base-patch16, ...). */
export function isKnownModel(name: string): boolean {
  try {
    resolveHubModel(name);
    return true;
  } catch {
    return false;
  }
}

/** A name meant as a file: a weights (or config) extension, or a path that starts like one. (A hub
 * name such as openai/clip-vit-base-patch16 has a slash too, so a slash alone does not count.) */
export function looksLikePath(s: string): boolean {
  return /^(\.{1,2}[\\/]|[\\/]|~|[A-Za-z]:[\\/])/.test(s) || /[\\/]$/.test(s)
    || ['.safetensors', '.pt', '.pth', '.bin', '.ckpt', '.npz', '.yaml'].includes(extname(s).toLowerCase());
}
