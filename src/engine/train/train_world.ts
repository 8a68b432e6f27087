// The processes of a training run as run_train sees them: one process (no group at all), or the
// rank of a launched data-parallel run with its c10d group (DIST.TIMEOUT bounds every wait,
// DIST.BUCKET_CAP_MB sizes the gradient buckets). Rank 0 is the main process: the only one that
// writes logs, metrics, plots and checkpoints.
import type { AhsConfig } from '../../config/index.js';
import { DataParallel } from '../../distributed/data_parallel.js';
import type { DistEnv } from '../../distributed/dist_env.js';
import { allGatherJson, checkSameOnAllRanks } from '../../distributed/gather_json.js';
import { ProcessGroup } from '../../distributed/process_group.js';
import { isLoopback, openStore, parseDistUrl, type Store } from '../../distributed/rendezvous.js';
import type { SemSegEvaluatorState } from '../../eval/sem_seg_evaluator.js';
import type { Device } from '../../tensor/index.js';

export interface TrainWorld {
  rank: number;
  worldSize: number;
  /** Processes on this machine (they share its memory). */
  localWorldSize: number;
  isMain: boolean;
  /** Where this process's model and batches live: MODEL.DEVICE alone, one CUDA device per
   * process by local rank under NCCL, the CPU under Gloo. */
  device: Device;
  /** Gradient averaging and state broadcast; null with one process. */
  dp: DataParallel | null;
  /** Every rank's value, by rank. */
  allGather<T>(value: T, what: string): Promise<T[]>;
  /** Fails on every rank unless all hold the same value. */
  checkSame(value: unknown, what: string, hint?: string): Promise<void>;
  /** The evaluator's shard, for evaluateDataset. */
  evalShard(): { rank: number; worldSize: number; allGather(s: SemSegEvaluatorState): Promise<SemSegEvaluatorState[]> } | undefined;
  /** After a successful run: waits for every rank, then releases the group. */
  close(): Promise<void>;
  /** After a failure: releases what can be released without waiting for the others. */
  abandon(): void;
}

export function singleProcess(device: Device = 'cpu'): TrainWorld {
  return {
    rank: 0, worldSize: 1, localWorldSize: 1, isMain: true, device, dp: null,
    allGather: async (v) => [v],
    checkSame: async () => undefined,
    evalShard: () => undefined,
    close: async () => undefined,
    abandon: () => undefined,
  };
}

/** Joins the run's group: the store at d.url, then the process group (both within DIST.TIMEOUT). */
export async function joinTrainWorld(d: DistEnv, cfg: AhsConfig): Promise<TrainWorld> {
  const timeoutMs = cfg.DIST.TIMEOUT * 1000;
  const rendezvous = parseDistUrl(d.url, 'AHS_SEG_DIST_URL');
  const store: Store = await openStore(rendezvous, { rank: d.rank, worldSize: d.worldSize, timeoutMs, timeoutKey: 'DIST.TIMEOUT' });
  let group: ProcessGroup;
  const device: Device = d.backend === 'nccl' ? `cuda:${d.localRank}` : 'cpu'; // one CUDA device per process, by local rank
  try {
    group = await ProcessGroup.init(store, {
      rank: d.rank, worldSize: d.worldSize, backend: d.backend, timeoutMs, timeoutKey: 'DIST.TIMEOUT', device,
      ...(process.env.GLOO_SOCKET_IFNAME ? { iface: process.env.GLOO_SOCKET_IFNAME } : isLoopback(rendezvous) ? { hostname: '127.0.0.1' } : {}),
    });
  } catch (err) {
    store.close();
    throw err;
  }
  const dp = new DataParallel(group, cfg.DIST.BUCKET_CAP_MB * 2 ** 20);
  return {
    rank: d.rank, worldSize: d.worldSize, localWorldSize: d.localWorldSize, isMain: d.rank === 0, device, dp,
    allGather: (v, what) => allGatherJson(group, v, what),
    checkSame: (v, what, hint) => checkSameOnAllRanks(group, v, what, hint),
    evalShard: () => ({ rank: d.rank, worldSize: d.worldSize, allGather: (s) => allGatherJson(group, s, 'the evaluation counts') }),
    async close() {
      await group.barrier('end of the run'); // rank 0 serves the store: it must not leave first
      group.destroy();
      store.close();
    },
    abandon() {
      group.destroy();
    },
  };
}
