export { AdamW, type ParamGroup, type AdamWOptions, type AdamWStateDict } from './adamw.js';
export { clipGradNorm } from './clip_grad.js';
export { cosineLr, polyLr, warmupFactor, makeSchedule, type LrSchedule, type WarmupOptions, type WarmupMethod } from './lr_schedule.js';
