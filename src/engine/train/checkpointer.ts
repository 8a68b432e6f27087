// detectron2's Checkpointer for training runs: `model_0004999.safetensors` (the 0-based iteration
// just finished) and `model_final.safetensors`, with a `last_checkpoint` file naming the newest.
// One file holds everything an exact resume needs: the model's tensors under their own names (so
// `ahs-seg eval --weights` reads it as it is), the optimizer's moments under a reserved prefix,
// and in the header the iteration, optimizer settings, RNG states, the loader's position, the
// seed and the merged config.
//
// Writes are atomic (temp file, fsync, rename; then last_checkpoint the same way): a run killed
// or a disk filling up mid-write leaves the previous checkpoint and last_checkpoint as they were.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic_write.js';
import { TRAINER_STATE_PREFIX } from '../../io/checkpoint_keys.js';
import { writeSafetensors } from '../../io/safetensors.js';
import type { RawTensor } from '../../io/raw_tensor.js';
import { loadTensors } from '../../io/tensor_io.js';
import { AhsError } from '../../errors.js';
import { dispose, type Tensor } from '../../tensor/index.js';

export const CHECKPOINT_FORMAT = 'ahs-seg/train-checkpoint';

/** What the trainer stores next to the tensors (JSON in the safetensors header). */
export interface TrainerState {
  /** The 0-based iteration just finished; a resumed run starts at iteration + 1. */
  iteration: number;
  seed: number;
  /** Optimizer settings and step counts (the tensors are stored separately). */
  optimizer: { kind: string; meta: unknown };
  /** Default-generator states, base64, by device ('cpu', 'cuda:0', ...). */
  rng: Record<string, string>;
  /** The training loader's position (batch planner state). */
  loader: unknown;
  /** A data-parallel run's per-process generators and loader positions, by rank (rng and loader
   * above are rank 0's); absent for one process. */
  ranks?: RankState[];
}

/** One process's generators and data position. */
export interface RankState {
  rng: Record<string, string>;
  loader: unknown;
}

export interface SavedCheckpoint { path: string; state: TrainerState }

export type SafetensorsWriter = (path: string, tensors: Map<string, RawTensor>, metadata: Record<string, string>) => void;

export class Checkpointer {
  constructor(readonly dir: string, private readonly write: SafetensorsWriter = writeSafetensors) {}

  static fileName(name: string): string {
    return `${name}.safetensors`;
  }

  /**
   * Saves `name` (model_0004999 / model_final) and points last_checkpoint at it. On failure the
   * error says which file could not be written and that the previous one is intact.
   */
  async save(name: string, model: Map<string, Tensor>, optimizerTensors: Map<string, Tensor>, state: TrainerState, configYaml: string): Promise<string> {
    const file = Checkpointer.fileName(name);
    const path = join(this.dir, file);
    const raw = new Map<string, RawTensor>();
    for (const [k, t] of model) raw.set(k, { dtype: t.dtype, shape: t.shape, data: t.bytes() });
    for (const [k, t] of optimizerTensors) raw.set(`${TRAINER_STATE_PREFIX}optimizer.${k}`, { dtype: t.dtype, shape: t.shape, data: t.bytes() });
    const previous = this.lastCheckpoint();
    try {
      this.write(path, raw, { format: CHECKPOINT_FORMAT, version: '1', trainer: JSON.stringify(state), config: configYaml });
      await writeFileAtomic(join(this.dir, 'last_checkpoint'), file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      const reason = e.cause?.code ?? e.code ?? '';
      const why = reason === 'ENOSPC' ? 'the disk is full' : reason === 'EACCES' || reason === 'EROFS' ? `the folder is not writable (${reason})` : (err as Error).message;
      throw new AhsError('AHS_ERR_WRITE', `could not save checkpoint ${path}: ${why}; ` +
        (previous ? `the previous checkpoint ${previous} is intact (resume with --resume)` : 'no earlier checkpoint exists'), { cause: err });
    }
    return path;
  }

  /** Path of the newest checkpoint (from last_checkpoint), or null. */
  lastCheckpoint(): string | null {
    const f = join(this.dir, 'last_checkpoint');
    if (!existsSync(f)) return null;
    const name = readFileSync(f, 'utf8').trim();
    const p = join(this.dir, name);
    return name && existsSync(p) ? p : null;
  }

  /** Leftover temp files of writes that were killed (they are never valid checkpoints). */
  removeStaleTemporaries(): void {
    if (!existsSync(this.dir)) return;
    for (const n of readdirSync(this.dir)) if (/\.safetensors\.tmp-\d+$/.test(n)) rmSync(join(this.dir, n), { force: true });
  }
}

/** Reads a training checkpoint: model tensors, optimizer tensors (prefix removed), the state and
 * the config it was written with. The caller disposes the tensors. */
export function readTrainCheckpoint(path: string): { model: Map<string, Tensor>; optimizer: Map<string, Tensor>; state: TrainerState; config: string } {
  const { tensors, metadata } = loadTensors(path);
  if (metadata.format !== CHECKPOINT_FORMAT || !metadata.trainer) {
    dispose([...tensors.values()]);
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${path} is not an ahs-seg training checkpoint (no trainer state in its header); to start a new run from its weights set MODEL.WEIGHTS instead of --resume`);
  }
  const model = new Map<string, Tensor>();
  const optimizer = new Map<string, Tensor>();
  const opt = `${TRAINER_STATE_PREFIX}optimizer.`;
  for (const [k, t] of tensors) {
    if (k.startsWith(opt)) optimizer.set(k.slice(opt.length), t);
    else model.set(k, t);
  }
  let state: TrainerState;
  try {
    state = JSON.parse(metadata.trainer) as TrainerState;
  } catch (err) {
    dispose([...tensors.values()]);
    throw new AhsError('AHS_ERR_FILE_FORMAT', `${path}: the trainer state in the header is not valid JSON`, { cause: err });
  }
  return { model, optimizer, state, config: metadata.config ?? '' };
}
