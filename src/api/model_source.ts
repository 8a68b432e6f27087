// What a `model` argument names, and where its files are: a catalog name (models.ts, fetched from
// the hub on first use), a checkpoint of `ahs-seg train` (its OUTPUT_DIR, or a checkpoint file
// with config.yaml beside it), a CAT-Seg / H-CLIP checkpoint with a config, or CLIP weights alone
// (a file, a Hugging Face folder, or a hub CLIP name), which run the training-free method.
// planModel decides without downloading anything (for checks and --dry-run); fetchModel then
// downloads what the plan needs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AhsError, printable } from '../errors.js';
import { readStateDict } from '../io/state_dict.js';
import { isKnownModel, looksLikePath, resolveClipWeights } from '../engine/clip_weights.js';
import { ensureHubFiles, type EnsureModelOptions } from '../models/clip/hub/download.js';
import { cachedFilePath } from '../models/clip/hub/cache_dir.js';
import { knownModelNames } from '../models/clip/hub/registry.js';
import { PACKAGE_ROOT, resolveShippedPath } from '../package_paths.js';
import { checkNotLegacyByKeys, checkNotLegacyByName } from './legacy_catseg.js';
import { findCatalogModel, MODELS, type CatalogModel, type ModelKind } from './models.js';

export interface ModelPlan {
  kind: ModelKind;
  /** The name given (a catalog name, a path or a hub CLIP name). */
  name: string;
  /** catseg: the config the checkpoint is built from. */
  config?: string;
  /** A local weights file (checkpoint or CLIP), when there is one. */
  weights?: string;
  /** A catalog model, fetched by fetchModel. */
  catalog?: CatalogModel;
  /** training-free: CLIP weights as `--clip` takes them (a file, a Hugging Face folder or a hub
   * CLIP name such as openai/clip-vit-base-patch16), found or fetched by fetchModel. */
  clip?: string;
}

/** A plan whose files are all on disk. */
export type ModelSource =
  | { kind: 'training-free'; name: string; clipWeights: string }
  | { kind: 'catseg'; name: string; weights: string; config: string };

export interface PlanOptions {
  /** The config of a checkpoint file (default: config.yaml beside it). */
  config?: string;
  /** What the option that gave the name is called, for messages (default "model"). */
  option?: string;
  /** The name must be a segmentation checkpoint (`--weights`): refuse CLIP weights. */
  checkpoint?: boolean;
}

const isCheckpointKey = (k: string) => k.startsWith('sem_seg_head.');

/** What `nameOrPath` is, without downloading. Throws AhsError naming the option and the file. */
export function planModel(nameOrPath: string, opts: PlanOptions = {}): ModelPlan {
  const option = opts.option ?? 'model';
  if (typeof nameOrPath !== 'string' || nameOrPath.trim() === '') throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${option}: give a model name (${MODELS.map((m) => m.name).join(', ')}) or a path`);
  const catalog = existsSync(nameOrPath) ? undefined : findCatalogModel(nameOrPath);
  if (catalog) {
    if (opts.config !== undefined) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${option} ${catalog.name} comes with its own config (${catalog.config ?? 'none'}); drop the config option`);
    const plan: ModelPlan = { kind: catalog.kind, name: catalog.name, catalog };
    if (catalog.config) plan.config = resolve(PACKAGE_ROOT, catalog.config); // the shipped file, wherever this runs
    return plan;
  }
  if (!existsSync(nameOrPath)) {
    checkNotLegacyByName(nameOrPath);
    if (!opts.checkpoint && isKnownModel(nameOrPath)) return { kind: 'training-free', name: nameOrPath, clip: nameOrPath };
    if (looksLikePath(nameOrPath) || opts.checkpoint) {
      throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `${option} '${printable(nameOrPath)}' not found (resolved to ${resolve(nameOrPath)})`);
    }
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT',
      `${option} '${printable(nameOrPath)}' is not a known model (${MODELS.map((m) => m.name).join(', ')}), a hub CLIP (${knownModelNames().join(', ')}) or an existing path`);
  }
  if (statSync(nameOrPath).isDirectory()) return planFolder(nameOrPath, opts, option);
  return planFile(nameOrPath, opts, option);
}

