// The standard hooks of detectron2's DefaultTrainer, in its order: LR schedule, periodic
// checkpoints, periodic evaluation, and the writer of metrics.json and the progress line.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LrMultiplier } from './lr_scheduler.js';
import type { Trainer, TrainHook } from './trainer.js';

/** Sets the lr of iteration i to BASE_LR x multiplier(i) before the step (groups scale it). */
export class LrSchedulerHook implements TrainHook {
  constructor(private readonly baseLr: number, private readonly multiplier: LrMultiplier) {}
  beforeStep(t: Trainer): void {
    t.optimizer.lr = this.baseLr * this.multiplier(t.iter);
    t.storage.put('lr', t.optimizer.lr);
  }
}

/** Saves `model_{iter:07d}` every `period` iterations and `model_final` after the last one. */
export class PeriodicCheckpointerHook implements TrainHook {
  constructor(private readonly period: number, private readonly save: (name: string, t: Trainer) => Promise<void>) {}
  async afterStep(t: Trainer): Promise<void> {
    if (this.period > 0 && (t.iter + 1) % this.period === 0) await this.save(`model_${String(t.iter).padStart(7, '0')}`, t);
    if (t.iter >= t.maxIter - 1) await this.save('model_final', t);
  }
}

/** Evaluates every `period` iterations and once after training (detectron2's EvalHook). */
export class EvalHook implements TrainHook {
  constructor(private readonly period: number, private readonly evaluate: (t: Trainer) => Promise<Record<string, number>>) {}
  private async run(t: Trainer): Promise<void> {
    const wasTraining = t.model.training;
    t.model.eval();
    try {
      t.storage.putEval(await this.evaluate(t));
    } finally {
      t.model.train(wasTraining);
    }
  }
  async afterStep(t: Trainer): Promise<void> {
    const next = t.iter + 1;
    if (this.period > 0 && next % this.period === 0 && next !== t.maxIter) await this.run(t);
  }
  async afterTrain(t: Trainer): Promise<void> {
    // Only when training reached the end (not after an error part way).
    if (this.period > 0 && t.iter + 1 >= t.maxIter && t.lastLosses && Object.keys(t.lastLosses).length) await this.run(t);
  }
}

export interface WriterOptions {
  period: number;
  /** OUTPUT_DIR/metrics.json (JSON lines); null: console only. */
  metricsPath: string | null;
  imagesPerStep: number;
  log: (line: string) => void;
}

/**
 * One metrics.json line per period, with each scalar's mean over the period (so per-period lines
 * of a resumed run equal those of an uninterrupted one), and one progress line: iteration, ETA,
 * every loss term, lr, images/s, data time.
 */
export class PeriodicWriterHook implements TrainHook {
  constructor(private readonly o: WriterOptions) {
    if (o.metricsPath) mkdirSync(dirname(o.metricsPath), { recursive: true });
  }
  private write(t: Trainer): void {
    if (!t.storage.hasPending) return;
    const { scalars, evals } = t.storage.take();
    const line = { iteration: t.iter, ...scalars, ...(evals ?? {}) };
    if (this.o.metricsPath) appendFileSync(this.o.metricsPath, JSON.stringify(line) + '\n');
    if (Object.keys(scalars).length) this.o.log(progressLine(t, scalars, this.o.imagesPerStep));
    if (evals) this.o.log(`[eval] iter ${t.iter + 1}: ${Object.entries(evals).filter(([k]) => k.endsWith('mIoU')).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('  ')}`);
  }
  afterStep(t: Trainer): void {
    if ((t.iter + 1) % this.o.period === 0 || t.iter >= t.maxIter - 1) this.write(t);
  }
  afterTrain(t: Trainer): void {
    this.write(t);
  }
}

function fmtDuration(s: number): string {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

function progressLine(t: Trainer, s: Record<string, number>, imagesPerStep: number): string {
  const per = t.storage.recentIterTime();
  const eta = per !== null ? `eta ${fmtDuration(per * (t.maxIter - t.iter - 1))}  ` : '';
  const losses = Object.entries(s).filter(([k]) => k === 'total_loss' || k.startsWith('loss_')).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join('  ');
  const ips = s.time ? `${(imagesPerStep / s.time).toFixed(2)} img/s  ` : '';
  return `[train] iter ${t.iter + 1}/${t.maxIter}  ${eta}${losses}  lr ${(s.lr ?? 0).toExponential(3)}  ${ips}data ${(s.data_time ?? 0).toFixed(3)}s  time ${(s.time ?? 0).toFixed(3)}s`;
}
