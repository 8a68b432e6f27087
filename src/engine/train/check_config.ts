// Training keys the trainer reads only to check them: choices with a single implementation are
// refused when set otherwise, and counts and periods get a range, each error naming the key.
import type { AhsConfig } from '../../config/index.js';
import { AhsError } from '../../errors.js';

const fail = (key: string, why: string): never => {
  throw new AhsError('AHS_ERR_CONFIG_VALUE', `${key}: ${why}`);
};

/** Training keys with a single implemented choice. */
export function checkTrainConfig(cfg: AhsConfig): void {
  if (cfg.INPUT.DATASET_MAPPER_NAME !== 'mask_former_semantic') fail('INPUT.DATASET_MAPPER_NAME', `'${cfg.INPUT.DATASET_MAPPER_NAME}' is not registered (mask_former_semantic)`);
  if (cfg.DATALOADER.SAMPLER_TRAIN !== 'TrainingSampler') fail('DATALOADER.SAMPLER_TRAIN', `'${cfg.DATALOADER.SAMPLER_TRAIN}' is not implemented (TrainingSampler)`);
  if (cfg.SOLVER.AMP.ENABLED) fail('SOLVER.AMP.ENABLED', 'mixed-precision training is not implemented; CAT-Seg trains in fp32');
  if (!(cfg.SOLVER.IMS_PER_BATCH >= 1)) fail('SOLVER.IMS_PER_BATCH', `must be at least 1, got ${cfg.SOLVER.IMS_PER_BATCH}`);
  if (!(cfg.SOLVER.MAX_ITER >= 1)) fail('SOLVER.MAX_ITER', `must be at least 1, got ${cfg.SOLVER.MAX_ITER}`);
  if (!(cfg.SOLVER.BASE_LR >= 0)) fail('SOLVER.BASE_LR', `must be non-negative, got ${cfg.SOLVER.BASE_LR}`);
  if (!(cfg.SOLVER.LOG_PERIOD >= 1)) fail('SOLVER.LOG_PERIOD', `must be at least 1, got ${cfg.SOLVER.LOG_PERIOD}`);
  if (cfg.SOLVER.CHECKPOINT_PERIOD < 0) fail('SOLVER.CHECKPOINT_PERIOD', `must be >= 0 (0 = only model_final), got ${cfg.SOLVER.CHECKPOINT_PERIOD}`);
  if (cfg.TEST.EVAL_PERIOD < 0) fail('TEST.EVAL_PERIOD', `must be >= 0 (0 = off), got ${cfg.TEST.EVAL_PERIOD}`);
  if (cfg.DATALOADER.NUM_WORKERS < 0) fail('DATALOADER.NUM_WORKERS', `must be >= 0, got ${cfg.DATALOADER.NUM_WORKERS}`);
}
