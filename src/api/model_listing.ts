// `ahs-seg models`: each catalog model with its download size and whether it is in the cache.
// A cached model's size is its files' size on disk; one not downloaded yet is sized from its
// parameter count (fp32 weights, which is what the hub's files hold, within a few percent).
import { statSync } from 'node:fs';
import { evalConfig } from '../engine/run_eval.js';
import { catSegModelBytes, clipParameterCount } from '../engine/model_memory.js';
import { cacheRoot } from '../models/clip/hub/cache_dir.js';
import { hubFileUrl, resolveEndpoint } from '../models/clip/hub/download.js';
import { KNOWN_CLIPS } from '../models/clip/known_models.js';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../package_paths.js';
import { cachedWeights } from './model_source.js';
import { DEFAULT_MODEL, MODELS, type CatalogModel, type ModelKind } from './models.js';

export interface ModelListing {
  name: string;
  kind: ModelKind;
  description: string;
  isDefault: boolean;
  /** Where the main weights file comes from. */
  url: string;
  bytes: number;
  /** 'cached': the size on disk; 'estimated': from the parameter count. */
  size: 'cached' | 'estimated';
  /** The cached weights file, or null when not downloaded yet. */
  cached: string | null;
  /** Where it goes once downloaded. */
  cacheDir: string;
}

export function listModels(opts: { cacheDir?: string; endpoint?: string } = {}): ModelListing[] {
  const root = opts.cacheDir ?? cacheRoot();
  const endpoint = resolveEndpoint(opts.endpoint);
  return MODELS.map((m) => {
    const cached = cachedWeights(m, root);
    const main = m.hub.files.at(-1)!;
    return {
      name: m.name, kind: m.kind, description: m.description, isDefault: m.name === DEFAULT_MODEL,
      url: hubFileUrl(endpoint, m.hub.repo, m.hub.revision, main),
      bytes: cached ? statSync(cached).size : estimatedBytes(m), size: cached ? 'cached' : 'estimated',
      cached, cacheDir: root,
    };
  });
}

function estimatedBytes(m: CatalogModel): number {
  if (m.kind === 'catseg') return catSegModelBytes(evalConfig(resolve(PACKAGE_ROOT, m.config!)));
  return 4 * clipParameterCount(KNOWN_CLIPS[m.clip!]!.config);
}
