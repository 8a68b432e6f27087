// The non-tensor part of an exact resume: iteration, seed, optimizer settings, the default
// generators' states and the loader's position, to and from a checkpoint.
import { AhsError } from '../../errors.js';
import { AdamW, type AdamWStateDict } from '../../optim/index.js';
import type { SGDStateDict } from '../../optim/sgd.js';
import { engineInfo, rngState, setRngState } from '../../tensor/index.js';
import type { Optimizer } from './build_optimizer.js';
import type { TrainerState, readTrainCheckpoint } from './checkpointer.js';

function devices(): string[] {
  const info = engineInfo();
  return ['cpu', ...Array.from({ length: info.cudaAvailable ? info.cudaDeviceCount : 0 }, (_, i) => `cuda:${i}`)];
}

export function trainerState(iteration: number, seed: number, optimizer: Optimizer, loader: unknown): TrainerState {
  const rng: Record<string, string> = {};
  for (const d of devices()) rng[d] = Buffer.from(rngState(d)).toString('base64');
  return {
    iteration, seed, loader, rng,
    optimizer: { kind: optimizer instanceof AdamW ? 'AdamW' : 'SGD', meta: optimizer.stateDict().meta },
  };
}

/** Restores optimizer and generators; returns the iteration the checkpoint finished. */
export function restoreTrainerState(saved: ReturnType<typeof readTrainCheckpoint>, optimizer: Optimizer): number {
  const { state } = saved;
  const kind = optimizer instanceof AdamW ? 'AdamW' : 'SGD';
  if (state.optimizer.kind !== kind) {
    throw new AhsError('AHS_ERR_STATE_DICT', `the checkpoint was trained with ${state.optimizer.kind}, the config asks for ${kind} (SOLVER.OPTIMIZER)`);
  }
  if (optimizer instanceof AdamW) optimizer.loadStateDict({ meta: state.optimizer.meta as AdamWStateDict['meta'], tensors: saved.optimizer });
  else optimizer.loadStateDict({ meta: state.optimizer.meta as SGDStateDict['meta'], tensors: saved.optimizer });
  const here = devices();
  for (const [d, b64] of Object.entries(state.rng)) if (here.includes(d)) setRngState(new Uint8Array(Buffer.from(b64, 'base64')), d);
  return state.iteration;
}