/** CLIP weights for the training-free method, checked when they are fetched (resolveClipWeights,
 * then loadClip, which says which option takes a segmentation checkpoint given here). */
export function planClip(clip: string): ModelPlan {
  return { kind: 'training-free', name: clip, clip };
}

/** An OUTPUT_DIR of `ahs-seg train` (config.yaml + last_checkpoint), or a Hugging Face CLIP folder. */
function planFolder(dir: string, opts: PlanOptions, option: string): ModelPlan {
  if (existsSync(join(dir, 'config.yaml'))) {
    const last = join(dir, 'last_checkpoint');
    const file = existsSync(last) ? readFileSync(last, 'utf8').trim() : 'model_final.safetensors';
    const weights = join(dir, file);
    if (!existsSync(weights)) {
      throw new AhsError('AHS_ERR_FILE_NOT_FOUND', `${option} '${printable(dir)}' has config.yaml but no checkpoint ${file}${existsSync(last) ? ' (named by last_checkpoint)' : ''}; has the training run saved one?`);
    }
    return planFile(weights, { ...opts, config: opts.config ?? join(dir, 'config.yaml') }, option);
  }
  for (const f of ['model.safetensors', 'pytorch_model.bin']) if (existsSync(join(dir, f))) return planFile(join(dir, f), opts, option);
  throw new AhsError('AHS_ERR_FILE_NOT_FOUND',
    `${option} '${printable(dir)}' is a folder with neither config.yaml and a checkpoint (an \`ahs-seg train\` OUTPUT_DIR) nor model.safetensors / pytorch_model.bin (CLIP weights)`);
}

function planFile(path: string, opts: PlanOptions, option: string): ModelPlan {
  const keys = [...readStateDict(path).keys()];
  checkNotLegacyByKeys(path, keys);
  if (!keys.some(isCheckpointKey)) {
    if (opts.checkpoint) {
      throw new AhsError('AHS_ERR_STATE_DICT', `${option} '${printable(path)}' is not a segmentation checkpoint (no 'sem_seg_head.' keys); CLIP weights alone go to --clip or --model, which run the training-free method`);
    }
    if (opts.config !== undefined) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${option} '${printable(path)}' holds CLIP weights alone (the training-free method runs); a config applies to a segmentation checkpoint`);
    return { kind: 'training-free', name: path, weights: path };
  }
  const beside = join(dirname(path), 'config.yaml');
  const config = opts.config ?? (existsSync(beside) ? beside : undefined);
  if (config === undefined) {
    throw new AhsError('AHS_ERR_FILE_NOT_FOUND',
      `${option} '${printable(path)}' is a segmentation checkpoint without a config.yaml beside it; put the config it was trained with there (as \`ahs-seg train\` does), or name it (--config-file)`);
  }
  return { kind: 'catseg', name: path, weights: path, config: resolveShippedPath(config) };
}

/** Downloads what the plan needs (nothing for local files) and says where everything is. */
export async function fetchModel(plan: ModelPlan, download: EnsureModelOptions = {}): Promise<ModelSource> {
  if (plan.catalog) {
    const got = await ensureHubFiles(plan.catalog.hub, download);
    if (plan.kind === 'catseg') return { kind: 'catseg', name: plan.name, weights: got.files[plan.catalog.hub.files[0]!]!, config: plan.config! };
    return { kind: 'training-free', name: plan.name, clipWeights: got.files['model.safetensors']! };
  }
  if (plan.clip) return { kind: 'training-free', name: plan.name, clipWeights: await resolveClipWeights(plan.clip, { download }) };
  if (plan.kind === 'catseg') return { kind: 'catseg', name: plan.name, weights: plan.weights!, config: plan.config! };
  return { kind: 'training-free', name: plan.name, clipWeights: plan.weights! };
}

/** The cached path of a catalog model's weights file, or null when it is not downloaded yet. */
export function cachedWeights(m: CatalogModel, cacheDir?: string): string | null {
  const main = m.hub.files.at(-1)!;
  for (const f of [main, ...(m.hub.alternatives?.[main] ?? [])]) {
    const p = cachedFilePath(m.hub.repo, m.hub.revision, f, cacheDir);
    if (existsSync(p)) return p; // renamed into place only once complete
  }
  return null;
}

