// The CLIP checkpoints ahs-seg knows how to fetch from the Hugging Face hub, by name.
// CAT-Seg configs name the backbone OpenAI-style in MODEL.SEM_SEG_HEAD.CLIP_PRETRAINED
// ("ViT-B/16", "ViT-L/14@336px"); both spellings resolve to the same hub repository.

import { AhsError } from '../../../errors.js';

export interface HubModelSpec {
  /** Canonical name, the hub repository id. */
  readonly name: string;
  /** Hub repository id, `owner/name`. */
  readonly repo: string;
  /** Git revision (branch, tag or commit) the files are fetched at. */
  readonly revision: string;
  /** Files to fetch, relative to the repository root. */
  readonly files: readonly string[];
  /** Other names accepted for this model (OpenAI `clip.load` names). */
  readonly aliases: readonly string[];
  /** Files fetched instead of one the repository lacks (see ensureHubFiles). */
  readonly alternatives?: Readonly<Record<string, readonly string[]>>;
}

const CLIP_FILES = ['config.json', 'model.safetensors'] as const;
/** Repositories older than safetensors hold pytorch_model.bin (a torch.save zip) instead. */
const CLIP_ALTERNATIVES = Object.freeze({ 'model.safetensors': Object.freeze(['pytorch_model.bin']) });

export const HUB_MODELS: readonly HubModelSpec[] = Object.freeze([
  Object.freeze({
    name: 'openai/clip-vit-base-patch16',
    repo: 'openai/clip-vit-base-patch16',
    revision: 'main',
    files: CLIP_FILES,
    alternatives: CLIP_ALTERNATIVES,
    aliases: Object.freeze(['ViT-B/16']),
  }),
  Object.freeze({
    name: 'openai/clip-vit-large-patch14-336',
    repo: 'openai/clip-vit-large-patch14-336',
    revision: 'main',
    files: CLIP_FILES,
    alternatives: CLIP_ALTERNATIVES,
    aliases: Object.freeze(['ViT-L/14@336px']),
  }),
]);

/** Every accepted name (canonical names and aliases). */
export function knownModelNames(): string[] {
  return HUB_MODELS.flatMap((m) => [m.name, ...m.aliases]);
}

/**
 * Resolves a model name or alias (case-insensitive, surrounding blanks ignored) to its hub spec.
 * Throws AHS_ERR_INVALID_ARGUMENT listing the known names for anything else.
 */
export function resolveHubModel(name: string): HubModelSpec {
  const key = typeof name === 'string' ? name.trim().toLowerCase() : '';
  for (const m of HUB_MODELS) {
    if (m.name.toLowerCase() === key || m.aliases.some((a) => a.toLowerCase() === key)) return m;
  }
  throw new AhsError(
    'AHS_ERR_INVALID_ARGUMENT',
    `unknown CLIP model ${JSON.stringify(name)}; known models: ${knownModelNames().map((n) => JSON.stringify(n)).join(', ')}`,
  );
}
