// What the launcher tells each process it starts (torch.distributed's RANK / WORLD_SIZE /
// LOCAL_RANK / MASTER_ADDR, under our own names): its rank, the world, and where to meet.
import { AhsError } from '../errors.js';
import type { Backend } from './process_group.js';

export interface DistEnv {
  /** Global rank, 0..worldSize-1 (machineRank * localWorldSize + localRank). */
  rank: number;
  worldSize: number;
  /** Rank on this machine (the CUDA device index with --num-gpus). */
  localRank: number;
  localWorldSize: number;
  /** tcp://HOST:PORT or file:///path. */
  url: string;
  backend: Backend;
}

export const DIST_ENV_VARS = {
  rank: 'AHS_SEG_RANK',
  worldSize: 'AHS_SEG_WORLD_SIZE',
  localRank: 'AHS_SEG_LOCAL_RANK',
  localWorldSize: 'AHS_SEG_LOCAL_WORLD_SIZE',
  url: 'AHS_SEG_DIST_URL',
  backend: 'AHS_SEG_DIST_BACKEND',
} as const;

/** The variables a launched process gets. */
export function distEnvVars(d: DistEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, name] of Object.entries(DIST_ENV_VARS)) out[name] = String(d[k as keyof DistEnv]);
  return out;
}

/** This process's place in a launched run, or null when it was not started by the launcher. */
export function distEnvFrom(env: NodeJS.ProcessEnv = process.env): DistEnv | null {
  if (env[DIST_ENV_VARS.rank] === undefined) return null;
  const int = (k: keyof typeof DIST_ENV_VARS): number => {
    const raw = env[DIST_ENV_VARS[k]];
    const v = Number(raw);
    if (raw === undefined || raw === '' || !Number.isInteger(v) || v < 0) {
      throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${DIST_ENV_VARS[k]} must be a non-negative integer (set by the launcher), got '${raw ?? ''}'`);
    }
    return v;
  };
  const d: DistEnv = {
    rank: int('rank'), worldSize: int('worldSize'), localRank: int('localRank'), localWorldSize: int('localWorldSize'),
    url: env[DIST_ENV_VARS.url] ?? '',
    backend: (env[DIST_ENV_VARS.backend] ?? 'gloo') as Backend,
  };
  if (!(d.worldSize >= 1 && d.rank < d.worldSize && d.localRank < d.localWorldSize)) {
    throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `launcher variables are inconsistent: rank ${d.rank} of ${d.worldSize}, local rank ${d.localRank} of ${d.localWorldSize}`);
  }
  if (d.backend !== 'gloo' && d.backend !== 'nccl') throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `${DIST_ENV_VARS.backend} must be gloo or nccl, got '${d.backend}'`);
  return d;
}
