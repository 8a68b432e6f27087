// The models `createSegmenter({ model })`, `ahs-seg segment --model` and `ahs-seg models` know by
// name, and where each one's files live on the Hugging Face hub. CAT-Seg's CVPR'24 checkpoints
// are in a Space (spaces/hamacojr/CAT-Seg-weights), not in a model repository; the checkpoints
// of the model repository hamacojr/CAT-Seg (model_final_*.pth) are the pre-CVPR architecture,
// which ahs-seg does not implement (legacy_catseg.ts says so when one is given).
import { AhsError } from '../errors.js';
import type { HubFilesSpec } from '../models/clip/hub/download.js';
import { resolveHubModel } from '../models/clip/hub/registry.js';

export type ModelKind = 'training-free' | 'catseg';

export interface CatalogModel {
  readonly name: string;
  readonly kind: ModelKind;
  readonly description: string;
  /** The hub files, fetched on first use into the cache. */
  readonly hub: HubFilesSpec;
  /** catseg: the shipped config the checkpoint was trained with. */
  readonly config?: string;
  /** training-free: the CLIP architecture (a KNOWN_CLIPS name), for its size. */
  readonly clip?: string;
}

const clipHub = (name: string): HubFilesSpec => {
  const s = resolveHubModel(name);
  return { name: s.name, repo: s.repo, revision: s.revision, files: s.files, kind: 'CLIP model', ...(s.alternatives ? { alternatives: s.alternatives } : {}) };
};

export const CATSEG_SPACE = 'spaces/hamacojr/CAT-Seg-weights';

export const MODELS: readonly CatalogModel[] = Object.freeze([
  {
    name: 'clip-vit-b16', kind: 'training-free', clip: 'ViT-B/16',
    description: 'OpenAI CLIP ViT-B/16 with the training-free NACLIP + PAMR (no segmentation training)',
    hub: clipHub('openai/clip-vit-base-patch16'),
  },
  {
    name: 'catseg-vitb', kind: 'catseg', config: 'configs/vitb_384.yaml',
    description: "CAT-Seg ViT-B/16 (CVPR'24), trained on COCO-Stuff",
    hub: { name: 'catseg-vitb', repo: CATSEG_SPACE, revision: 'main', files: ['model_base.pth'], kind: 'CAT-Seg checkpoint' },
  },
  {
    name: 'catseg-vitl', kind: 'catseg', config: 'configs/vitl_336.yaml',
    description: "CAT-Seg ViT-L/14@336px (CVPR'24), trained on COCO-Stuff",
    hub: { name: 'catseg-vitl', repo: CATSEG_SPACE, revision: 'main', files: ['model_large.pth'], kind: 'CAT-Seg checkpoint' },
  },
] satisfies CatalogModel[]);

/** What runs when no model is named: training-free, so nothing but CLIP is downloaded. */
export const DEFAULT_MODEL = 'clip-vit-b16';

/** The catalog entry called `name` (case and surrounding blanks ignored), or undefined. */
export function findCatalogModel(name: string): CatalogModel | undefined {
  const key = name.trim().toLowerCase();
  return MODELS.find((m) => m.name === key);
}

export function catalogModel(name: string): CatalogModel {
  const m = findCatalogModel(name);
  if (!m) throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `unknown model '${name}'; known models: ${MODELS.map((x) => x.name).join(', ')} (or a path to a checkpoint or to CLIP weights)`);
  return m;
}
