// CAT-Seg's first public checkpoints (hamacojr/CAT-Seg on the hub: model_final_base.pth,
// model_final_large.pth, model_final_huge.pth, model_final_giant.pth, March 2023) belong to the
// pre-CVPR architecture: a separate guidance backbone (ResNet-101 for B, Swin-B for L/H/G) under
// `backbone.*`, where the CVPR'24 model takes its decoder guidance from CLIP's own blocks through
// `upsample1` / `upsample2`. ahs-seg implements the CVPR'24 model only; such a file is refused
// with the names of the checkpoints that do load, instead of a list of 400 unexpected keys.
import { basename } from 'node:path';
import { AhsError, printable } from '../errors.js';
import { CATSEG_SPACE } from './models.js';

/** The file names of the pre-CVPR checkpoints in hamacojr/CAT-Seg. */
export const LEGACY_CATSEG_FILE = /^model_final_(base|large|huge|giant)\.pth$/i;
/** A hub id or URL of the pre-CVPR model repository (not the Space CAT-Seg-weights). */
const LEGACY_REPO = /(^|huggingface\.co\/)hamacojr\/CAT-Seg(\/|$)/i;

const ADVICE = `ahs-seg implements the CVPR'24 CAT-Seg, whose checkpoints are in the Space ${CATSEG_SPACE}: ` +
  `use --model catseg-vitb or catseg-vitl (model_base.pth / model_large.pth, downloaded on first use)`;

/** The guidance-backbone keys that mark a pre-CVPR checkpoint, or [] for any other. */
export function legacyBackboneKeys(keys: Iterable<string>): string[] {
  const found: string[] = [];
  for (const k of keys) if (k.startsWith('backbone.')) found.push(k);
  return found;
}

/** Throws for a state dict of the pre-CVPR architecture (recognised by its keys). */
export function checkNotLegacyByKeys(path: string, keys: readonly string[]): void {
  const backbone = legacyBackboneKeys(keys);
  if (backbone.length === 0 || keys.includes('upsample1.weight')) return;
  const kind = backbone.some((k) => k.includes('patch_embed') || k.includes('.blocks.')) ? 'Swin-B' : 'ResNet-101';
  throw new AhsError('AHS_ERR_STATE_DICT',
    `'${printable(path)}' is a pre-CVPR CAT-Seg checkpoint (recognised by its keys: ${backbone.length} under 'backbone.', e.g. '${backbone[0]}', ` +
    `a separate ${kind} guidance backbone that the CVPR'24 model does not have, and no 'upsample1.weight'), ` +
    `like hamacojr/CAT-Seg's model_final_*.pth; ${ADVICE}`);
}

/** Throws for a hub id, URL or missing file that names the pre-CVPR checkpoints (recognised by
 * name: there is no file to read keys from). */
export function checkNotLegacyByName(nameOrPath: string): void {
  const file = basename(nameOrPath);
  if (!LEGACY_REPO.test(nameOrPath) && !LEGACY_CATSEG_FILE.test(file)) return;
  throw new AhsError('AHS_ERR_STATE_DICT',
    `'${printable(nameOrPath)}' names a pre-CVPR CAT-Seg checkpoint (recognised by its name: hamacojr/CAT-Seg's model_final_*.pth ` +
    `are the March 2023 architecture with a ResNet-101 / Swin-B guidance backbone); ${ADVICE}`);
}
