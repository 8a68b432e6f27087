// A resumable evaluation: wraps a SemSegEvaluator and snapshots its state (processed keys +
// accumulated confusion matrix) to one JSON file every k images. Keys and counts are saved
// together, atomically, so after a crash the run restarts from the last snapshot and recounts
// exactly the images processed after it: the final matrix equals an uninterrupted run's.
//
// A fingerprint (benchmark, folders, class list, ... whatever the caller says defines the run)
// is stored with the state; a snapshot taken under a different fingerprint is refused rather
// than silently mixed into new counts.

import { readFile, unlink } from 'node:fs/promises';
import { AhsError, check } from '../errors.js';
import { writeFileAtomic } from '../io/atomic_write.js';
import type { GtLabels, PredLabels } from './confusion_matrix.js';
import type { SemSegEvaluator, SemSegEvaluatorState } from './sem_seg_evaluator.js';

export interface ResumableRunOptions {
  /** The state file, e.g. `<outDir>/eval_state.json`. */
  statePath: string;
  /** A fresh evaluator with the run's configuration; saved counts are loaded into it. */
  evaluator: SemSegEvaluator;
  /** JSON-serializable description of the run; must match the saved one to resume. */
  fingerprint: Record<string, unknown>;
  /** Snapshot after every `every` images (default 25). */
  every?: number;
  /** false: start over, discarding any saved state (default true). */
  resume?: boolean;
}

interface RunState {
  format: 'ahs-seg.resumable-run';
  version: 1;
  fingerprint: Record<string, unknown>;
  evaluator: SemSegEvaluatorState;
}

/** JSON with object keys sorted, so fingerprints compare independently of key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export class ResumableRun {
  readonly statePath: string;
  readonly evaluator: SemSegEvaluator;
  /** Images already counted when the run was opened (0 for a fresh run). */
  readonly resumedImages: number;
  private readonly fingerprint: Record<string, unknown>;
  private readonly every: number;
  private pending = 0;

  private constructor(opts: ResumableRunOptions, resumedImages: number) {
    this.statePath = opts.statePath;
    this.evaluator = opts.evaluator;
    this.fingerprint = opts.fingerprint;
    this.every = opts.every ?? 25;
    this.resumedImages = resumedImages;
  }

  /** Opens a run, loading the saved state at `statePath` when there is one and `resume` is on. */
  static async open(opts: ResumableRunOptions): Promise<ResumableRun> {
    const every = opts.every ?? 25;
    check(
      Number.isInteger(every) && every >= 1,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `ResumableRun: 'every' must be a positive integer, got ${every}`,
    );
    check(
      opts.evaluator.numImages === 0,
      'AHS_ERR_INVALID_ARGUMENT',
      () => `ResumableRun: the evaluator must be fresh, it already holds ${opts.evaluator.numImages} images`,
    );
    if (opts.resume === false) {
      await unlink(opts.statePath).catch(() => undefined);
      return new ResumableRun(opts, 0);
    }
    let text: string;
    try {
      text = await readFile(opts.statePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new ResumableRun(opts, 0);
      throw err;
    }
    let state: Partial<RunState>;
    try {
      state = JSON.parse(text) as Partial<RunState>;
    } catch (err) {
      throw new AhsError('AHS_ERR_FILE_FORMAT', `resume state '${opts.statePath}' is not valid JSON: ${(err as Error).message}`, {
        cause: err,
      });
    }
    check(
      state !== null && typeof state === 'object' && state.format === 'ahs-seg.resumable-run' && state.version === 1,
      'AHS_ERR_FILE_FORMAT',
      () => `resume state '${opts.statePath}' is not an ahs-seg resumable-run file (version 1)`,
    );
    const saved = canonical(state.fingerprint);
    const wanted = canonical(opts.fingerprint);
    if (saved !== wanted) {
      const a = (state.fingerprint ?? {}) as Record<string, unknown>;
      const b = opts.fingerprint;
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => canonical(a[k]) !== canonical(b[k]));
      throw new AhsError(
        'AHS_ERR_INVALID_ARGUMENT',
        `resume state '${opts.statePath}' belongs to a different run (differs in ${keys.join(', ')}); ` +
          `delete it, use another output folder, or disable resume`,
      );
    }
    opts.evaluator.loadState(state.evaluator, `resume state '${opts.statePath}'`);
    return new ResumableRun(opts, opts.evaluator.numImages);
  }

  /** Whether `key` is already counted (skip it when resuming). */
  isDone(key: string): boolean {
    return this.evaluator.has(key);
  }

  /** Counts one image and snapshots every `every` images. */
  async process(pred: PredLabels, gt: GtLabels, key: string): Promise<void> {
    this.evaluator.process(pred, gt, key);
    if (++this.pending >= this.every) await this.save();
  }

  /** Writes the snapshot now (call at the end of the run). */
  async save(): Promise<void> {
    const state: RunState = {
      format: 'ahs-seg.resumable-run',
      version: 1,
      fingerprint: this.fingerprint,
      evaluator: this.evaluator.toJSON(),
    };
    await writeFileAtomic(this.statePath, JSON.stringify(state));
    this.pending = 0;
  }
}
