// The launcher's options, as detectron2's launch(): how many processes on this machine, which
// backend, where they meet and how many threads each gets. Pure, so every refusal is testable.
import { cpus } from 'node:os';
import { AhsError } from '../errors.js';
import type { Backend } from './process_group.js';
import { parseDistUrl } from './rendezvous.js';

export interface LaunchRequest {
  /** Processes per machine, one per CUDA device (detectron2's --num-gpus). */
  numGpus?: number;
  /** Processes per machine on the CPU. */
  numWorkers?: number;
  numMachines?: number;
  machineRank?: number;
  /** tcp://HOST:PORT, file:///path, or 'auto' (a free local port; one machine only). */
  distUrl?: string;
}

export interface LaunchPlan {
  localWorldSize: number;
  numMachines: number;
  machineRank: number;
  worldSize: number;
  backend: Backend;
  /** 'auto' is resolved by the launcher (it picks the port). */
  url: string;
  /** Intra-op threads per process (CPU: this machine's cores split between its processes). */
  threadsPerProcess: number | null;
}

export interface MachineFacts {
  cudaAvailable: boolean;
  cudaDeviceCount: number;
  backends: Backend[];
  cores?: number;
}

export function planLaunch(r: LaunchRequest, m: MachineFacts): LaunchPlan {
  const bad = (msg: string): never => { throw new AhsError('AHS_ERR_INVALID_ARGUMENT', msg); };
  const gpus = r.numGpus ?? 1;
  const workers = r.numWorkers;
  if (workers !== undefined && r.numGpus !== undefined && r.numGpus > 1) bad(`--num-workers ${workers} and --num-gpus ${r.numGpus}: give one of them (--num-workers: CPU processes, --num-gpus: one process per CUDA device)`);
  const numMachines = r.numMachines ?? 1;
  const machineRank = r.machineRank ?? 0;
  if (machineRank >= numMachines) bad(`--machine-rank ${machineRank} must be below --num-machines ${numMachines} (machines are numbered 0..${numMachines - 1})`);
  const onGpus = workers === undefined && gpus > 1;
  if (onGpus) {
    if (!m.cudaAvailable) throw new AhsError('AHS_ERR_DEVICE', `--num-gpus ${gpus}: the linked libtorch sees no CUDA device (a CPU build, or no driver); train CPU processes with --num-workers ${gpus}, or build against a CUDA libtorch (LIBTORCH=..., npm run build:native)`);
    if (m.cudaDeviceCount < gpus) throw new AhsError('AHS_ERR_DEVICE', `--num-gpus ${gpus}: this machine has ${m.cudaDeviceCount} CUDA device${m.cudaDeviceCount === 1 ? '' : 's'}`);
    if (!m.backends.includes('nccl')) throw new AhsError('AHS_ERR_DEVICE', `--num-gpus ${gpus}: the native addon was built without NCCL (nccl.h not found when it was built); install NCCL's headers and rebuild (npm run build:native)`);
  }
  const localWorldSize = onGpus ? gpus : (workers ?? 1);
  const worldSize = localWorldSize * numMachines;
  let url = r.distUrl ?? 'auto';
  if (url === 'auto') {
    if (numMachines > 1) bad(`--dist-url auto works on one machine only; with --num-machines ${numMachines} give tcp://HOST:PORT of machine 0 (the same on every machine)`);
  } else {
    const parsed = parseDistUrl(url);
    if (parsed.kind === 'file' && numMachines > 1) bad(`--dist-url ${url}: a file store needs a filesystem every machine shares; with several machines prefer tcp://HOST:PORT of machine 0`);
    url = r.distUrl!;
  }
  const backend: Backend = onGpus ? 'nccl' : 'gloo';
  if (worldSize > 1 && !m.backends.includes(backend)) throw new AhsError('AHS_ERR_DEVICE', `the native addon was built without ${backend} (it has: ${m.backends.join(', ') || 'none'}); install libgloo-dev and rebuild (npm run build:native)`);
  const cores = m.cores ?? cpus().length;
  const threadsPerProcess = onGpus || localWorldSize === 1 ? null : Math.max(1, Math.floor(cores / localWorldSize));
  return { localWorldSize, numMachines, machineRank, worldSize, backend, url, threadsPerProcess };
}
