// The non-tensor part of an exact resume: iteration, seed, optimizer settings, the default
// generators' states and the loader's position, to and from a checkpoint.
import { AhsError } from '../../errors.js';
import { AdamW, type AdamWStateDict } from '../../optim/index.js';
import type { SGDStateDict } from '../../optim/sgd.js';
import { engineInfo, rngState, setRngState } from '../../tensor/index.js';
import type { Optimizer } from './build_optimizer.js';
import type { RankState, TrainerState, readTrainCheckpoint } from './checkpointer.js';

function devices(): string[] {
  const info = engineInfo();
  return ['cpu', ...Array.from({ length: info.cudaAvailable ? info.cudaDeviceCount : 0 }, (_, i) => `cuda:${i}`)];
}

/** This process's part of the state: its generators and its loader's position. */
export function rankState(loader: unknown): RankState {
  const rng: Record<string, string> = {};
  for (const d of devices()) rng[d] = Buffer.from(rngState(d)).toString('base64');
  return { rng, loader };
}

/** The state to checkpoint; `ranks` holds every process's part (by rank) in a data-parallel run,
 * rank 0's is also stored as the single-process fields. */
export function trainerState(iteration: number, seed: number, optimizer: Optimizer, loader: unknown, ranks?: RankState[]): TrainerState {
  const own = ranks?.[0] ?? rankState(loader);
  return {
    iteration, seed, loader: own.loader, rng: own.rng,
    optimizer: { kind: optimizer instanceof AdamW ? 'AdamW' : 'SGD', meta: optimizer.stateDict().meta },
    ...(ranks && ranks.length > 1 ? { ranks } : {}),
  };
}

/** The part of a saved state that belongs to `rank` of `worldSize`; the run must have as many
 * processes as the one that saved it, because each one's data stream is its own shard. */
export function savedRankState(saved: ReturnType<typeof readTrainCheckpoint>, path: string, rank: number, worldSize: number): RankState {
  const { state } = saved;
  const savedWorld = state.ranks?.length ?? 1;
  if (savedWorld !== worldSize) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${path} was written by a run of ${savedWorld} process${savedWorld === 1 ? '' : 'es'}, this one has ${worldSize}: resume it with ${savedWorld === 1 ? 'one process' : `--num-workers ${savedWorld} (or as many GPUs or machines x processes)`}, since each process's data stream is its own shard of the shuffled stream`);
  }
  return state.ranks?.[rank] ?? { rng: state.rng, loader: state.loader };
}

/** Restores optimizer and generators; returns the iteration the checkpoint finished. */
export function restoreTrainerState(saved: ReturnType<typeof readTrainCheckpoint>, optimizer: Optimizer, own: RankState = { rng: saved.state.rng, loader: saved.state.loader }): number {
  const { state } = saved;
  const kind = optimizer instanceof AdamW ? 'AdamW' : 'SGD';
  if (state.optimizer.kind !== kind) {
    throw new AhsError('AHS_ERR_STATE_DICT', `the checkpoint was trained with ${state.optimizer.kind}, the config asks for ${kind} (SOLVER.OPTIMIZER)`);
  }
  if (optimizer instanceof AdamW) optimizer.loadStateDict({ meta: state.optimizer.meta as AdamWStateDict['meta'], tensors: saved.optimizer });
  else optimizer.loadStateDict({ meta: state.optimizer.meta as SGDStateDict['meta'], tensors: saved.optimizer });
  const here = devices();
  for (const [d, b64] of Object.entries(own.rng)) if (here.includes(d)) setRngState(new Uint8Array(Buffer.from(b64, 'base64')), d);
  return state.iteration;
}
