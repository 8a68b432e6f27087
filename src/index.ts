// ahs-seg's library API: `import { ... } from 'ahs-seg'`.
export * from './tensor/index.js';
export * from './nn/index.js';
export * from './optim/index.js';
export { AhsError, ERROR_CODES, type ErrorCode } from './errors.js';
export { loadTensors, saveTensors, rawToTensor } from './io/tensor_io.js';
export { readStateDict } from './io/state_dict.js';
export { openSafetensors, writeSafetensors } from './io/safetensors.js';
export { loadConfig, dumpConfig } from './config/index.js';
export { CLIP, clipConfigFromShapes, type ClipConfig } from './models/clip/clip_model.js';
export { loadClip, readClipStateDict } from './models/clip/weights.js';
export { ClipTokenizer } from './models/clip/tokenizer.js';
export { SemSegEvaluator } from './eval/sem_seg_evaluator.js';
export { evalMasks } from './eval/eval_masks.js';
export { VERSION } from './version.js';
