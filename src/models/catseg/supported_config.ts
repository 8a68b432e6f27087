// Config keys that choose behaviour CAT-Seg's builder does not have. A value other than the one
// implemented is an error naming the key, never a silent no-op: a user who switches on MH-FPN
// must not get the baseline without a word.
import type { AhsConfig } from '../../config/index.js';
import { AhsError } from '../../errors.js';

const fail = (key: string, why: string): never => {
  throw new AhsError('AHS_ERR_CONFIG_VALUE', `${key}: ${why}`);
};

/** Model keys the CATSeg builder reads only to refuse what it cannot build. */
export function checkCatSegModelConfig(cfg: AhsConfig): void {
  const h = cfg.MODEL.SEM_SEG_HEAD;
  if (h.NAME !== 'CATSegHead') fail('MODEL.SEM_SEG_HEAD.NAME', `'${h.NAME}' is not a registered head (CATSegHead)`);
  if (h.PROMPT_DEPTH !== 0 || h.PROMPT_LENGTH !== 0) fail('MODEL.SEM_SEG_HEAD.PROMPT_DEPTH / PROMPT_LENGTH', `visual prompt tuning (${h.PROMPT_DEPTH} / ${h.PROMPT_LENGTH}) is not implemented; CAT-Seg's released configs use 0 / 0`);
  if (!Number.isInteger(h.CHECKPOINT_CLASS_CHUNK) || h.CHECKPOINT_CLASS_CHUNK < 0) fail('MODEL.SEM_SEG_HEAD.CHECKPOINT_CLASS_CHUNK', `must be an integer >= 0 (0 = off), got ${h.CHECKPOINT_CLASS_CHUNK}`);
  const cm = cfg.MODEL.CLIP_PIXEL_MEAN, cs = cfg.MODEL.CLIP_PIXEL_STD;
  if (cm.length !== 3 || cs.length !== 3 || cs.some((v) => !(v > 0))) fail('MODEL.CLIP_PIXEL_MEAN / CLIP_PIXEL_STD', 'need three values each, std positive');
}
