// detectron2's TrainerBase + SimpleTrainer: an iteration loop with hooks around it and one step
// = data, forward (named losses), weighted sum, backward, gradient clipping, optimizer step.
// Everything periodic (lr schedule, checkpoints, evaluation, metrics) is a hook (hooks.ts).
import { AhsError } from '../../errors.js';
import type { SegmentationModel, TrainingBatch } from '../../models/seg_model.js';
import { BackwardTape, tidy, type Tensor } from '../../tensor/index.js';
import type { GradClipper, Optimizer } from './build_optimizer.js';
import { EventStorage } from './event_storage.js';

export interface TrainHook {
  beforeTrain?(t: Trainer): void | Promise<void>;
  afterTrain?(t: Trainer): void | Promise<void>;
  beforeStep?(t: Trainer): void | Promise<void>;
  afterStep?(t: Trainer): void | Promise<void>;
}

/** Where batches come from: one call per micro-batch. */
export interface BatchSource {
  next(): Promise<{ batch: TrainingBatch; dataTimeMs: number; dispose(): void }>;
}

export interface TrainerOptions {
  model: SegmentationModel;
  optimizer: Optimizer;
  data: BatchSource;
  lossWeights: Record<string, number>;
  clipGradients: GradClipper;
  /** Micro-batches per optimizer step (gradient accumulation); each loss is divided by it. */
  accumulationSteps?: number;
  /** Data parallelism (src/distributed/data_parallel.ts): gradients averaged over the processes before
   * clipping, loss terms averaged for the logs. */
  sync?: GradientSync;
}

/** What the trainer needs from data parallelism. */
export interface GradientSync {
  averageGradients(params: readonly Tensor[]): Promise<void>;
  averageScalars(values: Record<string, number>): Promise<Record<string, number>>;
}

export class Trainer {
  readonly storage = new EventStorage();
  iter = 0;
  startIter = 0;
  maxIter = 0;
  readonly hooks: TrainHook[] = [];
  /** The last step's (unweighted) loss terms, for hooks. */
  lastLosses: Record<string, number> = {};

  constructor(readonly opts: TrainerOptions) {}

  register(...hooks: TrainHook[]): this {
    this.hooks.push(...hooks);
    return this;
  }

  get model(): SegmentationModel {
    return this.opts.model;
  }

  get optimizer(): Optimizer {
    return this.opts.optimizer;
  }

  /** Runs iterations [startIter, maxIter); hooks see every boundary, afterTrain runs even on error. */
  async train(startIter: number, maxIter: number): Promise<void> {
    this.startIter = this.iter = startIter;
    this.maxIter = maxIter;
    this.model.train();
    try {
      for (const h of this.hooks) await h.beforeTrain?.(this);
      for (this.iter = startIter; this.iter < maxIter; this.iter++) {
        this.storage.iter = this.iter;
        for (const h of this.hooks) await h.beforeStep?.(this);
        await this.runStep();
        for (const h of this.hooks) await h.afterStep?.(this);
      }
      this.iter = maxIter - 1; // detectron2: after the loop, iter is the last finished one
    } finally {
      for (const h of this.hooks) await h.afterTrain?.(this);
    }
  }

  /** One optimizer step over `accumulationSteps` micro-batches. */
  async runStep(): Promise<void> {
    const steps = this.opts.accumulationSteps ?? 1;
    const t0 = performance.now();
    let dataMs = 0;
    const sums: Record<string, number> = {};
    this.optimizer.zeroGrad();
    for (let m = 0; m < steps; m++) {
      const { batch, dataTimeMs, dispose } = await this.opts.data.next();
      dataMs += dataTimeMs;
      try {
        const tape = new BackwardTape();
        const values = tidy(() => {
          try {
            const { losses } = this.model.forwardTrain(batch, { tape });
            const vals = this.checkLosses(losses);
            tape.backward(total(losses, this.opts.lossWeights, steps));
            return vals;
          } finally {
            tape.dispose();
          }
        });
        for (const [k, v] of Object.entries(values)) sums[k] = (sums[k] ?? 0) + v / steps;
      } finally {
        dispose();
      }
    }
    const params = this.model.trainableParameters().map(([, t]) => t);
    const sync = this.opts.sync;
    const tSync = performance.now();
    if (sync) await sync.averageGradients(params);
    const syncMs = performance.now() - tSync;
    const norm = this.opts.clipGradients(params);
    this.optimizer.step();
    this.optimizer.zeroGrad();
    const losses = sync ? await sync.averageScalars(sums) : sums;
    this.lastLosses = losses;
    let totalLoss = 0;
    for (const [k, v] of Object.entries(losses)) {
      this.storage.put(k, v);
      totalLoss += v * this.opts.lossWeights[k]!;
    }
    this.storage.put('total_loss', totalLoss);
    if (norm !== null) this.storage.put('grad_norm', norm);
    this.storage.put('data_time', dataMs / 1000);
    if (sync) this.storage.put('sync_time', syncMs / 1000); // the gradient allreduce (and waiting for the slowest process)
    this.storage.putIterTime((performance.now() - t0) / 1000);
  }

  /** Every term must have a weight and a finite value; a NaN stops the run before the update. */
  private checkLosses(losses: Record<string, Tensor>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, t] of Object.entries(losses)) {
      if (!(k in this.opts.lossWeights)) {
        throw new AhsError('AHS_ERR_CONFIG_VALUE', `the model returned loss '${k}' but the config gives it no weight (known: ${Object.keys(this.opts.lossWeights).join(', ')})`);
      }
      const v = t.item();
      if (!Number.isFinite(v)) {
        throw new AhsError('AHS_ERR_TRAINING', `loss '${k}' is ${v} at iteration ${this.iter}; training stopped before the update, so the last checkpoint holds the last good weights (lower SOLVER.BASE_LR, enable SOLVER.CLIP_GRADIENTS, or check the data)`);
      }
      out[k] = v;
    }
    return out;
  }
}

/** sum_k w_k * loss_k / steps, as one scalar to back-propagate. */
function total(losses: Record<string, Tensor>, weights: Record<string, number>, steps: number): Tensor {
  let acc: Tensor | null = null;
  for (const [k, t] of Object.entries(losses)) {
    const term = t.mul(weights[k]! / steps);
    acc = acc ? acc.add(term) : term;
  }
  if (!acc) throw new AhsError('AHS_ERR_TRAINING', 'the model returned no losses in training mode');
  return acc;
}
