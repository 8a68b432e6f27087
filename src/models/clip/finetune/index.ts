// CLIP fine-tuning modes: CAT-Seg's Q/V rule and H-CLIP's orthogonal fine-tuning.
export { cayley, mulBlockDiagLeft, mulBlockDiagRight } from './cayley.js';
export { HclipTransform, OFT_MATRICES, OFT_PARAM_NAMES, OftRelation, oftStateDictFromHclip, relationGenerators, type OftRelationOptions, type OftTower, type OftTransform } from './oft_relation.js';
export { applyClipFinetune, attachOft, catsegTrainable, detachOft, type ClipFinetuneMode, type ClipFinetuneOptions, type ClipFinetuneResult } from './modes.js';
